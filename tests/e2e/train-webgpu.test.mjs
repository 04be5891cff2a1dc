// Training on WebGPU in headless Chromium with --enable-unsafe-webgpu (SwiftShader, a software
// adapter, so only chosen explicitly): the Train page runs a tiny model's steps on the GPU
// (forward, backward and AdamW resident there) and its evaluation losses follow the same run on
// the CPU; a lost device takes the run back to the last state brought back from the GPU and moves
// it to the CPU with a message, and it finishes. No console errors.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { launch, open, screenshot, SITE_NOCOI } from './lib.mjs';

const URL_TRAIN = new URL('train.html', SITE_NOCOI).href;
const TEXT = 'To be, or not to be, that is the question:\nWhether \'tis nobler in the mind to suffer\n'.repeat(20);
const RUN = {
  n_layer: 1, n_head: 2, n_embd: 16, block_size: 16, batch_size: 8, steps: 80,
  lr: 0.01, min_lr: 0.001, warmup_steps: 10, seed: 42,
  evalEvery: 40, evalIters: 4, sampleEvery: 40, snapshotEvery: 20, sampleLength: 60,
};
const urlFor = (backend, run = RUN) => `${URL_TRAIN}#${new URLSearchParams({ preset: 'tiny', source: 'paste', backend, ...Object.fromEntries(Object.entries(run).map(([k, v]) => [k, String(v)])) })}`;

let browser;
before(async () => { browser = await launch({ webgpu: true }); });
after(async () => { await browser?.close(); });

async function openTrain(backend, run = RUN) {
  const opened = await open(browser, urlFor(backend, run));
  await opened.page.waitForSelector('body[data-ready="true"], .banner.error:not([hidden])', { timeout: 60000 });
  await opened.page.fill('#paste', TEXT);
  await opened.page.waitForFunction((n) => document.querySelector('[data-stat="chars"]')?.textContent === n, TEXT.length.toLocaleString('en-US'));
  return opened;
}

const evals = (page) => page.$$eval('#evals tbody tr', (rows) => rows.map((r) => ({
  step: Number(r.dataset.step), train: Number(r.dataset.train), val: Number(r.dataset.val),
})).reverse());

async function train(backend) {
  const { page, context, problems } = await openTrain(backend);
  assert.equal(await page.inputValue('#train-on'), backend);
  await page.click('#start');
  await page.waitForSelector('body[data-train-state="done"]', { timeout: 240000 });
  return { page, context, problems, ev: await evals(page) };
}

test('a run on WebGPU trains as the same run on the CPU', async () => {
  const gpu = await train('webgpu');
  assert.match(await gpu.page.textContent('#backend-pill'), /WebGPU/);
  assert.match(await gpu.page.textContent('#train-backend'), /^Training runs on WebGPU \(.+\)/);
  await screenshot(gpu.page, 'train-webgpu');
  assert.deepEqual(gpu.problems, []);
  await gpu.context.close();
  const cpu = await train('cpu');
  assert.match(await cpu.page.textContent('#train-backend'), /^Training runs on the CPU/);
  assert.deepEqual(cpu.problems, []);
  await cpu.context.close();

  assert.deepEqual(gpu.ev.map((e) => e.step), [0, 40, 80]);
  assert.ok(gpu.ev[2].val < gpu.ev[0].val - 1.0, `GPU val ${gpu.ev[0].val} → ${gpu.ev[2].val}`);
  // Same initialisation and batches. The premise, not a GPU check: both runs start from the same
  // model, initialised and evaluated on the CPU before any step.
  assert.equal(gpu.ev[0].val, cpu.ev[0].val);
  // The GPU check: after 40 and 80 AdamW steps on the GPU the two differ only by float rounding
  // (the GPU sums in another order).
  const diff = Math.max(...gpu.ev.flatMap((e, i) => [Math.abs(e.train - cpu.ev[i].train), Math.abs(e.val - cpu.ev[i].val)]));
  console.log(`WebGPU vs CPU training: evaluation losses ${JSON.stringify(gpu.ev)} vs ${JSON.stringify(cpu.ev)}; largest difference ${diff.toExponential(2)}`);
  assert.ok(diff < 0.02, `largest difference ${diff}`);
});

