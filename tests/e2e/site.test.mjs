// The site shell: the wasm core loads in the worker, picks the threaded build exactly when the
// page is cross-origin isolated, and computes a matmul that agrees with JavaScript.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { launch, open, screenshot, SITE, SITE_NOCOI } from './lib.mjs';

let browser;
before(async () => { browser = await launch(); });
after(async () => { await browser?.close(); });

async function loadIndex(url, shot, { pool = false } = {}) {
  const { page, context, problems, warnings } = await open(browser, url);
  await page.waitForSelector('body[data-ready="true"], .banner.error:not([hidden])', { timeout: 30000 });
  // The threaded build runs on one thread until its pool is up, and the facts say so: wait for it.
  if (pool) await page.waitForFunction(() => /^threads/.test(document.getElementById('backend-pill').textContent), null, { timeout: 30000 });
  const facts = await page.$$eval('[data-fact]', (els) => Object.fromEntries(els.map((e) => [e.dataset.fact, e.textContent])));
  const pill = await page.textContent('#backend-pill');
  if (shot) await screenshot(page, shot);
  await context.close();
  return { facts, pill, problems, warnings };
}

test('cross-origin isolated: the threaded build loads and the matmul agrees', async () => {
  const { facts, pill, problems, warnings } = await loadIndex(SITE, 'index-threads', { pool: true });
  assert.deepEqual(problems, []);
  // The pool's workers start the glue the current way (the build rewrites wasm-bindgen-rayon's call).
  assert.deepEqual(warnings.filter((w) => /deprecated parameters/.test(w)), []);
  assert.match(facts.version, /^\d+\.\d+\.\d+$/);
  assert.equal(facts.coi, 'true');
  // Chromium has relaxed SIMD, so the relaxed flavour of the threaded build is the one loaded.
  assert.equal(facts.build, 'threads (kernel: wasm simd128 + relaxed madd)');
  assert.ok(Number(facts.threads) >= 2, `threads = ${facts.threads}`);
  assert.match(pill, /^threads/);
  assert.equal(facts['mm-verdict'], 'agrees');
  assert.ok(Number(facts['mm-diff']) < 1e-5);
});

test('not isolated: the single-thread SIMD build loads instead', async () => {
  const { facts, pill, problems } = await loadIndex(SITE_NOCOI, 'index-simd');
  assert.deepEqual(problems, []);
  assert.equal(facts.coi, 'false');
  assert.equal(facts.build, 'simd128 (kernel: wasm simd128 + relaxed madd)');
  assert.equal(facts.threads, '1');
  assert.match(pill, /^simd128/);
  assert.equal(facts['mm-verdict'], 'agrees');
});

test('relaxed SIMD can be turned off: the plain simd128 build loads and agrees too', async () => {
  const { page, context, problems } = await open(browser, `${SITE_NOCOI}bench.html#relaxed=0`);
  await page.waitForFunction(() => /kernel/.test(document.querySelector('[data-fact="build"]')?.textContent ?? ''), null, { timeout: 30000 });
  const build = await page.textContent('[data-fact="build"]');
  assert.match(build, /^simd128 \(1 thread; kernel wasm simd128\)$/);
  const check = await page.evaluate(async () => {
    const { Engine } = await import('./js/engine.js');
    const e = await Engine.start({ relaxed: 'off' });
    const r = await e.call('matmulCheck', { m: 65, k: 129, n: 31 });
    e.terminate();
    return r;
  });
  assert.ok(check.maxDiff < 1e-4, `plain simd128 matmul vs JS: ${check.maxDiff}`);
  assert.deepEqual(problems, []);
  await context.close();
});

test('turning a phone and resizing the window shows no error on any page', async () => {
  // Charts redraw to their width inside a ResizeObserver; the browser then reports "ResizeObserver
  // loop completed with undelivered notifications" as a window error event, which is not a failure.
  let seen = 0;
  for (const name of ['index.html', 'train.html', 'calculator.html', 'embed.html']) {
    const { page, context, problems } = await open(browser, `${SITE}${name}`, { viewport: { width: 375, height: 800 } });
    await page.evaluate(() => { globalThis.errorEvents = []; addEventListener('error', (e) => globalThis.errorEvents.push(e.message)); });
    await page.waitForSelector('body[data-ready="true"], body[data-model="ready"], .banner.error:not([hidden])', { timeout: 60000 });
    for (const [width, height] of [[800, 375], [375, 800], [1280, 900], [375, 800], [600, 800], [375, 800]]) {
      await page.setViewportSize({ width, height });
      await page.waitForTimeout(300);
    }
    const banner = await page.evaluate(() => { const b = document.getElementById('banner'); return !b || b.hidden ? '' : b.textContent; });
    const events = await page.evaluate(() => globalThis.errorEvents);
    console.log(`${name}: ${events.length} window error event(s) while resizing${events.length ? ` (${[...new Set(events)].join('; ')})` : ''}`);
    assert.doesNotMatch(banner, /went wrong/, `${name}: ${banner}`);
    assert.ok(events.every((m) => /^ResizeObserver loop/.test(m)), `${name}: ${events.join('; ')}`);
    assert.deepEqual(problems, [], name);
    await context.close();
    seen += events.length;
  }
  // The premise: the browser did report the loop (else the banner was never put to the test).
  assert.ok(seen > 0, 'no page reported a ResizeObserver loop while resizing');
});
