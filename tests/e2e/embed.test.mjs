// Embedding: a blog on another origin (served here, without COOP/COEP, with hostile CSS) embeds
// widgets by the script tag and a page by iframe; the dist folder works from a sub-path of another
// server, and offline once the service worker has it.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import fs from 'node:fs';
import path from 'node:path';
import { launch, screenshot, SITE, SITE_NOCOI } from './lib.mjs';

const ROOT = path.resolve(path.dirname(new URL(import.meta.url).pathname), '../..');
const DIST = process.env.GLASSGPT_DIST ?? path.join(ROOT, 'dist');

let browser;
before(async () => { browser = await launch(); });
after(async () => { await browser?.close(); });

/** Serves `handler(pathname)` → { body, type } | null on an ephemeral port; resolves { url, close }. */
function serve(handler) {
  const sockets = new Set();
  const server = http.createServer((req, res) => {
    const r = handler(decodeURIComponent(new URL(req.url, 'http://x').pathname));
    if (!r) { res.writeHead(404, { 'Content-Type': 'text/plain' }); res.end('not found'); return; }
    res.writeHead(200, { 'Content-Type': r.type, 'Cache-Control': 'no-cache' });
    res.end(r.body);
  });
  server.on('connection', (s) => { sockets.add(s); s.on('close', () => sockets.delete(s)); });
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve({
    url: `http://127.0.0.1:${server.address().port}/`,
    close: () => new Promise((done) => { for (const s of sockets) s.destroy(); server.close(done); }),
  })));
}

const TYPES = { html: 'text/html; charset=utf-8', js: 'text/javascript', css: 'text/css', wasm: 'application/wasm', svg: 'image/svg+xml', json: 'application/json' };

/** A page that records problems: console errors, failed requests, requests outside `origins`. */
async function openPage(url, origins) {
  const context = await browser.newContext({ viewport: { width: 1100, height: 900 } });
  const page = await context.newPage();
  const problems = [];
  page.on('console', (m) => { if (m.type() === 'error') problems.push(`console error: ${m.text()}`); });
  page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
  page.on('requestfailed', (r) => problems.push(`request failed: ${r.url()} (${r.failure()?.errorText})`));
  page.on('response', (r) => { if (r.status() >= 400) problems.push(`HTTP ${r.status()}: ${r.url()}`); });
  const watch = (r) => {
    const u = r.url();
    if (!origins.some((o) => u.startsWith(o)) && !u.startsWith('data:') && !u.startsWith('blob:')) problems.push(`request outside the allowed origins: ${u}`);
  };
  context.on('request', watch);
  await page.goto(url);
  return { page, context, problems };
}

