// Reads what tests/bench/run.mjs collected and says where each of issue #4's speed targets
// (matmul against TensorFlow.js, two threads against one, the tiny GPT's step, forward and
// generation) stands in this run: one markdown table (target, what this run measured, met or
// not). The wasm sizes, the first generated character and WebGPU are checked elsewhere (the
// build, the end-to-end tests). Pure functions of the report, so the verdicts are tested without
// a browser (tests/e2e/bench-summary.test.mjs).
//
//   node tests/bench/summary.mjs [results.json]   prints the table of a saved run

import fs from 'node:fs';
import { pathToFileURL } from 'node:url';

/** The targets, as issue #4 and the brief state them. */
export const TARGETS = {
  ratioVsTfjs: 1.0, // simd128 one thread ÷ TensorFlow.js's WASM backend at n = 256, 512, 1024
  threadsOverOne: 1.8, // two threads ÷ one at n ≥ 512
  stepOneMs: 250, // training step, B = 16, one thread
  stepTwoMs: 150, // the same on two threads
  forwardMs: 2, // 1 × 128 forward
  generateTokS: 7000, // KV-cached generation
};

const SIZES = [256, 512, 1024];

/** The largest multiple of 10^-d that is ≤ x (so a figure shown never exceeds what was measured). */
function floorTo(x, d) {
  const u = 10 ** d;
  let v = Math.floor(x * u);
  if (v / u > x) v -= 1; // x · u rounded up across an integer
  else if ((v + 1) / u <= x) v += 1; // ... or down
  return v / u;
}

/** The smallest multiple of 10^-d that is ≥ x. */
const ceilTo = (x, d) => -floorTo(-x, d);

// Shown rounded towards failing the target, so a figure never reads as met when it is not:
// ratios and rates down (0.998 shows as 0.99, not 1.00), times up (150.04 ms as 150.1).
const ratio = (x) => (Number.isFinite(x) ? floorTo(x, 2).toFixed(2) : String(x));
const rate = (x) => (Number.isFinite(x) ? floorTo(x, 0).toLocaleString('en-US') : String(x));
const ms = (x) => (Number.isFinite(x) ? ceilTo(x, 1).toFixed(1) : String(x));
// Only a real measurement (finite and positive) can meet a target.
const real = (x) => Number.isFinite(x) && x > 0;

/** The bench-page runs of a report (each build's page), by name, skipping failed ones. */
function pages(report) {
  return Object.entries(report.runs ?? {}).filter(([name, r]) => ['simd128', 'relaxed', 'threads', 'threads-relaxed'].includes(name) && r && !r.error);
}

/** A model row (`kind` train | forward | generate) of a bench-page run on `backend`. */
const modelRow = (run, kind, backend) => (run.model ?? []).find((m) => m.kind === kind && m.backend === backend);

/**
 * One line per target: { target, measured, met }. `measured` lists every figure of this run
 * behind the target ("run: value"); `met` is true when every counted figure meets it, false when
 * one does not, null when the run measured none or not all it needs (that part was not run, or
 * failed). Figures of a pool that is not two threads (another machine) are listed but not
 * counted for the two-thread targets.
 */
