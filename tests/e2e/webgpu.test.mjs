// The playground's WebGPU backend in headless Chromium with --enable-unsafe-webgpu (SwiftShader,
// a software adapter): "auto" leaves it alone (the CPU is faster than a software GPU) and says
// why; chosen explicitly, the attention maps and the next-character distribution come from the
// GPU and agree with the CPU's; a lost device falls back to the CPU with a message, and the
// model keeps generating; the bench page times WebGPU, the shipped model resident on the GPU
// included. No console errors.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { launch, open, screenshot, SITE_NOCOI } from './lib.mjs';

let browser;
before(async () => { browser = await launch({ webgpu: true }); });
after(async () => { await browser?.close(); });

const READY = 'body[data-model="ready"], body[data-model="error"], .banner.error:not([hidden])';
const TEXT = 'ROMEO:\nBut soft, what light through yonder window breaks?\n';

async function openPlayground(hash) {
  const r = await open(browser, `${SITE_NOCOI}index.html${hash}`);
  await r.page.waitForSelector(READY, { timeout: 90000 });
  assert.equal(await r.page.getAttribute('body', 'data-model'), 'ready', r.problems.join('; '));
  return r;
}

const inspect = (page, text) => page.evaluate(async (t) => {
  const r = await globalThis.glassgpt.engine.call('inspect', { text: t });
  return { backend: r.backend, probs: Array.from(r.probs), attention: Array.from(r.attention), t: r.report.t };
}, text);

function maxDiff(a, b) {
  assert.equal(a.length, b.length);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}

test('auto keeps a software adapter off and says why', async () => {
  const { page, context, problems } = await openPlayground('');
  const b = await page.evaluate(() => globalThis.glassgpt.engine.call('backend'));
  assert.notEqual(b.forward, 'webgpu', 'auto must not pick SwiftShader');
  assert.match(b.note, /software adapter/i, b.note);
  assert.match(await page.textContent('#gpu-note'), /software adapter/i);
  assert.deepEqual(problems, []);
  await context.close();
});

test('chosen WebGPU computes the maps and the next character as the CPU does; a lost device falls back', async () => {
  const { page, context, problems } = await openPlayground('#backend=webgpu');
  await page.waitForSelector('#attention[data-backend="webgpu"]', { timeout: 60000 });
  assert.match(await page.textContent('#backend-pill'), /WebGPU/);
  assert.match(await page.textContent('[data-fact="forward"]'), /WebGPU \(.+\)/);

  const gpu = await inspect(page, TEXT);
  assert.equal(gpu.backend, 'webgpu');
  const status = await page.evaluate(() => globalThis.glassgpt.engine.call('setBackend', { want: 'cpu' }));
  assert.notEqual(status.forward, 'webgpu');
  const cpu = await inspect(page, TEXT);
  assert.notEqual(cpu.backend, 'webgpu');
  assert.equal(gpu.t, cpu.t);
  const dp = maxDiff(gpu.probs, cpu.probs);
  const da = maxDiff(gpu.attention, cpu.attention);
  console.log(`WebGPU vs CPU: next-character probabilities max |Δ| ${dp.toExponential(2)}, attention max |Δ| ${da.toExponential(2)} over ${gpu.attention.length} weights`);
  assert.ok(dp < 1e-4 && da < 1e-4, `GPU and CPU disagree: ${dp}, ${da}`);

  // Back to WebGPU, then the device goes away as in a driver reset.
  const again = await page.evaluate(() => globalThis.glassgpt.engine.call('setBackend', { want: 'webgpu' }));
  assert.equal(again.forward, 'webgpu');
  assert.equal(await page.evaluate(() => globalThis.glassgpt.engine.call('loseGpuDevice')), true);
  const after = await inspect(page, TEXT);
  assert.notEqual(after.backend, 'webgpu', 'the inspection after the loss runs on the CPU');
  assert.ok(maxDiff(after.probs, cpu.probs) === 0, 'the CPU model is intact');
  await page.waitForSelector('.banner.warn:not([hidden])', { timeout: 10000 });
  assert.match(await page.textContent('#banner'), /device was lost.*back on the CPU/i);
  await page.waitForFunction(() => document.body.dataset.backend !== 'webgpu');
  assert.doesNotMatch(await page.textContent('#backend-pill'), /WebGPU/);

  // The model still generates.
  const gen = await page.evaluate(() => globalThis.glassgpt.engine.call('generate', { prompt: 'ROMEO:\n', seed: 3, length: 40 }));
  assert.equal([...gen.text].length, 40);
  await screenshot(page, 'playground-webgpu-lost');
  assert.deepEqual(problems, []);
  await context.close();
});

// The bench page with a WebGPU adapter: its quick run (`#quick=1`) times WebGPU's matmul rows
// (capped at 2·256³ FLOPs because SwiftShader is a software adapter) and the shipped model
// resident on the GPU: a training step and a forward pass, as the pages use it. Timing is
// reported, never asserted.
test('bench page: WebGPU matmul rows and the shipped model resident on the GPU', async () => {
  const { page, context, problems } = await open(browser, `${SITE_NOCOI}bench.html#auto=1&quick=1`);
  await page.waitForFunction(() => document.body.dataset.benchDone === 'true', null, { timeout: 240000 });
  const r = await page.evaluate(() => window.benchResult);
  assert.equal(r.error, undefined, r.error);
  assert.ok(r.webgpu, 'the page found an adapter');
  assert.equal(r.webgpuSoftware, true, `SwiftShader is a software adapter: ${r.webgpu}`);
  assert.match(await page.textContent('[data-fact="webgpu"]'), /software adapter/);
  const gpuMatmul = r.matmul.filter((m) => m.backend === 'webgpu');
  assert.equal(gpuMatmul.length, 7, JSON.stringify(gpuMatmul.map((m) => m.label)));
  for (const m of gpuMatmul) assert.ok(Number.isFinite(m.gflops) && m.gflops > 0, JSON.stringify(m));
  const gpuModel = r.model.filter((m) => m.backend === 'webgpu');
  assert.deepEqual(gpuModel.map((m) => m.kind), ['train', 'forward']);
  assert.match(gpuModel[0].what, /^train step B=2 T=128 \(resident/);
  assert.match(gpuModel[1].what, /^forward 1x128 \(resident/);
  for (const m of gpuModel) {
    assert.ok(m.median_ms > 0 && m.min_ms <= m.median_ms && m.median_ms <= m.max_ms, JSON.stringify(m));
    assert.ok(Math.abs(m.tokens_per_s - (m.kind === 'train' ? 2 * 128 : 128) / (m.median_ms / 1e3)) < 1e-6 * m.tokens_per_s, JSON.stringify(m));
  }
  const rows = await page.$$eval('#model-table tbody tr', (trs) => trs.map((tr) => tr.cells[1].textContent));
  assert.deepEqual(rows.filter((b) => b === 'webgpu').length, 2);
  console.log(`WebGPU (${r.webgpu}) on the bench page: ${gpuModel.map((m) => `${m.kind} ${m.median_ms.toFixed(0)} ms`).join(', ')}`);
  assert.deepEqual(problems, []);
  await context.close();
});
