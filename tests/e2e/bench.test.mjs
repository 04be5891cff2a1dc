// The bench page: it says which build and kernel run, lists the CPU backends of that build, and
// its measurements come back well-formed from every backend (a small matmul that is also checked
// against JavaScript, and the model benchmarks). Timing is reported, never asserted: speed lives in
// `cargo xtask bench`.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { launch, open, SITE, SITE_NOCOI } from './lib.mjs';

let browser;
before(async () => { browser = await launch(); });
after(async () => { await browser?.close(); });

for (const [name, url, cpu] of [['threaded', SITE, ['scalar', 'simd128', 'threads']], ['single-thread', SITE_NOCOI, ['scalar', 'simd128']]]) {
  test(`bench page, ${name} build: facts, and each backend's measurements are well-formed`, async () => {
    const { page, context, problems } = await open(browser, `${url}bench.html`);
    await page.waitForFunction(() => /kernel/.test(document.querySelector('[data-fact="build"]')?.textContent ?? ''), null, { timeout: 30000 });
    assert.match(await page.textContent('[data-fact="build"]'), /kernel wasm simd128 \+ relaxed madd/);
    assert.equal(await page.textContent('[data-fact="cpu"]'), cpu.join(', '));
    const r = await page.evaluate(async (backends) => {
      const { Engine } = await import('./js/engine.js');
      const e = await Engine.start();
      const out = { matmul: [], model: [] };
      for (const backend of backends) {
        out.matmul.push(await e.call('bench', { kind: 'matmul', backend, op: 'forward', m: 33, k: 65, n: 17, samples: 3, minSampleMs: 2 }));
      }
      const fast = backends.at(-1);
      out.model.push(await e.call('bench', { kind: 'forward', backend: fast, samples: 2 }));
      out.model.push(await e.call('bench', { kind: 'generate', backend: fast, tokens: 20, samples: 2 }));
      out.check = await e.call('matmulCheck', { m: 33, k: 65, n: 17 });
      e.terminate();
      return out;
    }, cpu);
    for (const m of r.matmul) {
      assert.deepEqual([m.m, m.k, m.n], [33, 65, 17]);
      assert.ok(m.median_ms > 0 && m.min_ms <= m.median_ms && m.median_ms <= m.max_ms, JSON.stringify(m));
      assert.ok(Math.abs(m.gflops - (2 * 33 * 65 * 17) / m.median_ms / 1e6) < 1e-6 * m.gflops + 1e-9, `GFLOPS = 2MNK / time: ${JSON.stringify(m)}`);
    }
    for (const m of r.model) assert.ok(m.median_ms > 0 && m.tokens_per_s > 0, JSON.stringify(m));
    assert.ok(r.check.maxDiff < 1e-4, `wasm vs JS: ${r.check.maxDiff}`);
    console.log(`${name}: ${r.matmul.map((m) => `${m.backend} ${m.gflops.toFixed(1)} GFLOPS`).join(', ')} at 33×65×17; forward ${r.model[0].median_ms.toFixed(1)} ms; generation ${r.model[1].tokens_per_s.toFixed(0)} tok/s`);
    assert.deepEqual(problems, []);
    await context.close();
  });
}

// The page's own run, every step of it on small sizes (`#quick=1`): each table fills, every figure
// is a positive number, and the threaded build's "threads ÷ one" rounds give each size a ratio
// that is the median of its rounds' ratios (the single-thread build has no such section).
for (const [name, url, cpu] of [['threaded', SITE, ['scalar', 'simd128', 'threads']], ['single-thread', SITE_NOCOI, ['scalar', 'simd128']]]) {
  test(`bench page, ${name} build: a whole run (#auto=1&quick=1) fills every table`, async () => {
    const { page, context, problems } = await open(browser, `${url}bench.html#auto=1&quick=1`);
    await page.waitForFunction(() => document.body.dataset.benchDone === 'true', null, { timeout: 180000 });
    const r = await page.evaluate(() => window.benchResult);
    assert.equal(r.error, undefined, r.error);
    assert.match(await page.textContent('#status'), /^done \(a quick run/);
    // 2 square sizes, 5 layer shapes forward and 1 backward, on every CPU backend; WebGPU adds its
    // 7 forward rows where the page found an adapter.
    const gpu = r.webgpu ? 7 : 0;
    assert.equal(r.matmul.length, 8 * cpu.length + gpu, JSON.stringify(r.matmul.map((m) => [m.label, m.backend])));
    for (const m of r.matmul) assert.ok(Number.isFinite(m.gflops) && m.gflops > 0, JSON.stringify(m));
    const fast = cpu.filter((b) => b !== 'scalar');
    assert.deepEqual(r.model.map((m) => `${m.kind} ${m.backend}`), fast.flatMap((b) => ['train', 'forward', 'generate'].map((k) => `${k} ${b}`)));
    for (const m of r.model) assert.ok(m.median_ms > 0 && m.tokens_per_s > 0, JSON.stringify(m));
    assert.equal(await page.locator('#model-table tbody tr').count(), r.model.length);
    if (cpu.includes('threads')) {
      assert.deepEqual(r.scaling.map((s) => s.n), [64, 128]);
      for (const s of r.scaling) {
        assert.equal(s.ratio.length, 3);
        s.ratio.forEach((x, i) => assert.ok(Math.abs(x - s.threads[i] / s.one[i]) < 1e-12 && x > 0, JSON.stringify(s)));
        assert.equal(s.ratio_median, [...s.ratio].sort((a, b) => a - b)[1]);
      }
      assert.ok(await page.isVisible('#scaling'));
      assert.equal(await page.locator('#scaling-table tbody tr').count(), 2);
      assert.match(await page.textContent('#scaling-h'), /^\d+ threads ÷ one$/);
    } else {
      assert.equal(r.scaling, undefined);
      assert.ok(await page.isHidden('#scaling'));
    }
    assert.deepEqual(problems, []);
    await context.close();
  });
}