export function summarize(report, targets = TARGETS) {
  const rows = [];
  // figures: { value, text, counts = true }; complete: whether every figure the target needs is there.
  const line = (target, figures, ok, complete = true) => {
    const counted = figures.filter((f) => f.counts !== false);
    rows.push({
      target,
      measured: figures.length ? figures.map((f) => f.text).join('; ') : 'not measured in this run',
      met: counted.length && complete ? counted.every((f) => real(f.value) && ok(f.value)) : null,
    });
  };

  // simd128 ÷ TensorFlow.js (pair.html: both alternated in one page; the median of the rounds).
  for (const [name, label] of [['pair', 'simd128'], ['pair-relaxed', 'simd128 + relaxed SIMD']]) {
    const run = report.runs?.[name];
    const figures = [];
    for (const n of SIZES) {
      const row = run && !run.error ? (run.results ?? []).find((x) => x.n === n) : null;
      if (!row) continue;
      const spread = row.ratio?.length ? ` (rounds ${ratio(Math.min(...row.ratio))}–${ratio(Math.max(...row.ratio))})` : '';
      figures.push({ value: row.ratio_median, text: `n = ${n}: ${ratio(row.ratio_median)}${spread}` });
    }
    const complete = figures.length === SIZES.length;
    if (figures.length && !complete) figures.push({ value: NaN, counts: false, text: `(not every n of ${SIZES.join(', ')} measured)` });
    line(`${label}, one thread, ÷ TensorFlow.js WASM ≥ ${targets.ratioVsTfjs} at n = ${SIZES.join(', ')}`, figures, (v) => v >= targets.ratioVsTfjs, complete);
  }

  // Threads ÷ one thread: the bench page's alternated rounds, and par.html's threaded build
  // (always two threads there) against one worker alone; then the machine's own bound.
  const par = report.runs?.par && !report.runs.par.error ? report.runs.par : null;
  const scaling = [];
  for (const [name, run] of pages(report)) {
    for (const s of run.scaling ?? []) {
      if (s.n < 512) continue;
      const two = run.threads === 2;
      scaling.push({ value: s.ratio_median, counts: two, text: `${name}${two ? '' : ` (${run.threads} threads, not counted)`} n = ${s.n}: ${ratio(s.ratio_median)}` });
    }
  }
  for (const build of par?.threads_builds ?? []) {
    for (const x of (par.results ?? []).filter((r) => r.n >= 512)) {
      const v = x.ratio_median?.[build];
      if (v !== undefined) scaling.push({ value: v, text: `par.html ${build} n = ${x.n}: ${ratio(v)}` });
    }
  }
  line(`two threads ÷ one ≥ ${targets.threadsOverOne} at n ≥ 512`, scaling, (v) => v >= targets.threadsOverOne);
  if (par) {
    const figures = (par.results ?? []).filter((x) => x.n >= 512).map((x) => ({ value: x.ratio_median?.together, text: `n = ${x.n}: ${ratio(x.ratio_median?.together)}` }));
    line(`(the machine's bound: two independent one-thread workers ÷ one alone ≥ ${targets.threadsOverOne})`, figures, (v) => v >= targets.threadsOverOne);
  }

  // The tiny GPT: one thread is the simd128 backend of any page, two the threads backend of a
  // page whose pool has two threads.
  const model = (kind, backend, value, text) => pages(report).flatMap(([name, run]) => {
    const m = modelRow(run, kind, backend);
    if (!m) return [];
    const two = backend !== 'threads' || run.threads === 2;
    const who = backend !== 'threads' ? 'one thread' : run.threads === 2 ? 'two' : `${run.threads} threads, not counted:`;
    return [{ value: value(m), counts: two, text: `${name}: ${who} ${text(m)}` }];
  });
  const stepMs = (m) => m.median_ms;
  const msText = (m) => `${ms(m.median_ms)} ms`;
  line(`training step, B = 16, one thread ≤ ${targets.stepOneMs} ms`, model('train', 'simd128', stepMs, msText), (v) => v <= targets.stepOneMs);
  line(`training step, B = 16, two threads ≤ ${targets.stepTwoMs} ms`, model('train', 'threads', stepMs, msText), (v) => v <= targets.stepTwoMs);
  line(`forward 1 × 128 ≤ ${targets.forwardMs} ms`, [...model('forward', 'simd128', stepMs, msText), ...model('forward', 'threads', stepMs, msText)], (v) => v <= targets.forwardMs);
  const tokS = (m) => m.tokens_per_s;
  const gen = [...model('generate', 'simd128', tokS, (m) => rate(m.tokens_per_s)), ...model('generate', 'threads', tokS, (m) => rate(m.tokens_per_s))];
  line(`KV-cached generation ≥ ${rate(targets.generateTokS)} tokens/s`, gen, (v) => v >= targets.generateTokS);
  return rows;
}

/** The rows as a markdown table. */
export function formatTable(rows) {
  const cell = (s) => String(s).replaceAll('|', '\\|');
  const verdict = (met) => (met === null ? '–' : met ? 'met' : 'not met');
  return ['| target | measured in this run | |', '|---|---|---|', ...rows.map((r) => `| ${cell(r.target)} | ${cell(r.measured)} | ${verdict(r.met)} |`)].join('\n');
}

/** Run-wide facts worth printing above the table: the browser, the date, failed runs. */
export function header(report) {
  const failed = Object.entries(report.runs ?? {}).filter(([, r]) => r?.error).map(([name, r]) => `${name} (${r.error})`);
  return [`Chromium ${report.chromium ?? '?'}, ${report.date ?? '?'}`, ...(failed.length ? [`failed: ${failed.join('; ')}`] : [])].join('\n');
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const file = process.argv[2] ?? new URL('./results.json', import.meta.url);
  const report = JSON.parse(fs.readFileSync(file, 'utf8'));
  console.log(`${header(report)}\n\n${formatTable(summarize(report))}`);
}
