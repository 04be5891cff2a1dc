// The benchmark's summary (tests/bench/summary.mjs): each target's verdict from a hand-made
// report, at and around the target's boundary. No browser.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { formatTable, header, summarize } from '../bench/summary.mjs';

const pair = (ratios) => ({ results: [256, 512, 1024].map((n, i) => ({ n, ratio: [ratios[i] - 0.1, ratios[i], ratios[i] + 0.1], ratio_median: ratios[i] })) });
const model = (backend, train, forward, tokS) => [
  { kind: 'train', backend, median_ms: train, tokens_per_s: 2048 / (train / 1e3) },
  { kind: 'forward', backend, median_ms: forward, tokens_per_s: 128 / (forward / 1e3) },
  { kind: 'generate', backend, median_ms: 1e3 / tokS, tokens_per_s: tokS },
];
const byTarget = (rows, start) => {
  const row = rows.find((r) => r.target.startsWith(start));
  assert.ok(row, `no row starting "${start}" in ${rows.map((r) => r.target).join(' / ')}`);
  return row;
};

test('each target is met exactly when every figure of the run meets it', () => {
  const report = {
    chromium: '148',
    date: '2026-12-01',
    runs: {
      pair: pair([1.2, 1.0, 0.99]), // 0.99 at n = 1024: not met
      'pair-relaxed': pair([1.9, 1.7, 1.5]),
      par: {
        threads_builds: ['pkg-threads-relaxed'],
        results: [
          { n: 256, ratio_median: { together: 1.2, 'pkg-threads-relaxed': 1.0 } },
          { n: 512, ratio_median: { together: 1.8, 'pkg-threads-relaxed': 1.85 } },
          { n: 1024, ratio_median: { together: 1.9, 'pkg-threads-relaxed': 1.81 } },
        ],
      },
      relaxed: { model: model('simd128', 250, 2, 7000) }, // every one-thread target exactly at its bound
      'threads-relaxed': {
        threads: 2,
        scaling: [{ n: 256, ratio_median: 1.0 }, { n: 512, ratio_median: 1.85 }, { n: 1024, ratio_median: 1.79 }],
        model: [...model('simd128', 240, 1.9, 7500), ...model('threads', 150.5, 1.5, 9000)],
      },
    },
  };
  const rows = summarize(report);
  const ratio = byTarget(rows, 'simd128, one thread');
  assert.equal(ratio.met, false);
  assert.match(ratio.measured, /n = 1024: 0\.99 \(rounds 0\.89–1\.09\)/);
  assert.equal(byTarget(rows, 'simd128 + relaxed').met, true);
  // n = 256 is not a target size for threads; 1.79 at n = 1024 is below 1.8 (par.html's
  // threaded build, 1.85 and 1.81, is counted too).
  const threads = byTarget(rows, 'two threads ÷ one');
  assert.equal(threads.met, false);
  assert.doesNotMatch(threads.measured, /n = 256/);
  assert.match(threads.measured, /par\.html pkg-threads-relaxed n = 512: 1\.85; par\.html pkg-threads-relaxed n = 1024: 1\.81$/);
  assert.equal(byTarget(rows, '(the machine').met, true); // 1.8 and 1.9 at n ≥ 512; 1.2 at 256 not counted
  // One thread: the relaxed page at the bound (met) and the threaded page's simd128 backend below it.
  const one = byTarget(rows, 'training step, B = 16, one thread');
  assert.equal(one.met, true);
  assert.equal(one.measured, 'relaxed: one thread 250.0 ms; threads-relaxed: one thread 240.0 ms');
  const two = byTarget(rows, 'training step, B = 16, two threads');
  assert.equal(two.met, false); // 150.5 > 150
  assert.equal(two.measured, 'threads-relaxed: two 150.5 ms');
  assert.equal(byTarget(rows, 'forward').met, true);
  assert.equal(byTarget(rows, 'KV-cached').met, true);
  assert.match(byTarget(rows, 'KV-cached').measured, /relaxed: one thread 7,000; threads-relaxed: one thread 7,500; threads-relaxed: two 9,000/);
});

