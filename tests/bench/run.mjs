// The browser benchmark: opens glassgpt's bench page (single thread on the non-isolated server,
// threads on the isolated one; each with and without relaxed SIMD) and the TensorFlow.js WASM peer in the same headless Chromium,
// and prints every figure (JSON, also saved to results.json), then where each target of issue #4
// stands in this run (summary.mjs). Run it through `cargo xtask bench`.
import { chromium } from 'playwright-core';
import fs from 'node:fs';
import { formatTable, header, summarize } from './summary.mjs';

const SITE = process.env.GLASSGPT_URL ?? 'http://127.0.0.1:8080/';
const SITE_NOCOI = process.env.GLASSGPT_URL_NOCOI ?? SITE;
// The same list as xtask/src/main.rs's BENCHES (checked there before the build).
const NAMES = ['peer', 'pair', 'pair-relaxed', 'par', 'simd128', 'relaxed', 'threads', 'threads-relaxed'];
const only = process.argv.slice(2);
const unknown = only.filter((n) => !NAMES.includes(n));
if (unknown.length) {
  console.error(`unknown benchmark ${unknown.join(', ')}: choose from ${NAMES.join(', ')}`);
  process.exit(2);
}
const want = (name) => only.length === 0 || only.includes(name);

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium',
  headless: true,
  args: ['--headless=new', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
    '--disable-component-update', '--disable-sync', '--disable-dev-shm-usage', '--enable-unsafe-webgpu'],
});
const version = browser.version();

async function run(url, timeoutMs = 600000) {
  const page = await browser.newPage();
  page.on('console', (m) => { if (m.type() === 'error') console.error(`[page] ${m.text()}`); });
  page.on('pageerror', (e) => console.error(`[page] ${e.message}`));
  await page.goto(url);
  await page.waitForFunction(() => window.benchResult !== undefined, null, { timeout: timeoutMs });
  const result = await page.evaluate(() => window.benchResult);
  await page.close();
  return result;
}

const report = { chromium: version, date: new Date().toISOString(), runs: {} };
if (want('peer')) report.runs.peer = await run(`${SITE_NOCOI}peer/peer.html`);
// The target's ratio, with both kernels alternated in one page (see pair.html).
if (want('pair')) report.runs.pair = await run(`${SITE_NOCOI}peer/pair.html?build=pkg`);
if (want('pair-relaxed')) report.runs['pair-relaxed'] = await run(`${SITE_NOCOI}peer/pair.html?build=pkg-relaxed`);
// What the machine gives two independent single-thread programs at once (the two-thread bound).
if (want('par')) report.runs.par = await run(`${SITE}peer/par.html?build=pkg-relaxed`);
// Each build: plain simd128 and, where Chromium has relaxed SIMD, the fused-multiply-add flavour.
if (want('simd128')) report.runs.simd128 = await run(`${SITE_NOCOI}bench.html#auto=1&relaxed=0`);
if (want('relaxed')) report.runs.relaxed = await run(`${SITE_NOCOI}bench.html#auto=1`);
if (want('threads')) report.runs.threads = await run(`${SITE}bench.html#auto=1&relaxed=0`);
if (want('threads-relaxed')) report.runs['threads-relaxed'] = await run(`${SITE}bench.html#auto=1`);
await browser.close();

fs.writeFileSync(new URL('./results.json', import.meta.url), JSON.stringify(report, null, 2));
console.log(JSON.stringify(report, null, 2));
try {
  console.log(`\n${header(report)}\n\n${formatTable(summarize(report))}`);
} catch (e) {
  console.error(`(the targets' summary failed: ${e.message}; every figure is in results.json)`);
}