test('a lost device moves the run to the CPU, says so, and the run finishes', async () => {
  // 240 steps: the device is lost at step 25 or so, well before the end on any machine.
  const { page, context, problems } = await openTrain('webgpu', { ...RUN, steps: 240 });
  await page.click('#start');
  await page.waitForFunction(() => Number(document.querySelector('[data-stat="step"]').textContent.split('/')[0]) >= 25, null, { timeout: 120000 });
  assert.match(await page.textContent('#backend-pill'), /WebGPU/);
  const gpuTps = Number((await page.textContent('[data-stat="tps"]')).replace(/,/g, '')); // the GPU's, shown
  const software = /swiftshader/i.test(await page.textContent('#backend-pill'));
  // What the worker reports from here on, and the step counter as the page shows it just after
  // each progress event (its own listener runs first).
  await page.evaluate(() => {
    const seen = globalThis.seen = { progress: [], rewinds: [] };
    const e = globalThis.glassgpt.engine;
    e.on('trainRewind', (d) => seen.rewinds.push({ ...d, at: seen.progress.length }));
    e.on('trainProgress', (d) => seen.progress.push({ step: d.step, shown: document.querySelector('[data-stat="step"]').textContent, tps: d.tokensPerSec }));
  });
  assert.equal(await page.evaluate(() => globalThis.glassgpt.engine.call('trainLoseGpuDevice')), true);
  // The warning banner shows (until the run's "Done" message replaces it: the rest of a tiny run
  // takes a second or two); the note under the progress bar keeps saying what happened.
  await page.waitForSelector('.banner.warn:not([hidden])', { timeout: 60000 });
  await page.waitForSelector('body[data-train-state="done"]', { timeout: 240000 });
  const note = await page.textContent('#train-backend');
  const [, lost, from] = note.match(
    /^Training runs on the CPU: .* WebGPU is not used: the WebGPU device was lost .* at step (\d+); training continues on the CPU from step (\d+), the last state brought back from the GPU \(parameters, AdamW's moments, data order\)/,
  ) ?? assert.fail(`the note says ${note}`);
  const [n, s] = [Number(lost), Number(from)];
  console.log(`device lost at step ${n}; the run went back to step ${s}`);
  // The state comes back at every snapshot (every 20 steps here), and the step-20 one came back
  // before the device was lost at step 25 or later.
  assert.ok(s >= 20 && s % 20 === 0 && s <= n, `lost at step ${n}, continued from step ${s}`);
  if (n > s) assert.match(note, new RegExp(`; steps ${s + 1}–${n} are taken again`));
  // The run went back once, from the step it had counted on the GPU to the one brought back, and
  // the next progress event set the counter to it: the CPU takes steps s + 1 ... again.
  const seen = await page.evaluate(() => globalThis.seen);
  assert.equal(seen.rewinds.length, 1, JSON.stringify(seen.rewinds));
  const [rw] = seen.rewinds;
  assert.deepEqual([rw.step, rw.from, rw.why], [s, n, 'WebGPU device lost']);
  assert.ok(seen.progress.slice(0, rw.at).every((p) => p.step <= n), JSON.stringify(seen.progress));
  assert.deepEqual(seen.progress[rw.at], { step: s, shown: `${s} / 240`, tps: 0 });
  // Tokens/s starts again at the rewind: by the end it is the CPU's alone, not a mix with the
  // undone GPU steps (on SwiftShader, a software adapter, a step of this model takes tens of
  // times the CPU's).
  const cpuTps = seen.progress.at(-1).tps;
  console.log(`tokens/s: ${Math.round(gpuTps)} on the GPU before the loss, ${Math.round(cpuTps)} on the CPU at the end`);
  assert.ok(gpuTps > 0 && cpuTps > 0, `tokens/s ${gpuTps} on the GPU, ${cpuTps} on the CPU`);
  // On SwiftShader (what this test's browser has) the CPU takes this model's steps many times
  // faster: a rate still mixed with the GPU's would be far below the CPU's own.
  if (software) assert.ok(cpuTps > 3 * gpuTps, `tokens/s ${gpuTps} on the GPU, ${cpuTps} on the CPU`);
  assert.ok(seen.progress.slice(rw.at + 1).every((p, i, a) => p.step > (i ? a[i - 1].step : s)), JSON.stringify(seen.progress));
  assert.equal(seen.progress.at(-1).step, 240);
  assert.doesNotMatch(await page.textContent('#backend-pill'), /WebGPU/);
  // Evaluations at every evalEvery, each once, though steps were taken again.
  const ev = await evals(page);
  assert.deepEqual(ev.map((e) => e.step), [0, 40, 80, 120, 160, 200, 240]);
  assert.ok(ev[6].val < ev[0].val - 1.0, `val ${ev[0].val} → ${ev[6].val}`);
  // The chart holds each of the 240 steps once (the undone steps' points dropped, not drawn
  // twice) and marks where the run went back.
  await page.evaluate(() => new Promise(requestAnimationFrame)); // the chart draws at the next frame
  const points = await page.$eval('#loss-chart path.series-raw', (p) => p.getAttribute('d').split(/[ML]/).length - 1);
  assert.equal(points, 240);
  assert.deepEqual(await page.$$eval('#loss-chart line.rewind', (l) => l.map((x) => x.dataset.step)), [String(s)]);
  assert.deepEqual(problems, []);
  await context.close();
});
