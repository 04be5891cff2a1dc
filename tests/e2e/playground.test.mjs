// The playground (index.html) in headless Chromium: the shipped model loads and every view is
// drawn (those below the fold once scrolled near); a fixed seed gives the same text, and a long
// prompt the same forward pass, on the threaded and the single-thread builds; the attention maps follow the prompt and the selected
// head; a corrupt checkpoint is refused with a message while the model keeps working; the state
// survives a reload through the URL hash; a phone-width screen does not scroll sideways. No
// console errors anywhere.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { execFileSync } from 'node:child_process';
import { launch, open, screenshot, ARTIFACTS, SITE, SITE_NOCOI } from './lib.mjs';

fs.mkdirSync(ARTIFACTS, { recursive: true });

let browser;
before(async () => { browser = await launch(); });
after(async () => { await browser?.close(); });

const READY = 'body[data-model="ready"], body[data-model="error"], .banner.error:not([hidden])';

async function openPlayground(url, opts) {
  const r = await open(browser, url, opts);
  await r.page.waitForSelector(READY, { timeout: 60000 });
  const state = await r.page.getAttribute('body', 'data-model');
  assert.equal(state, 'ready', `the model did not load: ${await r.page.textContent('#model-status')} ${r.problems.join('; ')}`);
  return r;
}

/** Saves a screenshot of one part of the page under tests/e2e/artifacts/ (for a person to look at). */
async function shot(page, selector, name) {
  await page.locator(selector).screenshot({ path: path.join(ARTIFACTS, `${name}.png`) });
}

/** A fingerprint of a canvas's pixels and how many distinct colours it has. */
function canvasStats(page, selector) {
  return page.$eval(selector, (c) => {
    const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
    let hash = 0;
    const colours = new Set();
    for (let i = 0; i < d.length; i += 4) {
      const v = (d[i] << 16) | (d[i + 1] << 8) | d[i + 2];
      colours.add(v);
      hash = (Math.imul(hash, 31) + v) | 0;
    }
    return { hash, colours: colours.size, width: c.width, height: c.height };
  });
}

/**
 * Asserts that the positional-encoding and embedding views are not drawn for the current model
 * (`drawn` false: checked at once) or waits until both are (`drawn` true).
 */
async function lowerViewsDrawn(page, drawn) {
  for (const id of ['positions', 'embeddings']) {
    if (drawn) await page.waitForSelector(`#${id}[data-drawn="true"]`, { timeout: 30000 });
    else {
      const { flag, top, screen } = await page.$eval(`#${id}`, (e) => ({ flag: e.dataset.drawn ?? null, top: Math.round(e.getBoundingClientRect().top), screen: innerHeight }));
      assert.equal(flag, null, `#${id} (top ${top} px, viewport ${screen} px high) is drawn; it should wait until it comes within a screen`);
    }
  }
}

/** Waits until the page has inspected the text more often than `before` times. */
async function inspectedAfter(page, before) {
  await page.waitForFunction((n) => Number(document.body.dataset.inspected ?? 0) > n, before, { timeout: 30000 });
}
const blockSize = async (page) => Number(await page.textContent('[data-cfg="block_size"]'));
const inspectedCount = (page) => page.evaluate(() => Number(document.body.dataset.inspected ?? 0));

/** Generates with the page's current settings and returns the generated text. */
async function generate(page) {
  const before = await page.evaluate(() => Number(document.getElementById('textout').dataset.done ?? 0));
  await page.click('#generate-btn');
  await page.waitForFunction((n) => Number(document.getElementById('textout').dataset.done ?? 0) > n, before, { timeout: 60000 });
  return page.textContent('#text-gen');
}

const FIXED = '#prompt=ROMEO%3A%0A&temp=0.8&topk=0&topp=1&seed=7&len=150';

