// The Train page: a tiny model trained on pasted text in the single-thread build, its loss
// curve against the native CLI's from the same seed and text (and the threaded build's too), a sample, the downloaded
// checkpoint read back by the playground's Model and by `glassgpt next`, continuing from that
// checkpoint, pause, invalid configs and texts, the link, a phone and the keyboard.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { launch, open, screenshot, SITE, SITE_NOCOI } from './lib.mjs';

const ROOT = path.resolve(path.dirname(new URL(import.meta.url).pathname), '../..');
const URL_TRAIN = new URL('train.html', SITE_NOCOI).href;

const TEXT = 'To be, or not to be, that is the question:\nWhether \'tis nobler in the mind to suffer\n'.repeat(20);
// A tiny model and a short run: its options as the page's hash and as the CLI's flags.
const RUN = {
  n_layer: 1, n_head: 2, n_embd: 16, block_size: 16, batch_size: 8, steps: 120,
  lr: 0.01, min_lr: 0.001, warmup_steps: 10, seed: 42,
};
const LIVE = { evalEvery: 40, evalIters: 4, sampleEvery: 40, snapshotEvery: 20, sampleLength: 60 };
const hashOf = (o) => new URLSearchParams({ preset: 'tiny', source: 'paste', ...Object.fromEntries(Object.entries(o).map(([k, v]) => [k, String(v)])) }).toString();
const TINY_URL = `${URL_TRAIN}#${hashOf({ ...RUN, ...LIVE })}`;

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'glassgpt-train-e2e-'));
let browser;
before(async () => { browser = await launch(); });
after(async () => {
  await browser?.close();
  fs.rmSync(tmp, { recursive: true, force: true });
});

async function openTrain(url = URL_TRAIN, options) {
  const opened = await open(browser, url, options);
  await opened.page.waitForSelector('body[data-ready="true"], .banner.error:not([hidden])', { timeout: 60000 });
  return opened;
}

async function paste(page, text) {
  await page.fill('#paste', text);
  if (text) await page.waitForFunction((n) => document.querySelector('[data-stat="chars"]')?.textContent === n, text.length.toLocaleString('en-US'));
}

const state = (page) => page.getAttribute('body', 'data-train-state');

/** Drops a file named `name` holding `text` on the page's heading; whether the page took the drop. */
const dropFile = (page, name, text) => page.evaluate(({ name, text }) => {
  const data = new DataTransfer();
  data.items.add(new File([text], name, { type: 'text/plain' }));
  const event = new DragEvent('drop', { dataTransfer: data, bubbles: true, cancelable: true });
  document.querySelector('h1').dispatchEvent(event);
  return event.defaultPrevented;
}, { name, text });
const step = async (page) => Number((await page.textContent('[data-stat="step"]')).split('/')[0].replace(/,/g, '')) || 0;

/** The evaluations table: [{ step, train, val, elapsed }], oldest first. */
const evals = (page) => page.$$eval('#evals tbody tr', (rows) => rows.map((r) => ({
  step: Number(r.dataset.step), train: Number(r.dataset.train), val: Number(r.dataset.val), elapsed: Number(r.dataset.elapsed),
})).reverse());

/** The next-character widget: { step, probs: { char: p } }. */
const nextChars = (page) => page.$eval('#next-chars', (el) => ({
  step: el.dataset.step,
  probs: Object.fromEntries([...el.querySelectorAll('.nc-row')].map((r) => [r.dataset.char, Number(r.dataset.p)])),
}));