test('a blog on another origin embeds two widgets by script tag and one page by iframe', async () => {
  const glass = SITE_NOCOI;
  const hostHtml = `<!doctype html><html><head><meta charset="utf-8"><title>A blog</title><link rel="icon" href="data:,">
    <style>* { color: red !important; font-size: 40px !important; font-family: serif !important }
      canvas { display: none !important } div { border: 3px dotted lime !important } .att-grid { display: inline !important }</style>
    <script type="module" src="${glass}embed.js"></script></head>
    <body><h1>My post</h1><p class="readout">Host text.</p>
    <glassgpt-attention id="a1" prompt="To be, or not to be" layer="1" head="2"></glassgpt-attention>
    <p>Between the figures.</p>
    <glassgpt-posenc id="p1" d="32" length="64"></glassgpt-posenc>
    <glassgpt-attention id="a2" prompt="ROMEO: and JULIET" layer="0" head="0" grid="false"></glassgpt-attention>
    <iframe id="f1" src="${glass}index.html#embed=1&prompt=HAMLET" width="900" height="600" title="glassgpt"></iframe>
    </body></html>`;
  const host = await serve((p) => (p === '/' ? { body: hostHtml, type: TYPES.html } : null));
  try {
    assert.notEqual(new URL(host.url).origin, new URL(glass).origin);
    const { page, context, problems } = await openPage(host.url, [host.url, glass]);
    await page.waitForFunction(() => ['a1', 'p1', 'a2'].every((id) => document.getElementById(id).dataset.ready), null, { timeout: 90000 });
    const facts = await page.evaluate(() => {
      const shadowFacts = (id) => {
        const root = document.getElementById(id).shadowRoot;
        const canvases = [...root.querySelectorAll('canvas')];
        const text = root.querySelector('.gg-title');
        const cs = getComputedStyle(text);
        const box = document.getElementById(id).getBoundingClientRect();
        return {
          ready: document.getElementById(id).dataset.ready,
          canvases: canvases.length,
          visibleCanvases: canvases.filter((c) => getComputedStyle(c).display !== 'none' && c.width > 0 && c.getBoundingClientRect().width > 0).length,
          color: cs.color, fontSize: cs.fontSize, status: root.querySelector('.gg-status').textContent,
          width: box.width, hostWidth: document.body.clientWidth,
          // Some pixels of the large map are not blank.
          inked: canvases.some((c) => { try { const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data; for (let i = 0; i < d.length; i += 4) if (d[i] < 200) return true; } catch { /* */ } return false; }),
        };
      };
      return {
        coi: window.crossOriginIsolated,
        stats: { ...window.glassgptEmbed },
        a1: shadowFacts('a1'), p1: shadowFacts('p1'), a2: shadowFacts('a2'),
        hostSheets: document.styleSheets.length,
        a2GridHidden: document.getElementById('a2').shadowRoot.querySelector('.att-grid').hidden,
      };
    });
    assert.equal(facts.coi, false, 'the blog is not cross-origin isolated');
    assert.deepEqual(facts.stats, { workers: 1, models: 1, ready: 3 }, 'one worker and one model for three widgets');
    for (const id of ['a1', 'p1', 'a2']) {
      const f = facts[id];
      assert.equal(f.ready, 'true', `${id}: ${f.status}`);
      assert.ok(f.visibleCanvases >= 1, `${id}: canvases drawn and visible despite the host's canvas rule (${JSON.stringify(f)})`);
      assert.ok(f.inked, `${id}: something was drawn`);
      assert.notEqual(f.color, 'rgb(255, 0, 0)', `${id}: the host's colour leaked in`);
      assert.notEqual(f.fontSize, '40px', `${id}: the host's font size leaked in`);
      assert.ok(Math.abs(f.width - f.hostWidth) < 2, `${id}: as wide as its container (${f.width} vs ${f.hostWidth})`);
    }
    // The attention of layer 1 head 2 over 19 characters: the large map, one canvas per head in the grid.
    assert.ok(facts.a1.visibleCanvases > facts.a2.visibleCanvases, `grid="false" hides the small maps (${facts.a1.visibleCanvases} vs ${facts.a2.visibleCanvases})`);
    assert.equal(facts.a2GridHidden, true);
    // The attribute changed on the page: the small maps come and go with it.
    await page.evaluate(() => { document.getElementById('a2').removeAttribute('grid'); document.getElementById('a1').setAttribute('grid', 'false'); });
    await page.waitForFunction(() => !document.getElementById('a2').shadowRoot.querySelector('.att-grid').hidden
      && document.getElementById('a1').shadowRoot.querySelector('.att-grid').hidden);
    await page.waitForFunction(() => document.getElementById('a2').shadowRoot.querySelectorAll('.att-grid canvas').length > 1);
    assert.equal(facts.hostSheets, 1, 'glassgpt added no stylesheet to the host document');

    // The iframe: the playground without its chrome, its state from the hash.
    const frame = page.frame({ url: /index\.html#embed=1/ });
    await frame.waitForSelector('body[data-ready="true"][data-model="ready"]', { timeout: 90000 });
    const f = await frame.evaluate(() => ({
      embed: document.body.classList.contains('embed'),
      header: getComputedStyle(document.getElementById('site-header')).display,
      prompt: document.getElementById('prompt').value,
    }));
    assert.equal(f.embed, true);
    assert.equal(f.header, 'none', 'the site chrome is hidden');
    assert.match(f.prompt, /^HAMLET/);
    await screenshot(page, 'embed-host');
    assert.deepEqual(problems, []);
    await context.close();
  } finally {
    await host.close();
  }
});

test('<glassgpt-train> on another origin trains in the shared worker: start, pause, resume, done, and the loss falls', async () => {
  const glass = SITE_NOCOI;
  const hostHtml = `<!doctype html><html><head><meta charset="utf-8"><title>A blog</title><link rel="icon" href="data:,">
    <style>* { color: red !important; font-size: 40px !important } svg { display: none !important }</style>
    <script type="module" src="${glass}embed.js"></script></head>
    <body><h1>Train a GPT</h1>
    <glassgpt-train id="t1" preset="tiny" steps="300" prompt="ROMEO:"></glassgpt-train>
    <glassgpt-playground id="g1" prompt="JULIET:" length="30" seed="5"></glassgpt-playground>
    </body></html>`;
  const host = await serve((p) => (p === '/' ? { body: hostHtml, type: TYPES.html } : null));
  try {
    const { page, context, problems } = await openPage(host.url, [host.url, glass]);
    await page.waitForFunction(() => ['t1', 'g1'].every((id) => document.getElementById(id).dataset.ready === 'true'), null, { timeout: 90000 });
    const root = (sel) => `document.getElementById('t1').shadowRoot.querySelector(${JSON.stringify(sel)})`;
    const click = (label) => page.evaluate((l) => [...document.getElementById('t1').shadowRoot.querySelectorAll('button')].find((b) => b.textContent === l).click(), label);
    await click('Start training');
    await page.waitForFunction(() => document.getElementById('t1').dataset.val !== undefined, null, { timeout: 60000 });
    const firstVal = Number(await page.evaluate(() => document.getElementById('t1').dataset.val));
    await page.waitForFunction(() => Number(document.getElementById('t1').dataset.step) >= 30, null, { timeout: 60000 });
    await click('Pause');
    await page.waitForFunction(() => document.getElementById('t1').dataset.state === 'paused');
    const pausedAt = Number(await page.evaluate(() => document.getElementById('t1').dataset.step));
    await page.waitForTimeout(600);
    assert.equal(Number(await page.evaluate(() => document.getElementById('t1').dataset.step)), pausedAt, 'a paused run takes no steps');
    // The playground widget shares the worker: it generates while the run is paused.
    await page.evaluate(() => document.getElementById('g1').shadowRoot.querySelector('button.primary').click());
    await page.waitForFunction(() => Number(document.getElementById('g1').dataset.generated) > 0, null, { timeout: 60000 });
    await click('Resume');
    await page.waitForFunction(() => document.getElementById('t1').dataset.state === 'done', null, { timeout: 120000 });
    const f = await page.evaluate(`({
      step: Number(document.getElementById('t1').dataset.step), val: Number(document.getElementById('t1').dataset.val),
      paths: ${root('svg')} ? ${root('svg')}.querySelectorAll('path, polyline, circle').length : 0,
      svgShown: ${root('svg')} ? getComputedStyle(${root('svg')}).display !== 'none' : false,
      sample: ${root('.gg-out')}.textContent, status: ${root('.gg-status')}.textContent,
      color: getComputedStyle(${root('.gg-title')}).color, stats: { ...window.glassgptEmbed },
    })`);
    console.log(`<glassgpt-train>: validation loss ${firstVal.toFixed(3)} at step 0, ${f.val.toFixed(3)} at step ${f.step}; ${f.status}`);
    assert.equal(f.step, 300);
    assert.ok(firstVal > 3.5 && f.val < firstVal - 1.0, `the validation loss fell: ${firstVal} -> ${f.val}`);
    assert.ok(f.paths > 3 && f.svgShown, `the loss chart is drawn and the host's svg rule does not reach it (${f.paths} marks)`);
    assert.match(f.sample, /^step \d+: /);
    assert.notEqual(f.color, 'rgb(255, 0, 0)');
    assert.equal(f.stats.workers, 1, 'one worker for both widgets');
    await screenshot(page, 'embed-train');
    assert.deepEqual(problems, []);
    await context.close();
  } finally {
    await host.close();
  }
});

test("glassgpt's own embed guide renders every widget under its CSP", async () => {
  const { page, context, problems } = await openPage(`${SITE}embed.html`, [SITE]);
  await page.waitForFunction(() => [...document.querySelectorAll('glassgpt-attention, glassgpt-posenc, glassgpt-calculator, glassgpt-playground, glassgpt-train')]
    .every((e) => e.dataset.ready), null, { timeout: 90000 });
  const states = await page.$$eval('glassgpt-attention, glassgpt-posenc, glassgpt-calculator, glassgpt-playground, glassgpt-train', (els) => els.map((e) => `${e.localName}:${e.dataset.ready}`));
  assert.deepEqual(states, ['glassgpt-attention:true', 'glassgpt-posenc:true', 'glassgpt-calculator:true', 'glassgpt-playground:true', 'glassgpt-train:true']);
  const tiles = await page.evaluate(() => [...document.querySelector('glassgpt-calculator').shadowRoot.querySelectorAll('[data-tile]')].map((t) => t.textContent));
  assert.ok(tiles.length >= 4 && tiles[0].includes('FLOP'), tiles.join(' | '));
  assert.match(tiles[0], /^3\.15 × 10²³ FLOPs/, 'powers of ten as the calculator page prints them');
  // select="false" set on the page hides the menu, and its removal brings it back.
  const menuHidden = () => page.evaluate(() => document.querySelector('glassgpt-calculator').shadowRoot.querySelector('select').hidden);
  assert.equal(await menuHidden(), false);
  await page.evaluate(() => document.querySelector('glassgpt-calculator').setAttribute('select', 'false'));
  await page.waitForFunction(() => document.querySelector('glassgpt-calculator').shadowRoot.querySelector('select').hidden);
  await page.evaluate(() => document.querySelector('glassgpt-calculator').removeAttribute('select'));
  await page.waitForFunction(() => !document.querySelector('glassgpt-calculator').shadowRoot.querySelector('select').hidden);
  // The generate box writes text.
  await page.evaluate(() => document.querySelector('glassgpt-playground').shadowRoot.querySelector('button.primary').click());
  await page.waitForFunction(() => Number(document.querySelector('glassgpt-playground').dataset.generated) > 0, null, { timeout: 60000 });
  assert.equal(await page.evaluate(() => window.glassgptEmbed.workers), 1);
  // temperature="0" always takes the likeliest character: the seed makes no difference. An
  // attribute out of range is used clamped, and the widget says so.
  const texts = await page.evaluate(async () => {
    const add = (html) => {
      const box = document.createElement('div');
      box.innerHTML = html;
      document.querySelector('main').append(box);
      return box.firstElementChild;
    };
    const widgets = [1, 2, 3].map((seed) => add(`<glassgpt-playground prompt="ROMEO:" length="60" seed="${seed}" temperature="${seed < 3 ? '0' : '-1'}"></glassgpt-playground>`));
    const train = add('<glassgpt-train preset="tiny" steps="-5"></glassgpt-train>');
    const ready = (e) => new Promise((ok) => { const t = setInterval(() => { if (e.dataset.ready) { clearInterval(t); ok(); } }, 50); });
    await Promise.all([...widgets, train].map(ready));
    const out = [];
    for (const w of widgets) {
      w.shadowRoot.querySelector('button.primary').click();
      await new Promise((ok) => { const t = setInterval(() => { if (Number(w.dataset.generated) > 0) { clearInterval(t); ok(); } }, 50); });
      out.push({ text: w.shadowRoot.querySelector('.gg-out').textContent, status: w.shadowRoot.querySelector('.gg-status').textContent });
    }
    out.push({ status: train.shadowRoot.querySelector('.gg-status').textContent });
    return out;
  });
  assert.equal(texts[0].text, texts[1].text, 'greedy: seeds 1 and 2 give the same text');
  assert.equal(texts[2].text, texts[0].text, 'temperature -1 is used as 0');
  assert.match(texts[2].status, /\(temperature="-1" is not a number from 0 to 2: 0 is used\.\)$/);
  assert.doesNotMatch(texts[0].status, /is used/);
  assert.match(texts[3].status, /1 steps? of \d+ sequences\. \(steps="-5" is not a whole number from 1 to 100000: 1 is used\.\)$/);
  await screenshot(page, 'embed-guide');
  assert.deepEqual(problems, []);
  await context.close();
});

test('the Embed button gives both snippets for the current state', async () => {
  const { page, context, problems } = await openPage(`${SITE}calculator.html#preset=gpt2`, [SITE]);
  await page.waitForSelector('body[data-ready="true"]', { timeout: 60000 });
  await page.click('#embed-button');
  const el = await page.inputValue('#embed-snippet-element');
  const fr = await page.inputValue('#embed-snippet-iframe');
  assert.match(el, /<script type="module" src="http:\/\/127\.0\.0\.1:\d+\/embed\.js"><\/script>/);
  assert.match(el, /<glassgpt-calculator preset="gpt2"><\/glassgpt-calculator>/);
  assert.match(fr, /src="http:\/\/127\.0\.0\.1:\d+\/calculator\.html#embed=1&amp;preset=gpt2"/);
  await screenshot(page, 'embed-dialog');
  assert.deepEqual(problems, []);
  await context.close();
  // The playground's: the attention element with the prompt, layer and head in view.
  const pg = await openPage(`${SITE}index.html#prompt=HAMLET%3A&layer=2&head=1`, [SITE]);
  await pg.page.waitForSelector('body[data-ready="true"]', { timeout: 60000 });
  await pg.page.click('#embed-button');
  assert.match(await pg.page.inputValue('#embed-snippet-element'), /<glassgpt-attention prompt="HAMLET:" layer="2" head="1"><\/glassgpt-attention>/);
  assert.match(await pg.page.inputValue('#embed-snippet-iframe'), /index\.html#embed=1&amp;prompt=HAMLET%3A&amp;layer=2&amp;head=1"/);
  // An edit the page has not yet put in its link (it waits 150 ms) is in the snippet all the
  // same: the edit and the click in one task, so no timer can have run between them.
  await pg.page.keyboard.press('Escape');
  const snippet = await pg.page.evaluate(() => {
    const prompt = document.getElementById('prompt');
    prompt.value = 'OTHELLO:';
    prompt.dispatchEvent(new Event('input'));
    document.getElementById('embed-button').click();
    return document.getElementById('embed-snippet-iframe').value;
  });
  assert.match(snippet, /&amp;prompt=OTHELLO%3A&amp;/);
  assert.deepEqual(pg.problems, []);
  await pg.context.close();
});

/** Serves dist/ under `prefix` like a plain static host: no COOP/COEP, no CORS. */
function serveDist(prefix) {
  return serve((p) => {
    if (!p.startsWith(prefix)) return null;
    let rel = p.slice(prefix.length) || 'index.html';
    if (rel.endsWith('/')) rel += 'index.html';
    const file = path.resolve(DIST, rel);
    if (!file.startsWith(DIST) || !fs.existsSync(file) || fs.statSync(file).isDirectory()) return null;
    return { body: fs.readFileSync(file), type: TYPES[path.extname(file).slice(1)] ?? 'application/octet-stream' };
  });
}

const NO_DIST = !fs.existsSync(path.join(DIST, 'index.html')) && 'no dist/ (cargo xtask dist)';

test('dist/ works from a sub-path of a plain static host, then offline', { skip: NO_DIST }, async () => {
  const prefix = '/some/blog/glassgpt/';
  const server = await serveDist(prefix);
  const base = new URL(prefix, server.url).href;
  let closed = false;
  try {
    const { page, context, problems } = await openPage(`${base}index.html`, [base]);
    await page.waitForSelector('body[data-ready="true"][data-model="ready"]', { timeout: 90000 });
    await page.waitForSelector('body[data-offline="ready"]', { timeout: 60000 });
    assert.equal(await page.isVisible('#offline-pill'), true, 'the "works offline" pill shows');
    const build = await page.textContent('[data-fact="build"]');
    assert.match(build, /^simd128 /, 'not isolated: the single-thread build');
    assert.deepEqual(problems, [], 'online, from the sub-path');

    await server.close();
    closed = true;
    // Offline: the pages, the wasm, the worker and the model all come from the service worker.
    await page.goto(`${base}index.html#prompt=JULIET`);
    await page.waitForSelector('body[data-ready="true"][data-model="ready"]', { timeout: 90000 });
    await page.goto(`${base}calculator.html`);
    await page.waitForSelector('body[data-ready="true"]', { timeout: 60000 });
    await page.goto(`${base}embed.html`);
    await page.waitForFunction(() => document.querySelector('glassgpt-attention')?.dataset.ready === 'true', null, { timeout: 90000 });
    // Every script of the guide came from the cache: its chrome and its snippets are there.
    await page.waitForSelector('body[data-ready="true"] #site-header .brand', { timeout: 30000 });
    assert.match(await page.textContent('[data-snippet="script"]'), /embed\.js/);
    await screenshot(page, 'embed-offline');
    await context.close();
  } finally {
    if (!closed) await server.close();
  }
});

test('?coi=1: on a host without COOP/COEP the service worker isolates the page and the threaded build runs', { skip: NO_DIST }, async () => {
  const prefix = '/pages/glassgpt/';
  const server = await serveDist(prefix);
  const base = new URL(prefix, server.url).href;
  try {
    // Without the switch: not isolated.
    const { page, context, problems } = await openPage(`${base}index.html`, [base]);
    await page.waitForSelector('body[data-ready="true"]', { timeout: 90000 });
    assert.equal(await page.evaluate(() => window.crossOriginIsolated), false);
    await page.waitForSelector('body[data-offline="ready"]', { timeout: 60000 });
    // With it: one reload, then isolated, and the worker picks the threaded build.
    await page.goto(`${base}index.html?coi=1`);
    await page.waitForFunction(() => window.crossOriginIsolated === true, null, { timeout: 60000 });
    await page.waitForSelector('body[data-ready="true"][data-model="ready"]', { timeout: 90000 });
    assert.match(await page.textContent('[data-fact="build"]'), /^threads /);
    assert.equal(await page.textContent('[data-fact="coi"]'), 'true');
    // It is remembered; ?coi=0 turns it off again.
    await page.goto(`${base}index.html?coi=0`);
    // The page first loads isolated (the isolating worker still answers), then reloads without.
    await page.waitForFunction(() => window.crossOriginIsolated === false && document.body?.dataset.ready === 'true', null, { timeout: 90000 })
      .catch(async (e) => {
        const now = await page.evaluate(() => [window.crossOriginIsolated, document.body?.dataset.ready, navigator.serviceWorker.controller?.scriptURL, sessionStorage.getItem('glassgpt.coiReload')]);
        throw new Error(`${e.message}; now ${JSON.stringify(now)}`);
      });
    await page.goto(`${base}index.html`);
    await page.waitForSelector('body[data-ready="true"]', { timeout: 90000 });
    assert.equal(await page.evaluate(() => window.crossOriginIsolated), false);
    // The switch reloads the page, which cancels what the old page was still fetching.
    assert.deepEqual(problems.filter((p) => !p.includes('net::ERR_ABORTED')), []);
    await context.close();
  } finally {
    await server.close();
  }
});

test("the service worker's app shell lists every page, script and stylesheet of the site", () => {
  const www = path.join(ROOT, 'www');
  const sw = fs.readFileSync(path.join(www, 'sw.js'), 'utf8');
  const files = [];
  const walk = (dir) => {
    for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
      const p = path.join(dir, e.name);
      if (e.isDirectory()) walk(p);
      else if (/\.(html|js|css|svg)$/.test(e.name)) files.push(path.relative(www, p));
    }
  };
  walk(www);
  // Widgets are listed by name (js/widgets/NAME.js), the rest by path.
  const missing = files.filter((f) => f !== 'sw.js' && !sw.includes(`'${f}'`)
    && !(f.startsWith('js/widgets/') && sw.includes(`'${path.basename(f, '.js')}'`)));
  assert.ok(files.length > 20, `found ${files.length} files`);
  assert.deepEqual(missing, [], 'add these to SHELL in www/sw.js, or they are missing offline');
});