test('a part that was not run, or failed, is not measured: no verdict, and the header names the failure', () => {
  const report = { runs: { pair: { error: 'no node_modules' }, simd128: { error: 'the worker stopped' }, relaxed: { model: model('simd128', 600, 9.5, 6900) } } };
  const rows = summarize(report);
  assert.equal(byTarget(rows, 'simd128, one thread').met, null);
  assert.equal(byTarget(rows, 'simd128, one thread').measured, 'not measured in this run');
  assert.equal(byTarget(rows, 'two threads ÷ one').met, null);
  assert.equal(rows.some((r) => r.target.startsWith('(the machine')), false); // no par run, no row
  assert.equal(byTarget(rows, 'training step, B = 16, one thread').met, false);
  assert.equal(byTarget(rows, 'training step, B = 16, two threads').met, null);
  assert.equal(byTarget(rows, 'KV-cached').met, false);
  assert.match(header(report), /failed: pair \(no node_modules\); simd128 \(the worker stopped\)/);
  const table = formatTable(rows).split('\n');
  assert.equal(table.length, rows.length + 2);
  assert.match(table.find((l) => l.includes('generation')), /\| relaxed: one thread 6,900 \| not met \|$/);
  assert.match(table.find((l) => l.includes('two threads ÷ one')), /\| not measured in this run \| – \|$/);
});

test('a figure just short of its target never reads as met', () => {
  const report = { runs: { pair: pair([1.0, 1.0, 0.998]), relaxed: { model: model('simd128', 250.04, 2.001, 6999.9) } } };
  const rows = summarize(report);
  assert.match(byTarget(rows, 'simd128, one thread').measured, /n = 1024: 0\.99 /);
  assert.match(byTarget(rows, 'simd128, one thread').measured, /n = 512: 1\.00 /);
  assert.equal(byTarget(rows, 'training step, B = 16, one thread').measured, 'relaxed: one thread 250.1 ms');
  assert.equal(byTarget(rows, 'forward').measured, 'relaxed: one thread 2.1 ms');
  assert.equal(byTarget(rows, 'KV-cached').measured, 'relaxed: one thread 6,999');
  assert.ok(rows.filter((r) => r.met !== null).every((r) => r.met === false));
});

test('only a pool of two threads counts for the two-thread targets; every n is needed for the ratio', () => {
  const report = {
    runs: {
      pair: { results: pair([1.2, 1.1, 1.05]).results.slice(0, 2) }, // n = 1024 missing
      threads: { threads: 4, scaling: [{ n: 512, ratio_median: 3.5 }], model: [...model('simd128', 600, 10, 7000), ...model('threads', 140, 3, 12000)] },
    },
  };
  const rows = summarize(report);
  const ratioRow = byTarget(rows, 'simd128, one thread');
  assert.equal(ratioRow.met, null, 'two of three sizes are not a verdict');
  assert.match(ratioRow.measured, /not every n of 256, 512, 1024 measured/);
  const threads = byTarget(rows, 'two threads ÷ one');
  assert.equal(threads.met, null);
  assert.match(threads.measured, /threads \(4 threads, not counted\) n = 512: 3\.50/);
  const two = byTarget(rows, 'training step, B = 16, two threads');
  assert.equal(two.met, null);
  assert.equal(two.measured, 'threads: 4 threads, not counted: 140.0 ms');
  // The one-thread figures of the same page still count.
  assert.equal(byTarget(rows, 'training step, B = 16, one thread').met, false);
  assert.equal(byTarget(rows, 'KV-cached').met, true);
});

test('a figure that is not a real measurement (negative, NaN) never meets a target', () => {
  const report = { runs: { relaxed: { model: [{ kind: 'train', backend: 'simd128', median_ms: -1, tokens_per_s: -2048 }, { kind: 'forward', backend: 'simd128', median_ms: NaN, tokens_per_s: NaN }] } } };
  const rows = summarize(report);
  assert.equal(byTarget(rows, 'training step, B = 16, one thread').met, false);
  assert.equal(byTarget(rows, 'forward').met, false);
  assert.equal(byTarget(rows, 'forward').measured, 'relaxed: one thread NaN ms');
});