/** The native CLI, built if needed (`cargo test` has usually built it already). */
function glassgpt(args) {
  execFileSync('cargo', ['build', '--quiet', '--bin', 'glassgpt'], { cwd: ROOT, stdio: 'inherit' });
  return execFileSync(path.join(ROOT, 'target/debug/glassgpt'), args, { cwd: ROOT, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
}

/** `glassgpt train` on TEXT with RUN's options for `steps` steps: its output and its evaluations. */
function cliTrain(steps, name) {
  const data = path.join(tmp, `${name}.txt`);
  fs.writeFileSync(data, TEXT);
  const out = glassgpt(['train', '--data', data, '--out', path.join(tmp, `${name}.safetensors`),
    '--n-layer', String(RUN.n_layer), '--n-head', String(RUN.n_head), '--n-embd', String(RUN.n_embd), '--block-size', String(RUN.block_size),
    '--batch', String(RUN.batch_size), '--steps', String(steps), '--lr', String(RUN.lr), '--min-lr', String(RUN.min_lr),
    '--warmup', String(RUN.warmup_steps), '--seed', String(RUN.seed), '--eval-every', String(LIVE.evalEvery), '--eval-iters', String(LIVE.evalIters)]);
  const evs = out.split('\n').filter((l) => l.startsWith('step')).map((l) => l.trim().split(/\s+/)).map((w) => ({ step: Number(w[1]), train: Number(w[3]), val: Number(w[5]) }));
  return { out, cli: evs };
}

let checkpointFile = null; // the first test's download
let finalNext = null; // and its last next-character distribution
let finalVal = null;

test('trains a tiny model on pasted text: the loss falls as natively, a sample appears, the checkpoint reads back', async () => {
  const { page, context, problems } = await openTrain(TINY_URL);
  await paste(page, TEXT);
  const vocab = new Set(TEXT).size;
  assert.equal(await page.textContent('[data-stat="vocab-size"]'), `${vocab} characters`);
  // N = V·C + T·C + L·(12C² + 13C) + 2C for C = 16, T = 16, L = 1.
  const n = vocab * 16 + 16 * 16 + (12 * 256 + 13 * 16) + 2 * 16;
  assert.match(await page.textContent('#plan'), new RegExp(`${n.toLocaleString('en-US')} floats`));
  // 6ND with D = 120 steps × 8 × 16 characters, beside GPT-3's.
  assert.match(await page.textContent('#plan'), /GPT-3 took 3\.15 × 10²³ FLOPs/);
  assert.match(await page.textContent('[data-plan="flops"]'), /FLOPs$/);

  await page.click('#start');
  await page.waitForSelector('body[data-train-state="done"]', { timeout: 180000 });
  assert.equal(await step(page), 120);
  const ev = await evals(page);
  assert.deepEqual(ev.map((e) => e.step), [0, 40, 80, 120]);
  // Stated margin: the validation loss falls by at least 1 nat (from about ln V = 3.1).
  assert.ok(ev[3].val < ev[0].val - 1.0, `val ${ev[0].val} → ${ev[3].val}`);
  finalVal = ev[3].val;

  // The same run in the native CLI: the same evaluation losses, to 0.001 (the CLI prints four
  // decimals; the kernels may sum in another order).
  const { out, cli } = cliTrain(RUN.steps, 'cli');
  assert.deepEqual(cli.map((e) => e.step), [0, 40, 80, 120], out);
  const diff = Math.max(...ev.flatMap((e, i) => [Math.abs(e.train - cli[i].train), Math.abs(e.val - cli[i].val)]));
  console.log(`browser vs native CLI: largest difference in evaluation loss ${diff.toExponential(2)}`);
  for (const [b, c] of ev.map((e, i) => [e, cli[i]])) {
    assert.ok(Math.abs(b.train - c.train) < 1e-3 && Math.abs(b.val - c.val) < 1e-3, `step ${b.step}: browser ${b.train}/${b.val}, CLI ${c.train}/${c.val}`);
  }

  // A sample of the stated length, from the last step.
  const sample = await page.$eval('#samples .sample', (f) => ({ step: f.dataset.step, text: f.querySelector('pre').textContent }));
  assert.equal(sample.step, '120');
  assert.equal([...sample.text].length, 60);
  // Attention maps for every head, and the next character after the probe.
  assert.equal(await page.$$eval('#attention-grid canvas', (c) => c.length), 2);
  const next = await nextChars(page);
  assert.equal(next.step, '120');
  finalNext = next.probs;
  // The loss axis switches to a log scale (ticks at 1, 2, 5) and back.
  const ticks = () => page.$$eval('#loss-chart .tick', (t) => t.map((x) => x.textContent));
  const linear = await ticks();
  await page.check('#log-scale');
  const log = await ticks();
  assert.notDeepEqual(log, linear);
  assert.ok(log.includes('2.0') || log.includes('1.0'), log.join(' '));
  assert.equal(await page.$$eval('#loss-chart path.series-val', (p) => p.length), 1);
  await page.evaluate(() => window.scrollTo(0, 0));
  await screenshot(page, 'train-done');

  // The checkpoint: downloaded, read by the playground's Model in the page...
  const [download] = await Promise.all([page.waitForEvent('download'), page.click('#download')]);
  assert.match(download.suggestedFilename(), /^glassgpt-1L-2H-16C-step120\.safetensors$/);
  checkpointFile = path.join(tmp, 'page.safetensors');
  await download.saveAs(checkpointFile);
  const bytes = [...fs.readFileSync(checkpointFile)];
  const probe = TEXT.slice(-16); // the page's default probe: the end of the text
  const again = await page.evaluate(async ({ bytes, probe }) => {
    const wasm = await import(new URL('pkg/glassgpt.js', location.href).href);
    await wasm.default();
    const m = wasm.Model.load(new Uint8Array(bytes));
    m.inspect(probe);
    const probs = m.inspectProbs();
    const vocab = [...m.vocab()];
    return Object.fromEntries(vocab.map((c, i) => [c, probs[i]]));
  }, { bytes, probe });
  for (const [ch, p] of Object.entries(finalNext)) assert.ok(Math.abs(again[ch] - p) < 1e-6, `${JSON.stringify(ch)}: ${again[ch]} vs ${p}`);
  // ...and by the CLI (`glassgpt next`, as `glassgpt sample` loads it).
  const native = JSON.parse(glassgpt(['next', '--checkpoint', checkpointFile, '--prompt', probe, '--json']));
  for (const [ch, p] of Object.entries(finalNext)) assert.ok(Math.abs(native[ch] - p) < 1e-4, `native ${JSON.stringify(ch)}: ${native[ch]} vs ${p}`);
  assert.match(glassgpt(['sample', '--checkpoint', checkpointFile, '--prompt', 'To be', '--length', '20', '--seed', '1']), /^To be/);

  // The calculator's key: the model's shape and the characters it trained on.
  const stored = JSON.parse(await page.evaluate(() => localStorage.getItem('glassgpt.trainedModel')));
  assert.deepEqual(stored, { n_layer: 1, n_head: 2, n_embd: 16, block_size: 16, vocab_size: vocab, tokens_trained: 120 * 8 * 16, pos_encoding: 'learned' });
  assert.deepEqual(problems, []);
  await context.close();
});

test('a downloaded checkpoint loads to continue: the same prediction, then more training', async () => {
  assert.ok(checkpointFile, 'needs the first test’s checkpoint');
  const { page, context, problems } = await openTrain(`${URL_TRAIN}#${hashOf({ ...RUN, steps: 40, ...LIVE })}`);
  await paste(page, TEXT);
  await page.setInputFiles('#load-ckpt', checkpointFile);
  await page.waitForSelector('#resume-note:not([hidden])');
  assert.match(await page.textContent('#resume-note'), /1 layer, 2 heads, 16 wide, context 16, a vocabulary of \d+; trained 120 steps on 15,360 characters, validation loss/);
  assert.equal(await page.isDisabled('#f-n_embd'), true, 'the shape is the checkpoint’s');
  const next = await nextChars(page);
  assert.equal(next.step, 'checkpoint');
  assert.deepEqual(next.probs, finalNext, 'the loaded model predicts exactly what the trained one did');
  assert.equal(await page.textContent('#start'), 'Continue training');

  await page.click('#start');
  await page.waitForSelector('body[data-train-state="done"]', { timeout: 120000 });
  const ev = await evals(page);
  // Before its first step the continued model scores what the first run ended on.
  assert.ok(Math.abs(ev[0].val - finalVal) < 1e-6, `${ev[0].val} vs ${finalVal}`);
  assert.equal(ev.at(-1).step, 40);
  const stored = JSON.parse(await page.evaluate(() => localStorage.getItem('glassgpt.trainedModel')));
  assert.equal(stored.tokens_trained, (120 + 40) * 8 * 16);
  // Loading a checkpoint after a finished run: that run's figures leave the page with it.
  await page.setInputFiles('#load-ckpt', checkpointFile);
  await page.waitForFunction(() => document.querySelector('[data-stat="step"]').textContent === '–');
  for (const k of ['val', 'tps', 'elapsed', 'eta']) assert.equal(await page.textContent(`[data-stat="${k}"]`), '–', k);
  assert.equal(await page.locator('#evals tbody tr').count(), 0);
  assert.equal(await page.textContent('#start'), 'Continue training');
  // Resetting forgets the checkpoint: the shape is editable again.
  await page.click('#reset');
  // Reset asks the worker first; the fields open once it has answered.
  await page.waitForFunction(() => !document.getElementById('f-n_embd').disabled, null, { timeout: 10000 });
  assert.equal(await page.textContent('#start'), 'Start training');
  assert.deepEqual(problems, []);
  await context.close();
});

test('pausing stops the steps, by the button or by hiding the tab; resuming goes on', async () => {
  const { page, context, problems } = await openTrain(`${URL_TRAIN}#${hashOf({ ...RUN, steps: 100000, ...LIVE })}`);
  await paste(page, TEXT);
  await page.click('#start');
  await page.waitForFunction(() => Number(document.querySelector('[data-stat="step"]').textContent.split('/')[0].replace(/,/g, '')) >= 10);
  await page.click('#pause');
  await page.waitForSelector('body[data-train-state="paused"]');
  const at = await step(page);
  await page.waitForTimeout(1500);
  assert.equal(await step(page), at, 'no step while paused');
  assert.equal(await page.textContent('#pause'), 'Resume');
  assert.equal(await page.isDisabled('#f-n_layer'), true, 'a run’s config is fixed');
  // A link followed during the run: the form and the link stay the run's, and the page says why.
  const runHash = await page.evaluate(() => location.hash);
  await page.evaluate(() => { location.hash = '#preset=small&steps=9'; });
  await page.waitForSelector('.banner.warn:not([hidden])');
  assert.match(await page.textContent('#banner'), /A run is in progress, so the link’s settings were not applied/);
  assert.equal(await page.evaluate(() => location.hash), runHash);
  assert.equal(await page.inputValue('#f-steps'), '100000');
  // A file dropped during the run: not opened, and the page says why.
  assert.equal(await dropFile(page, 'other.txt', TEXT), true);
  await page.waitForFunction(() => /A run is in progress, so other\.txt was not opened/.test(document.getElementById('banner').textContent));
  assert.equal(await state(page), 'paused');
  await page.click('#pause');
  await page.waitForFunction((n) => Number(document.querySelector('[data-stat="step"]').textContent.split('/')[0].replace(/,/g, '')) > n + 5, at);
  // "Pause while this tab is hidden": hiding the tab pauses, showing it resumes.
  await page.check('#pause-hidden');
  const setHidden = (hidden) => page.evaluate((h) => {
    Object.defineProperty(document, 'hidden', { value: h, configurable: true });
    Object.defineProperty(document, 'visibilityState', { value: h ? 'hidden' : 'visible', configurable: true });
    document.dispatchEvent(new Event('visibilitychange'));
  }, hidden);
  await setHidden(true);
  await page.waitForSelector('body[data-train-state="paused"]');
  const hiddenAt = await step(page);
  await page.waitForTimeout(1000);
  assert.equal(await step(page), hiddenAt, 'no step while hidden');
  await setHidden(false);
  await page.waitForFunction((n) => Number(document.querySelector('[data-stat="step"]').textContent.split('/')[0].replace(/,/g, '')) > n + 5, hiddenAt);
  await page.click('#reset');
  await page.waitForSelector('body[data-train-state="idle"]');
  assert.equal(await page.textContent('[data-stat="step"]'), '–');
  assert.deepEqual(problems, []);
  await context.close();
});

test('a megabyte pasted is kept beside the box, not in it: the worker has all of it, Clear gives the box back', async () => {
  const { page, context, problems } = await openTrain(`${URL_TRAIN}#${hashOf(RUN)}`);
  await page.fill('#paste', 'Some words first. ');
  // Ctrl+V of 1.2 MB with Windows line ends (a synthetic paste event: the browser's own would
  // insert it at the cursor, its CRLFs made LF as a textarea does).
  const pasteEvent = (text) => page.evaluate((t) => {
    const box = document.getElementById('paste');
    box.setSelectionRange(box.value.length, box.value.length);
    const data = new DataTransfer();
    data.setData('text/plain', t);
    const event = new ClipboardEvent('paste', { clipboardData: data, bubbles: true, cancelable: true });
    box.dispatchEvent(event);
    return { prevented: event.defaultPrevented, shown: box.value.length, readOnly: box.readOnly };
  }, text);
  const big = TEXT.replace(/\n/g, '\r\n').repeat(Math.ceil(1_200_000 / TEXT.length));
  const total = { ...(await pasteEvent(big)), length: 'Some words first. '.length + big.replace(/\r\n/g, '\n').length };
  assert.equal(total.prevented, true, 'the page took the paste');
  assert.ok(total.shown <= 2001, `the box shows only the start (${total.shown} characters)`);
  assert.equal(total.readOnly, true);
  // The worker has the whole text, the words before the cursor included.
  await page.waitForFunction((n) => document.querySelector('[data-stat="chars"]')?.textContent === n, total.length.toLocaleString('en-US'));
  assert.match(await page.inputValue('#paste'), /^Some words first\. To be, or not to be/);
  assert.match(await page.textContent('#paste-big'), /^[\d,]+ characters pasted \(1\.\d MB\)/);
  await page.waitForSelector('#start:not([disabled])');
  // A paste into the held text's preview replaces the whole text: a long one is held in its
  // place, a short one goes into the box, which is editable again.
  const second = TEXT.repeat(Math.ceil(300_000 / TEXT.length));
  assert.equal((await pasteEvent(second)).readOnly, true);
  await page.waitForFunction((n) => document.querySelector('[data-stat="chars"]')?.textContent === n, second.length.toLocaleString('en-US'));
  const short = await pasteEvent(TEXT);
  assert.deepEqual([short.prevented, short.readOnly, short.shown], [true, false, TEXT.length]);
  await page.waitForFunction((n) => document.querySelector('[data-stat="chars"]')?.textContent === n, TEXT.length.toLocaleString('en-US'));
  await pasteEvent(big);
  await page.waitForSelector('#paste-big:not([hidden])');
  await page.click('#paste-clear');
  assert.equal(await page.inputValue('#paste'), '');
  assert.equal(await page.evaluate(() => document.getElementById('paste').readOnly), false);
  assert.equal(await page.isVisible('#paste-big'), false);
  await paste(page, TEXT); // typing in the box works again
  // A text file dropped on the page is the text to train on, as if chosen (the browser would
  // leave the page for it).
  const dropped = await dropFile(page, 'notes.txt', `${TEXT}${TEXT}`);
  assert.equal(dropped, true, 'the page took the drop');
  await page.waitForFunction((n) => document.querySelector('[data-stat="chars"]')?.textContent === n, (2 * TEXT.length).toLocaleString('en-US'));
  assert.equal(await page.isChecked('#src-file'), true);
  assert.equal(await page.evaluate(() => document.getElementById('file').files[0]?.name), 'notes.txt');
  assert.deepEqual(problems, []);
  await context.close();
});

test('the loss chart draws 250,000 steps: its range is a loop, not Math.min(...every step), which overflowed the stack past ~120,000', async () => {
  const { page, context, problems } = await openTrain(`${URL_TRAIN}#${hashOf(RUN)}`);
  const drawn = await page.evaluate(async () => {
    const { LossChart } = await import('./js/widgets/loss-chart.js');
    const box = document.createElement('div');
    box.style.width = '600px';
    document.body.append(box);
    const chart = new LossChart(box);
    chart.reset(250000);
    const losses = Float32Array.from({ length: 250000 }, (_, i) => 4 * Math.exp(-i / 50000) + 1);
    chart.addSteps(0, losses);
    chart.addEval({ step: 250000, train: 1.1, val: 1.3 });
    chart.draw();
    const d = box.querySelector('path.series-ema').getAttribute('d');
    const ticks = [...box.querySelectorAll('text.tick')].map((t) => t.textContent);
    box.remove();
    return { points: d.split('L').length, ticks };
  });
  assert.equal(drawn.points, 600, 'bucketed to 600 points');
  assert.ok(drawn.ticks.length > 3, drawn.ticks.join(' '));
  assert.deepEqual(problems, []);
  await context.close();
});

test('an invalid config or text gets a clear message beside it, and nothing starts', async () => {
  const { page, context, problems } = await openTrain(`${URL_TRAIN}#${hashOf(RUN)}`);
  await paste(page, TEXT);
  assert.equal(await page.isDisabled('#start'), false);
  const cases = [
    ['#f-n_embd', '17', 'n_head', /n_embd = 17 is not divisible by n_head = 2/],
    ['#f-steps', '0', 'steps', /must be at least 1/],
    ['#f-n_layer', 'two', 'n_layer', /“two” is not a number/],
    ['#f-lr', '5', 'lr', /5 must be in \(0, 1\]/],
    ['#f-block_size', '4096', 'batch_size', /needs about \d+ MB .* more than the page's 512 MB/],
    // Numbers past what a field's type holds read plainly, not as the deserializer says them.
    ['#f-steps', '1e15', 'steps', /^1000000000000000 is too large$/],
    ['#f-seed', '1e30', 'seed', /^1e30 is too large$/],
    ['#f-lr', '1e308', 'lr', /^a number past f32's 3\.4e38 must be in \(0, 1\]$/],
    // Live settings past what the core takes: said beside them before Start, not after it.
    ['#f-evalIters', '1000000000', 'evalIters', /^at most 10,000$/],
    ['#f-sampleLength', '1000000000', 'sampleLength', /^at most 100,000$/],
  ];
  await page.click('#group-live > summary'); // the live settings' fields
  for (const [sel, text, key, message] of cases) {
    const before = await page.inputValue(sel);
    await page.fill(sel, text);
    await page.waitForFunction((k) => document.getElementById(`err-${k}`).textContent !== '', key);
    assert.match(await page.textContent(`#err-${key}`), message, `${sel} = ${text}`);
    assert.equal(await page.getAttribute(`#f-${key}`, 'aria-invalid'), 'true');
    assert.equal(await page.isDisabled('#start'), true);
    await page.fill(sel, before);
    await page.waitForFunction((k) => document.getElementById(`err-${k}`).textContent === '', key);
  }
  // A text too short for the context, then an empty one.
  await paste(page, 'abc'.repeat(50));
  await page.click('#start');
  await page.waitForSelector('.banner.error:not([hidden])');
  assert.match(await page.textContent('#err-text'), /150 characters is too short for block_size = 16: .* at least 171/);
  assert.equal(await state(page), 'idle');
  await page.fill('#paste', '');
  await page.waitForFunction(() => /empty/.test(document.getElementById('err-text').textContent));
  assert.match(await page.textContent('#err-text'), /^The text is empty: paste some text, upload a file or use the bundled corpus/);
  assert.equal(await page.isDisabled('#start'), true);
  // Files: over the size limit, and not UTF-8.
  await page.check('#src-file');
  await page.setInputFiles('#file', { name: 'big.txt', mimeType: 'text/plain', buffer: Buffer.alloc(17 * 1024 * 1024, 97) });
  await page.waitForFunction(() => /big\.txt/.test(document.getElementById('err-text').textContent));
  assert.match(await page.textContent('#err-text'), /“big\.txt” is 17\.8 MB; the page trains on up to 16\.0 MB of text/);
  await page.setInputFiles('#file', { name: 'latin1.txt', mimeType: 'text/plain', buffer: Buffer.from([0x63, 0x61, 0x66, 0xe9, 0x0a]) });
  await page.waitForFunction(() => /latin1/.test(document.getElementById('err-text').textContent));
  assert.match(await page.textContent('#err-text'), /is not UTF-8 text/);
  await page.setInputFiles('#file', { name: 'ok.txt', mimeType: 'text/plain', buffer: Buffer.from(TEXT) });
  await page.waitForFunction(() => document.getElementById('err-text').textContent === '');
  // The message clears as soon as the file is read; Start is enabled once the text is checked.
  await page.waitForFunction(() => !document.getElementById('start').disabled, null, { timeout: 10000 }).catch(() => {});
  assert.equal(await page.isDisabled('#start'), false);
  await screenshot(page, 'train-invalid');
  // The "could not start" banner above came from the core, not from a crash.
  assert.deepEqual(problems, []);
  await context.close();
});

test('a new start the core refuses after a finished run leaves the page idle, with no run shown', async () => {
  const { page, context, problems } = await openTrain(`${URL_TRAIN}#${hashOf({ ...RUN, steps: 20, ...LIVE })}`);
  await paste(page, TEXT);
  await page.click('#start');
  await page.waitForSelector('body[data-train-state="done"]', { timeout: 60000 });
  assert.equal(await page.textContent('#start'), 'Train again');
  // A context too long for this text: the plan takes it, the core's start refuses it (the text).
  await page.fill('#f-block_size', '256');
  await page.waitForFunction(() => location.hash.includes('block_size=256')); // the form is checked
  assert.equal(await page.isDisabled('#start'), false);
  await page.click('#start');
  await page.waitForFunction(() => /Could not start: text: .* too short for block_size = 256/.test(document.getElementById('banner').textContent), null, { timeout: 30000 });
  assert.equal(await state(page), 'idle');
  assert.equal(await page.textContent('#start'), 'Start training');
  assert.equal(await page.isDisabled('#download'), true, 'no run to download');
  assert.equal(await page.textContent('[data-stat="step"]'), '–');
  assert.equal(await page.locator('#evals tbody tr').count(), 0);
  assert.deepEqual(problems, []);
  await context.close();
});

test('the config lives in the link; the page fits a phone and works from the keyboard', async () => {
  const { page, context, problems } = await openTrain(`${URL_TRAIN}#preset=small&steps=500&source=paste`);
  assert.equal(await page.inputValue('#f-n_embd'), '128');
  assert.equal(await page.inputValue('#f-steps'), '500');
  assert.equal(await page.inputValue('#f-preset'), 'custom');
  await page.fill('#f-n_layer', '3');
  await page.waitForFunction(() => location.hash.includes('n_layer=3'));
  await page.waitForLoadState('networkidle'); // a reload aborts what is still loading (the favicon)
  await page.reload();
  await page.waitForSelector('body[data-ready="true"]');
  assert.equal(await page.inputValue('#f-n_layer'), '3');
  assert.equal(await page.isChecked('#src-paste'), true);
  // The hash edited in place: the form follows at once (the page's own writes fire no hashchange).
  await page.evaluate(() => { location.hash = '#preset=tiny&steps=77&source=paste'; });
  await page.waitForFunction(() => document.getElementById('f-steps').value === '77');
  assert.equal(await page.inputValue('#f-n_layer'), '2', 'the n_layer=3 the link no longer names: the tiny preset’s 2');
  assert.equal(await page.inputValue('#f-preset'), 'custom');
  await page.waitForFunction(() => /(^#|&)steps=77(&|$)/.test(location.hash) && !location.hash.includes('n_layer'));
  // Every control has a label.
  const unlabelled = await page.$$eval('input, select, textarea', (els) => els
    .filter((e) => !(e.labels?.length) && !e.getAttribute('aria-label'))
    .map((e) => e.id || e.outerHTML.slice(0, 60)));
  assert.deepEqual(unlabelled, []);
  // Tab reaches the Start button from the top of the page (once there is a text to train on).
  await paste(page, TEXT);
  await page.click('h1');
  let reached = false;
  for (let i = 0; i < 60 && !reached; i++) {
    await page.keyboard.press('Tab');
    reached = await page.evaluate(() => document.activeElement?.id === 'start');
  }
  assert.ok(reached, 'Start is reachable by Tab');
  await context.close();
  assert.deepEqual(problems, []);

  const phone = await openTrain(`${URL_TRAIN}#${hashOf({ ...RUN, ...LIVE })}`, { viewport: { width: 375, height: 800 } });
  await paste(phone.page, TEXT);
  await phone.page.click('#start');
  await phone.page.waitForSelector('body[data-train-state="done"]', { timeout: 180000 });
  const overflow = await phone.page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
  assert.ok(overflow <= 0, `the page is ${overflow}px wider than the phone`);
  await screenshot(phone.page, 'train-phone');
  assert.deepEqual(phone.problems, []);
  await phone.context.close();
});

test('cross-origin isolated, the threaded build trains as the CLI does', async () => {
  const { page, context, problems } = await openTrain(`${new URL('train.html', SITE).href}#${hashOf({ ...RUN, steps: 40, ...LIVE })}`);
  assert.match(await page.textContent('#backend-pill'), /^threads/);
  await paste(page, TEXT);
  await page.click('#start');
  await page.waitForSelector('body[data-train-state="done"]', { timeout: 120000 });
  const ev = await evals(page);
  assert.deepEqual(ev.map((e) => e.step), [0, 40]);
  assert.ok(ev.at(-1).val < ev[0].val);
  // It ran on the pool: the session's kernels are the threaded ones, on two or more workers.
  assert.match(await page.textContent('#train-backend'), /^Training runs on the CPU: the threads kernels of the threads build, [2-9]\d* workers; each step's batch is split into data-parallel shards/);
  // The threaded build trains each batch as data-parallel shards on its pool of workers
  // (Trainer::step_sharded); the native CLI (one thread) takes the plain step. The two are equal up
  // to float rounding (tests/model_backends.rs), so their evaluation losses agree to the CLI's
  // printed 4 decimals: the browser's pool, checked against the native reference.
  const { out, cli } = cliTrain(40, 'cli-threads');
  assert.deepEqual(cli.map((e) => e.step), [0, 40], out);
  for (const [b, c] of ev.map((e, i) => [e, cli[i]])) {
    assert.ok(Math.abs(b.train - c.train) < 1e-3 && Math.abs(b.val - c.val) < 1e-3, `step ${b.step}: threaded browser ${b.train}/${b.val}, CLI ${c.train}/${c.val}`);
  }
  console.log(`threaded browser vs native CLI at step 40: ${ev[1].train}/${ev[1].val} vs ${cli[1].train}/${cli[1].val}`);
  assert.deepEqual(problems, []);
  await context.close();
});
