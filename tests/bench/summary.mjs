// Reads what tests/bench/run.mjs collected and says where each of issue #4's speed targets
// stands in this run: one markdown table (target, what this run measured, met or not), the
// README's "Where the targets stand" in one command. Pure functions of the report, so the
// verdicts are tested without a browser (tests/e2e/bench-summary.test.mjs).
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
const median = (xs) => [...xs].sort((a, b) => a - b)[xs.length >> 1];
// Shown rounded towards failing the target, so a figure never reads as met when it is not
// (a ratio of 0.998 shows as 0.99, not 1.00; 150.04 ms as 150.1).
const f2 = (x) => (Math.floor(x * 100) / 100).toFixed(2);
const f0 = (x) => Math.floor(x).toLocaleString('en-US');
const ms = (x) => (Math.ceil(x * 10) / 10).toFixed(1);

/** The bench-page runs of a report (each build's page), by name, skipping failed ones. */
function pages(report) {
  return Object.entries(report.runs ?? {}).filter(([name, r]) => ['simd128', 'relaxed', 'threads', 'threads-relaxed'].includes(name) && r && !r.error);
}

/** A model row (`kind` train | forward | generate) of a bench-page run on `backend`. */
const modelRow = (run, kind, backend) => (run.model ?? []).find((m) => m.kind === kind && m.backend === backend);

/**
 * One line per target: { target, measured, met }. `measured` lists every figure of this run
 * behind the verdict ("run: value"); `met` is true when every one of them meets the target,
 * false when one does not, null when the run measured none (that part was not run, or failed).
 */
export function summarize(report, targets = TARGETS) {
  const rows = [];
  const line = (target, figures, ok) => rows.push({
    target,
    measured: figures.length ? figures.map((f) => f.text).join('; ') : 'not measured in this run',
    met: figures.length ? figures.every(ok) : null,
  });

  // simd128 ÷ TensorFlow.js (pair.html: both alternated in one page; the median of the rounds).
  for (const [name, label] of [['pair', 'simd128'], ['pair-relaxed', 'simd128 + relaxed SIMD']]) {
    const run = report.runs?.[name];
    const figures = [];
    for (const n of SIZES) {
      const row = run && !run.error ? (run.results ?? []).find((x) => x.n === n) : null;
      if (row) figures.push({ value: row.ratio_median, text: `n = ${n}: ${f2(row.ratio_median)} (rounds ${f2(Math.min(...row.ratio))}–${f2(Math.max(...row.ratio))})` });
    }
    line(`${label}, one thread, ÷ TensorFlow.js WASM ≥ ${f2(targets.ratioVsTfjs)} at n = ${SIZES.join(', ')}`, figures, (f) => f.value >= targets.ratioVsTfjs);
  }

  // Threads ÷ one thread (the bench page's alternated rounds), and the machine's own bound.
  const scaling = [];
  for (const [name, run] of pages(report)) {
    for (const s of run.scaling ?? []) {
      if (s.n >= 512) scaling.push({ value: s.ratio_median, text: `${name} n = ${s.n}: ${f2(s.ratio_median)}` });
    }
  }
  line(`two threads ÷ one ≥ ${targets.threadsOverOne} at n ≥ 512`, scaling, (f) => f.value >= targets.threadsOverOne);
  const par = report.runs?.par;
  if (par && !par.error) {
    const figures = (par.results ?? []).filter((x) => x.n >= 512).map((x) => ({ value: x.ratio_median.together, text: `n = ${x.n}: ${f2(x.ratio_median.together)}` }));
    line(`(the machine's bound: two independent one-thread workers ÷ one alone ≥ ${targets.threadsOverOne})`, figures, (f) => f.value >= targets.threadsOverOne);
  }

  // The tiny GPT: one thread is the simd128 backend of any page, two the threads backend.
  const model = (kind, backend, value, text) => pages(report).flatMap(([name, run]) => {
    const m = modelRow(run, kind, backend);
    return m ? [{ value: value(m), text: `${name}: ${text(m)}` }] : [];
  });
  const stepMs = (m) => m.median_ms;
  line(`training step, B = 16, one thread ≤ ${targets.stepOneMs} ms`, model('train', 'simd128', stepMs, (m) => `${ms(m.median_ms)} ms`), (f) => f.value <= targets.stepOneMs);
  line(`training step, B = 16, two threads ≤ ${targets.stepTwoMs} ms`, model('train', 'threads', stepMs, (m) => `${ms(m.median_ms)} ms`), (f) => f.value <= targets.stepTwoMs);
  const forward = [...model('forward', 'simd128', stepMs, (m) => `one thread ${ms(m.median_ms)} ms`), ...model('forward', 'threads', stepMs, (m) => `two ${ms(m.median_ms)} ms`)];
  line(`forward 1 × 128 ≤ ${targets.forwardMs} ms`, forward, (f) => f.value <= targets.forwardMs);
  const tokS = (m) => m.tokens_per_s;
  const gen = [...model('generate', 'simd128', tokS, (m) => `one thread ${f0(m.tokens_per_s)}`), ...model('generate', 'threads', tokS, (m) => `two ${f0(m.tokens_per_s)}`)];
  line(`KV-cached generation ≥ ${f0(targets.generateTokS)} tokens/s`, gen, (f) => f.value >= targets.generateTokS);
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