test('the model loads and every view is drawn', async () => {
  const { page, context, problems } = await openPlayground(SITE);
  const cfg = await page.evaluate(() => ({ ...Object.fromEntries([...document.querySelectorAll('[data-cfg]')].map((e) => [e.dataset.cfg, e.textContent])) }));
  const L = Number(cfg.n_layer), NH = Number(cfg.n_head);
  assert.ok(L >= 1 && NH >= 1, JSON.stringify(cfg));
  assert.equal(await page.locator('.att-thumb').count(), L * NH, 'one small map per layer and head');
  // The views screens below the first are drawn when they come near the viewport, not at load.
  await lowerViewsDrawn(page, false);
  await page.locator('#positions').scrollIntoViewIfNeeded();
  await lowerViewsDrawn(page, true);
  for (const sel of ['.att-canvas', '.att-thumb canvas', '#pe-sin-table canvas', '#pe-sin-sim canvas', '#pe-wpe-table canvas', '#pe-wpe-sim canvas', '#emb-scatter canvas', '#pe-sin-lines canvas']) {
    const s = await canvasStats(page, sel);
    assert.ok(s.width > 0 && s.colours > 3, `${sel} looks blank: ${JSON.stringify(s)}`);
  }
  // The next-character distribution: ten candidates, likeliest first.
  const pcts = await page.$$eval('.bar-pct', (els) => els.map((e) => e.textContent));
  assert.equal(pcts.length, 10);
  // The large view has a character on each axis for each position of the prompt.
  const t = Number(await page.getAttribute('#att-large', 'data-t'));
  assert.equal(t, [...'ROMEO:\n'].length);
  assert.equal(await page.locator('.att-cols .ax').count(), t);
  // No GPU here and "auto" chosen: the CPU is no fallback to warn of, before or after the pool is up.
  await page.waitForFunction(() => /^threads · \d+ workers/.test(document.getElementById('backend-pill').textContent));
  assert.equal(await page.evaluate(() => document.getElementById('banner').hidden), true, await page.textContent('#banner'));
  assert.match(await page.textContent('#gpu-note'), /^WebGPU is not in use: /);
  await screenshot(page, 'playground');
  for (const part of ['generate', 'attention', 'positions', 'embeddings']) await shot(page, `#${part}`, `playground-${part}`);
  await context.close();
  assert.deepEqual(problems, []);
  // A link to a lower section opens there: its views are drawn before the page says it is ready.
  const linked = await openPlayground(`${SITE}#embeddings`);
  for (const id of ['positions', 'embeddings']) assert.equal(await linked.page.getAttribute(`#${id}`, 'data-drawn'), 'true', `#${id} on opening index.html#embeddings`);
  await linked.context.close();
  assert.deepEqual(linked.problems, []);
});

// A 120-character prompt: its forward pass's products (120 × 128 × 384 for q, k, v) are split
// across the threaded build's pool, and its attention runs one task per head.
const LONG_PROMPT = 'ROMEO:\nBut soft, what light through yonder window breaks?\nIt is the east, and Juliet is the sun.\nArise, fair sun, and kill';

test('a fixed seed generates the same text, and a long prompt the same forward pass, on the threaded and the single-thread build', async () => {
  const texts = {};
  const forward = {};
  for (const [name, url] of [['threads', SITE], ['simd128', SITE_NOCOI]]) {
    const { page, context, problems } = await openPlayground(url + FIXED);
    texts[name] = { build: await page.textContent('[data-fact="build"]'), first: await generate(page), second: await generate(page) };
    // The whole-sequence forward pass behind the attention maps and the next-character bars, once
    // the threaded build's pool is up ('backends' waits for it): its kernels split across the
    // workers, against the single-thread build's.
    forward[name] = await page.evaluate(async (text) => {
      const engine = globalThis.glassgpt.engine;
      const { threads } = await engine.call('backends');
      const r = await engine.call('inspect', { text });
      return { threads, backend: r.backend, t: r.tokens.length, probs: Array.from(r.probs), attention: Array.from(r.attention) };
    }, LONG_PROMPT);
    const stats = await page.textContent('#gen-stats');
    assert.match(stats, /chars\/s/);
    if (name === 'threads') {
      // The top of the page as a reader first sees it, after one generation.
      await page.evaluate(() => window.scrollTo(0, 0));
      await page.screenshot({ path: path.join(ARTIFACTS, 'playground-top.png') });
    }
    await context.close();
    assert.deepEqual(problems, []);
  }
  console.log(`seed 7 text (${texts.threads.first.length} chars): ${JSON.stringify(texts.threads.first.slice(0, 80))}…`);
  assert.match(texts.threads.build, /^threads /);
  assert.match(texts.simd128.build, /^simd128 /);
  assert.equal([...texts.threads.first].length, 150);
  assert.equal(texts.threads.first, texts.threads.second, 'the same seed twice in one page');
  assert.equal(texts.threads.first, texts.simd128.first, 'threads and simd128 builds agree');
  assert.equal(forward.threads.backend, 'threads');
  assert.ok(forward.threads.threads >= 2, `the threaded page's pool has ${forward.threads.threads} thread(s)`);
  assert.equal(forward.simd128.backend, 'simd128');
  assert.equal(forward.threads.t, [...LONG_PROMPT].length);
  assert.equal(forward.threads.attention.length, forward.simd128.attention.length);
  // The threaded kernels compute every float as the single-thread ones do (README, Invariants).
  const maxDiff = (a, b) => a.reduce((m, x, i) => Math.max(m, Math.abs(x - b[i])), 0);
  const dp = maxDiff(forward.threads.probs, forward.simd128.probs);
  const da = maxDiff(forward.threads.attention, forward.simd128.attention);
  console.log(`forward over ${forward.threads.t} characters, ${forward.threads.threads} threads vs one: probabilities differ by ${dp}, attention by ${da}`);
  assert.ok(dp === 0 && da === 0, `threaded forward vs single-thread: probabilities differ by ${dp}, attention by ${da}`);
  assert.ok(Math.abs(forward.threads.probs.reduce((a, b) => a + b, 0) - 1) < 1e-4);
  fs.writeFileSync(path.join(ARTIFACTS, 'seed7.txt'), texts.threads.first);
  // The native CLI, on the same checkpoint, prompt, settings and seed, samples the same text.
  const cli = process.env.GLASSGPT_CLI;
  if (cli) {
    const model = new URL('../../www/models/shakespeare.safetensors', import.meta.url).pathname;
    const native = execFileSync(cli, ['sample', '--checkpoint', model, '--prompt', 'ROMEO:\n', '--temperature', '0.8',
      '--top-k', '0', '--top-p', '1', '--length', '150', '--seed', '7', '--overflow-keep', '64'], { encoding: 'utf8' });
    assert.ok(native.endsWith(texts.threads.first) || native.endsWith(texts.threads.first + '\n'),
      `the native CLI sampled a different text:\n${native}\nvs the page:\n${texts.threads.first}`);
  }
});

