// A measurement, not a test: how long the Train page's "tiny" preset takes, on the bundled
// Shakespeare in headless Chromium, to bring the validation loss below a target (2.0 by
// default). Run it against a served site:
//
//   cargo xtask serve --no-isolation &          # single thread (simd128 build)
//   node tests/e2e/train-speed.mjs [url] [--target 2.0] [--limit 600] [--every 50]
//
// It prints one line per evaluation and a JSON summary: seconds of training (the page's
// elapsed time: steps, evaluations, samples and snapshots, pauses excluded) to the first
// evaluation under the target, the step, tokens/s, the build and kernels the page used, and
// the overheads the page measured. It stops at the target or after --limit seconds.
import { launch, open, screenshot, ARTIFACTS } from './lib.mjs';

const args = process.argv.slice(2);
const flag = (name, dflt) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? Number(args[i + 1]) : dflt;
};
const base = args.find((a) => a.startsWith('http')) ?? process.env.GLASSGPT_URL_NOCOI ?? 'http://127.0.0.1:8080/';
const target = flag('target', 2.0);
const limit = flag('limit', 600);
const every = flag('every', 50);
const preset = args.includes('--small') ? 'small' : 'tiny';

const browser = await launch();
const { page, context, problems } = await open(browser, `${new URL('train.html', base).href}#preset=${preset}&evalEvery=${every}&evalIters=10`);
await page.waitForSelector('body[data-ready="true"]', { timeout: 60000 });
await page.waitForSelector('[data-stat="chars"]', { timeout: 60000 });
const pill = await page.textContent('#backend-pill');
await page.click('#start');
const t0 = Date.now();
let reached = null, seen = 0;
for (;;) {
  await page.waitForTimeout(500);
  const rows = await page.$$eval('#evals tbody tr', (rs) => rs.map((r) => ({ ...r.dataset })).reverse());
  for (const r of rows.slice(seen)) console.log(`step ${r.step.padStart(5)}  train ${Number(r.train).toFixed(4)}  val ${Number(r.val).toFixed(4)}  ${Number(r.elapsed).toFixed(1)} s`);
  seen = rows.length;
  reached = rows.find((r) => Number(r.val) < target) ?? null;
  const st = await page.getAttribute('body', 'data-train-state');
  if (reached || st === 'done' || st === 'error' || (Date.now() - t0) / 1000 > limit) break;
}
await page.click('#pause').catch(() => {});
await page.waitForTimeout(300);
const stats = await page.$$eval('[data-stat]', (els) => Object.fromEntries(els.map((e) => [e.dataset.stat, e.textContent])));
const overhead = await page.textContent('#overhead');
await screenshot(page, `train-speed-${preset}`);
// The live part of the page, as a reader sees it (the README's screenshot).
await page.setViewportSize({ width: 1280, height: 1500 });
await page.$eval('.controls', (el) => window.scrollTo(0, el.getBoundingClientRect().top + window.scrollY - 70));
await page.waitForTimeout(300);
await page.screenshot({ path: `${ARTIFACTS}/train-speed-${preset}-live.png` });
console.log(JSON.stringify({
  preset, target, backend: pill, reached: reached ? { step: Number(reached.step), val: Number(reached.val), seconds: Number(reached.elapsed) } : null,
  tokensPerSec: stats.tps, lastStep: stats.step, overhead, problems,
}, null, 2));
await context.close();
await browser.close();