test('the reader can run the threaded build on one thread (#threads=one) and back: the same text, the pill says which', async () => {
  const { page, context, problems } = await openPlayground(`${SITE}${FIXED}&threads=one`);
  assert.match(await page.textContent('[data-fact="build"]'), /^threads /);
  assert.equal(await page.inputValue('#threads-select'), 'one');
  assert.match(await page.textContent('#backend-pill'), /^simd128 · 1 thread \(chosen\)/);
  const one = await generate(page);
  const status = () => page.evaluate(() => globalThis.glassgpt.engine.call('backend'));
  assert.equal((await status()).generate, 'simd128');
  // The core's own kernels, after the pool is up ('backends' waits for it): still one thread.
  await page.evaluate(() => globalThis.glassgpt.engine.call('backends'));
  assert.equal((await page.evaluate(() => globalThis.glassgpt.engine.call('setThreads', { on: false }))).kernels, 'simd128');
  await page.click('#core > summary'); // "About this page's core"
  await page.selectOption('#threads-select', 'auto');
  await page.waitForFunction(() => /^threads · \d+ workers/.test(document.getElementById('backend-pill').textContent));
  assert.match(await page.evaluate(() => location.hash), /(^#|&)threads=auto(&|$)/);
  // The model runs on the pool again: the same text.
  assert.equal((await status()).generate, 'threads');
  assert.equal((await page.evaluate(() => globalThis.glassgpt.engine.call('setThreads', { on: true }))).kernels, 'threads');
  assert.equal(await generate(page), one, 'one thread and the pool generate the same text');
  assert.deepEqual(problems, []);
  await context.close();
  // A page that is not cross-origin isolated has no pool: the choice is shown, and disabled.
  const single = await openPlayground(SITE_NOCOI);
  assert.equal(await single.page.inputValue('#threads-select'), 'one');
  assert.ok(await single.page.isDisabled('#threads-select'));
  assert.deepEqual(single.problems, []);
  await single.context.close();
});

test('a thread pool that never starts: the pages say so and run on one thread (the Train page too)', async () => {
  // wasm-bindgen-rayon fetches its own module to start each pool worker from: that fetch (not the
  // glue's import of the same file) gets a worker that never answers. initThreadPool waits for
  // every worker, so the pool never comes up, as when a browser cannot start the workers.
  const route = (context) => context.route(/workerHelpers[^/]*\.js$/, (r) => (r.request().resourceType() === 'fetch'
    ? r.fulfill({ status: 200, contentType: 'text/javascript', body: 'self.onmessage = () => {};' })
    : r.continue()));
  const { page, context, problems } = await openPlayground(`${SITE}${FIXED}`, { route });
  assert.match(await page.textContent('[data-fact="build"]'), /^threads /);
  // The model works from the start, on one thread, and says so.
  assert.match(await page.textContent('#backend-pill'), /^simd128 · 1 thread \((pool starting|no pool)\)/);
  const text = await generate(page);
  assert.ok(text.length > 0);
  // After the worker's wait (10 s) the page says why it stays on one thread.
  await page.waitForFunction(() => /\(no pool\)/.test(document.getElementById('backend-pill').textContent), null, { timeout: 30000 });
  assert.match(await page.textContent('#banner'), /thread pool has not started after 10 s; using one thread until it does/);
  assert.equal((await page.evaluate(() => globalThis.glassgpt.engine.call('backend'))).generate, 'simd128');
  // What waited for the pool now runs on one thread: the bench's backends leave the threads out.
  assert.deepEqual((await page.evaluate(() => globalThis.glassgpt.engine.call('backends'))).cpu, ['scalar', 'simd128']);
  assert.equal(await generate(page), text, 'the same text as before the wait');
  assert.deepEqual(problems, []);
  await context.close();
  // The Train page, which waits for the pool before it is ready, comes up and trains on one
  // thread. (A context of its own: the first page's service worker would serve it the stand-in.)
  const train = await open(browser, `${SITE}train.html`, { route });
  await train.page.waitForSelector('body[data-ready="true"]', { timeout: 60000 });
  assert.match(await train.page.textContent('#backend-pill'), /^simd128 · 1 thread \(no pool\)/);
  assert.match(await train.page.textContent('#train-backend'), /^Training runs on the CPU: the simd128 kernels of the threads build \(the thread pool has not started after 10 s/);
  await train.page.click('#start');
  await train.page.waitForFunction(() => Number(document.querySelector('[data-stat="step"]').textContent.split('/')[0].replace(/,/g, '')) >= 2, null, { timeout: 60000 });
  await train.page.click('#pause');
  await train.page.waitForSelector('body[data-train-state="paused"]');
  assert.deepEqual(train.problems, []);
  await train.context.close();
});

test('a thread pool that comes up after the wait: the warning goes, the pool is used', async () => {
  // A pool worker starts 11 s late (its module fetch held back), past the worker's 10 s wait.
  let held = 0;
  const route = (context) => context.route(/workerHelpers[^/]*\.js$/, async (r) => {
    if (r.request().resourceType() === 'fetch' && held++ === 0) await new Promise((ok) => setTimeout(ok, 11000));
    return r.continue();
  });
  const { page, context, problems } = await openPlayground(`${SITE}${FIXED}`, { route });
  await page.waitForFunction(() => /thread pool has not started after 10 s/.test(document.getElementById('banner').textContent), null, { timeout: 30000 });
  assert.match(await page.textContent('#backend-pill'), /^simd128 · 1 thread \(no pool\)/);
  await page.waitForFunction(() => /^threads · \d+ workers/.test(document.getElementById('backend-pill').textContent), null, { timeout: 30000 });
  assert.equal(await page.evaluate(() => document.getElementById('banner').hidden), true, 'the warning went with the pool up');
  assert.equal((await page.evaluate(() => globalThis.glassgpt.engine.call('backend'))).generate, 'threads');
  assert.deepEqual((await page.evaluate(() => globalThis.glassgpt.engine.call('backends'))).cpu, ['scalar', 'simd128', 'threads']);
  assert.deepEqual(problems, []);
  await context.close();
});

test('the attention maps follow the prompt, and generation updates them', async () => {
  const { page, context, problems } = await openPlayground(SITE + FIXED);
  const before = await canvasStats(page, '.att-canvas');
  let n = await inspectedCount(page);
  const T = Math.min(43, await blockSize(page));
  await page.fill('#prompt', 'To be, or not to be, that is the question:\n');
  await inspectedAfter(page, n);
  await page.waitForFunction((t) => document.getElementById('att-large').dataset.t === String(t), T);
  const after = await canvasStats(page, '.att-canvas');
  assert.notEqual(after.hash, before.hash, 'the large map changed');
  assert.equal(after.width, T);
  const thumbs = await canvasStats(page, '.att-thumb canvas');
  assert.equal(thumbs.width, T);
  // Generating re-inspects the growing text.
  n = await inspectedCount(page);
  await generate(page);
  await inspectedAfter(page, n);
  const t = Number(await page.getAttribute('#att-large', 'data-t'));
  assert.ok(t > T || t === await blockSize(page), `after generation the map covers more than the prompt: ${t}`);
  await context.close();
  assert.deepEqual(problems, []);
});

test('stop ends a long generation early; continue makes the text the prompt', async () => {
  const { page, context, problems } = await openPlayground(SITE + '#prompt=KING%3A%0A&seed=3&len=1000');
  await page.click('#generate-btn');
  // Stop in the page, in the first frame with 20 characters: 1,000 characters take a fraction of a
  // second at this model's speed, less than a round trip of the test to the page and back.
  const stopWasEnabled = await page.evaluate(() => new Promise((resolve) => {
    const check = () => {
      if (document.getElementById('text-gen').textContent.length < 20) return requestAnimationFrame(check);
      const stop = document.getElementById('stop-btn');
      resolve(!stop.disabled);
      stop.click();
    };
    check();
  }));
  assert.equal(stopWasEnabled, true);
  await page.waitForFunction(() => document.getElementById('textout').dataset.done === '1', null, { timeout: 30000 });
  const text = await page.textContent('#text-gen');
  assert.ok(text.length >= 20 && text.length < 1000, `stopped after ${text.length} characters`);
  assert.match(await page.textContent('#gen-stats'), /stopped/);
  assert.equal(await page.isDisabled('#generate-btn'), false);
  assert.equal(await page.isDisabled('#stop-btn'), true);
  await page.click('#continue-btn');
  assert.equal(await page.inputValue('#prompt'), `KING:\n${text}`);
  assert.equal(await page.textContent('#text-gen'), '');
  await context.close();
  assert.deepEqual(problems, []);
});

test('switching layer and head changes the large view; the hash keeps the choice', async () => {
  const { page, context, problems } = await openPlayground(SITE + FIXED);
  await page.fill('#prompt', 'First Citizen:\nBefore we proceed any further, hear me speak.\n');
  const T = Math.min(61, await blockSize(page));
  await page.waitForFunction((t) => document.getElementById('att-large').dataset.t === String(t), T);
  const L = await page.locator('#layer option').count();
  const NH = await page.locator('#head option').count();
  const seen = new Set();
  for (const [l, h] of [[0, 0], [L - 1, NH - 1], [0, NH - 1], [L - 1, 0]]) {
    await page.click(`.att-thumb[data-layer="${l}"][data-head="${h}"]`);
    assert.equal(await page.getAttribute(`.att-thumb[data-layer="${l}"][data-head="${h}"]`, 'aria-pressed'), 'true');
    assert.equal(await page.inputValue('#layer'), String(l));
    seen.add((await canvasStats(page, '.att-canvas')).hash);
  }
  assert.equal(seen.size, 4, 'four heads, four different large views');
  // The selects do the same.
  await page.selectOption('#head', '0');
  await page.waitForFunction(() => location.hash.includes('head=0'));
  await page.selectOption('#layer', String(L - 1));
  await page.waitForFunction((l) => location.hash.includes(`layer=${l}`), L - 1);
  // Keyboard: focus the map, move with the arrows; the readout names a character.
  await page.focus('.att-canvas');
  await page.keyboard.press('Home');
  await page.keyboard.press('ArrowRight');
  assert.match(await page.textContent('#att-readout'), /at 1 looks most at/);
  assert.equal(await page.locator('.att-rows .ax.hl').count(), 1);
  // Reload: the prompt, the settings and the head come back from the hash.
  await page.waitForTimeout(300);
  const url = page.url();
  assert.match(url, /prompt=First%20Citizen/);
  await page.reload();
  await page.waitForSelector('body[data-model="ready"]', { timeout: 60000 });
  assert.equal(await page.inputValue('#prompt'), 'First Citizen:\nBefore we proceed any further, hear me speak.\n');
  assert.equal(await page.inputValue('#layer'), String(L - 1));
  assert.equal(await page.inputValue('#head'), '0');
  assert.equal(await page.inputValue('#seed'), '7');
  // The hash edited in place (a link on the page, the address bar): the view it names, at once,
  // the zoom it leaves out back to fitting the width.
  await page.$eval('#zoom', (z) => { z.value = '14'; z.dispatchEvent(new Event('input')); });
  assert.equal(await page.evaluate(() => globalThis.glassgpt.attention.cellSize), 14);
  await page.evaluate(() => { location.hash = '#prompt=JULIET%3A%0A&layer=0&head=1&seed=9&temp=0.5'; });
  await page.waitForFunction(() => document.getElementById('att-large').dataset.t === '8');
  assert.equal(await page.inputValue('#prompt'), 'JULIET:\n');
  assert.equal(await page.inputValue('#layer'), '0');
  assert.equal(await page.inputValue('#head'), '1');
  assert.equal(await page.getAttribute('.att-thumb[data-layer="0"][data-head="1"]', 'aria-pressed'), 'true');
  assert.equal(await page.inputValue('#seed'), '9');
  assert.equal(await page.textContent('#temperature-out'), '0.50');
  assert.notEqual(await page.evaluate(() => globalThis.glassgpt.attention.cellSize), 14, 'the zoom fits the width again');
  // A section anchor names no setting: the view stays.
  await page.evaluate(() => { location.hash = '#attention'; });
  await page.waitForTimeout(300);
  assert.equal(await page.inputValue('#prompt'), 'JULIET:\n');
  assert.equal(await page.inputValue('#head'), '1');
  // A link asking for more top-k candidates than the vocabulary has: the slider, its label, the
  // state sent to the core and the link all say the vocabulary's size.
  await context.close();
  assert.deepEqual(problems, []);
  const big = await openPlayground(`${SITE}#prompt=ROMEO%3A%0A&topk=9999&seed=7`);
  const vocab = await big.page.textContent('[data-cfg="vocab_size"]');
  assert.equal(await big.page.inputValue('#top_k'), vocab);
  assert.equal(await big.page.textContent('#top_k-out'), vocab);
  await big.page.waitForFunction((v) => location.hash.includes(`topk=${v}`), vocab);
  await big.context.close();
  assert.deepEqual(big.problems, []);
});

test('a megabyte pasted into the prompt: the box keeps its last 10,000 characters, the link the last 2,000, the page goes on', async () => {
  const { page, context, problems } = await openPlayground(SITE + FIXED);
  const pasted = await page.evaluate(async () => {
    const text = (await (await fetch('data/shakespeare.txt')).text()).slice(0, 1 << 20);
    const box = document.getElementById('prompt');
    box.focus();
    box.select();
    const data = new DataTransfer();
    data.setData('text/plain', text);
    const event = new ClipboardEvent('paste', { clipboardData: data, bubbles: true, cancelable: true });
    box.dispatchEvent(event);
    return { prevented: event.defaultPrevented, length: box.value.length, endsRight: text.endsWith(box.value) };
  });
  assert.deepEqual(pasted, { prevented: true, length: 10000, endsRight: true });
  assert.match(await page.textContent('#gen-note'), /^The prompt keeps the last 10,000 of the 1,048,576 characters pasted: the model reads only its last \d+\.$/);
  await page.waitForFunction(() => (new URLSearchParams(location.hash.slice(1)).get('prompt') ?? '').length === 2000);
  // The model continues the text's end.
  const done = await page.evaluate(() => Number(document.getElementById('textout').dataset.done ?? 0));
  await page.click('#generate-btn');
  await page.waitForFunction((n) => Number(document.getElementById('textout').dataset.done ?? 0) > n, done, { timeout: 60000 });
  assert.ok((await page.textContent('#text-gen')).length > 0);
  assert.deepEqual(problems, []);
  await context.close();
});

test('a corrupt checkpoint is refused with a message and the model keeps generating', async () => {
  const { page, context, problems } = await openPlayground(SITE + FIXED);
  const reference = await generate(page);
  await page.setInputFiles('#ckpt-file', { name: 'junk.safetensors', mimeType: 'application/octet-stream', buffer: Buffer.from('this is not a checkpoint, just some junk bytes\u0000\u0001\u0002') });
  await page.waitForSelector('.own-status.error');
  const msg = await page.textContent('#ckpt-status');
  assert.match(msg, /Could not load junk\.safetensors: .+\. The current model \(shakespeare\.safetensors\) is still loaded\./);
  assert.doesNotMatch(msg, /panicked|RuntimeError|unreachable/);
  await shot(page, '#own', 'playground-bad-checkpoint');
  assert.equal(await generate(page), reference, 'the same model, the same text');
  // A real checkpoint loads through the same input.
  const bytes = fs.readFileSync(new URL('../../www/models/shakespeare.safetensors', import.meta.url));
  await page.setInputFiles('#ckpt-file', { name: 'mine.safetensors', mimeType: 'application/octet-stream', buffer: bytes });
  await page.waitForFunction(() => document.body.dataset.modelName === 'mine.safetensors', null, { timeout: 30000 });
  assert.match(await page.textContent('#ckpt-status'), /^Loaded mine\.safetensors/);
  assert.equal(await generate(page), reference);
  // The page is at the file input (the screenshot above scrolled there), below the lower views:
  // they were drawn for the new model. Loaded with the page at its top, a model's lower views
  // wait until they come near.
  await lowerViewsDrawn(page, true);
  await page.evaluate(() => window.scrollTo(0, 0));
  await page.setInputFiles('#ckpt-file', { name: 'again.safetensors', mimeType: 'application/octet-stream', buffer: bytes });
  await page.waitForFunction(() => document.body.dataset.modelName === 'again.safetensors' && document.body.dataset.model === 'ready', null, { timeout: 30000 });
  await lowerViewsDrawn(page, false);
  await page.locator('#positions').scrollIntoViewIfNeeded();
  await lowerViewsDrawn(page, true);
  // A file dropped on the page loads as a checkpoint (the browser would leave the page for it);
  // a bad one says why in the banner too, and the model stays.
  const drop = (name, url) => page.evaluate(async ({ name, url }) => {
    const body = url ? await (await fetch(url)).arrayBuffer() : new Uint8Array([1, 2, 3, 4, 5, 6, 7, 8, 9]);
    const data = new DataTransfer();
    data.items.add(new File([body], name));
    const event = new DragEvent('drop', { dataTransfer: data, bubbles: true, cancelable: true });
    document.querySelector('h1').dispatchEvent(event);
    return event.defaultPrevented;
  }, { name, url });
  assert.equal(await drop('dropped.safetensors', 'models/shakespeare.safetensors'), true, 'the page took the drop');
  await page.waitForFunction(() => document.body.dataset.modelName === 'dropped.safetensors' && document.body.dataset.model === 'ready', null, { timeout: 30000 });
  assert.equal(await drop('nine-bytes.safetensors'), true);
  await page.waitForFunction(() => /Could not load nine-bytes\.safetensors: .+ The current model \(dropped\.safetensors\) is still loaded/.test(document.getElementById('banner')?.textContent ?? ''));
  assert.equal(await page.getAttribute('body', 'data-model-name'), 'dropped.safetensors');
  await context.close();
  assert.deepEqual(problems, []);
});

test('a model worker that cannot start: the page says why, with no trace, and stays usable', async () => {
  // js/boot.js starts the worker before the page's modules load and Engine.adopt takes it over:
  // the worker's failure (its script answers 404 here) must reach the page as a message.
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
  const page = await context.newPage();
  const problems = [];
  page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
  page.on('console', (m) => {
    if (m.type() === 'error' && !/status of 404/.test(m.text())) problems.push(`console error: ${m.text()}`);
  });
  await page.route('**/js/worker.js', (r) => r.fulfill({ status: 404, contentType: 'text/plain', body: 'not here' }));
  await page.goto(SITE);
  await page.waitForFunction(() => document.getElementById('model-card')?.dataset.state === 'error', null, { timeout: 30000 });
  assert.equal(await page.textContent('#model-status'), 'The model cannot run without the core.');
  const banner = await page.textContent('#banner');
  assert.match(banner, /the model worker failed: could not start/);
  assert.doesNotMatch(banner, /TypeError|undefined|panicked|at \w+ \(/);
  assert.equal(await page.isDisabled('#generate-btn'), true, 'nothing to generate with');
  await page.click('a.own-link'); // the page still responds
  await context.close();
  assert.deepEqual(problems, []);
});

test('a full redraw of every attention map at the longest context (measured, not asserted)', async () => {
  const { page, context, problems } = await openPlayground(SITE);
  const T = await blockSize(page);
  const text = fs.readFileSync(new URL('../../www/data/shakespeare.txt', import.meta.url), 'utf8').slice(5000, 5000 + T);
  const n = await inspectedCount(page);
  await page.fill('#prompt', text);
  await inspectedAfter(page, n);
  await page.waitForFunction((t) => document.getElementById('att-large').dataset.t === String(t), T);
  const ms = await page.evaluate(() => {
    const att = globalThis.glassgpt.attention;
    att.redrawAll(); // warm
    const times = [];
    for (let i = 0; i < 20; i++) {
      const t0 = performance.now();
      att.redrawAll();
      times.push(performance.now() - t0);
    }
    times.sort((a, b) => a - b);
    return { median: times[10], max: times[19], maps: att.thumbs.flat().length + 1 };
  });
  console.log(`redraw of ${ms.maps} attention maps at T = ${T}: median ${ms.median.toFixed(2)} ms, max ${ms.max.toFixed(2)} ms`);
  await page.evaluate(() => document.querySelector('.att-main').scrollIntoView());
  const box = await page.$eval('.att-canvas', (c) => ({ w: c.clientWidth, h: c.clientHeight }));
  await page.hover('.att-canvas', { position: { x: box.w - 160, y: box.h - 40 } });
  await page.screenshot({ path: path.join(ARTIFACTS, 'playground-attention-long.png') });
  // The same for nanoGPT's shakespeare_char size (6 layers × 6 heads) at T = 128, on made-up
  // attention rows (each a softmax of random scores), whatever the loaded model is.
  const big = await page.evaluate(() => {
    const [L, NH, T] = [6, 6, 128];
    const att = new Float32Array(L * NH * T * T);
    for (let m = 0; m < L * NH; m++) {
      for (let r = 0; r < T; r++) {
        const row = (m * T + r) * T;
        let sum = 0;
        for (let c = 0; c <= r; c++) sum += att[row + c] = Math.exp(3 * Math.random());
        for (let c = 0; c <= r; c++) att[row + c] /= sum;
      }
    }
    const a = globalThis.glassgpt.attention;
    a.setData({ attention: att, nLayer: L, nHead: NH, T, chars: [...'x'.repeat(T)] });
    const times = [];
    for (let i = 0; i < 20; i++) {
      const t0 = performance.now();
      a.redrawAll();
      times.push(performance.now() - t0);
    }
    times.sort((x, y) => x - y);
    return { T, median: times[10], max: times[19], maps: L * NH + 1 };
  });
  console.log(`redraw of ${big.maps} attention maps (6 × 6 + 1) at T = 128: median ${big.median.toFixed(2)} ms, max ${big.max.toFixed(2)} ms`);
  fs.writeFileSync(path.join(ARTIFACTS, 'redraw.json'), JSON.stringify({ model: { T, ...ms }, nanogpt_6x6: big }, null, 2));
  await context.close();
  assert.deepEqual(problems, []);
});

test('time from page load to the first generated character (measured, not asserted)', async () => {
  // An eager reader: Generate is clicked in the first frame after the page says the model is
  // ready (an init script, so no round trip to the test adds to the time). The times are the
  // page's own marks, from navigation start: worker and wasm up, model parsed, every view on or
  // near the screen drawn, first character drawn. Three loads each; the median load is reported.
  const eager = () => {
    const check = () => {
      if (document.body?.dataset.model === 'ready') document.getElementById('generate-btn').click();
      else requestAnimationFrame(check);
    };
    requestAnimationFrame(check);
  };
  for (const [name, url] of [['threads', SITE], ['single thread', SITE_NOCOI]]) {
    const runs = [];
    for (let i = 0; i < 3; i++) {
      const { page, context, problems } = await open(browser, url, { init: eager });
      await page.waitForFunction(() => performance.getEntriesByName('glassgpt:first-char').length > 0, null, { timeout: 60000 });
      runs.push(await page.evaluate(() => Object.fromEntries(performance.getEntriesByType('mark')
        .filter((m) => m.name.startsWith('glassgpt:')).map((m) => [m.name.slice(9), Math.round(m.startTime)]))));
      await page.evaluate(() => document.getElementById('stop-btn').click());
      await context.close();
      assert.deepEqual(problems, []);
    }
    runs.sort((a, b) => a['first-char'] - b['first-char']);
    const m = runs[1];
    assert.ok(m.engine <= m['model-loaded'] && m['model-loaded'] <= m['model-ready'] && m['model-ready'] <= m['first-char'], JSON.stringify(m));
    console.log(`${name}: engine ${m.engine} ms, model parsed ${m['model-loaded']} ms, views on screen drawn ${m['model-ready']} ms, first generated character at ${m['first-char']} ms after navigation (median of ${runs.map((r) => r['first-char']).join(', ')})`);
    fs.mkdirSync(ARTIFACTS, { recursive: true });
    fs.writeFileSync(path.join(ARTIFACTS, `first-char-${name.replace(' ', '-')}.json`), JSON.stringify(runs));
  }
});

test('phone width: the page wraps instead of scrolling sideways', async () => {
  const { page, context, problems } = await openPlayground(SITE, { viewport: { width: 390, height: 844 } });
  await page.locator('#embeddings').scrollIntoViewIfNeeded(); // every view drawn, the lower ones too
  await lowerViewsDrawn(page, true);
  const overflow = await page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
  assert.ok(overflow <= 0, `the page is ${overflow}px wider than the screen`);
  await screenshot(page, 'playground-phone');
  await context.close();
  assert.deepEqual(problems, []);
});
