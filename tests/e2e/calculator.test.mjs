// The sizing calculator page: the seed report's figures by default, edits that update the
// outputs and the link, a reload that restores the scenario, invalid inputs that are named
// beside their field while the outputs stay at their last valid values, presets, the Train
// page's model, phone width and embed mode.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { launch, open, screenshot, SITE } from './lib.mjs';

const URL_CALC = new URL('calculator.html', SITE).href;

let browser;
before(async () => { browser = await launch(); });
after(async () => { await browser?.close(); });

async function openCalculator(url = URL_CALC, options) {
  const opened = await open(browser, url, options);
  await opened.page.waitForSelector('body[data-ready="true"], .banner.error:not([hidden])', { timeout: 30000 });
  return opened;
}

/** The displayed value of the output at `path` (its data-q). */
const value = (page, path) => page.textContent(`[data-q="${path}"] .q-value`);
const formula = (page, path) => page.textContent(`[data-q="${path}"] .q-formula`);
const glance = (page, id) => page.textContent(`[data-glance="${id}"] .tile-value`);
/** The link's parameters, once the page has written it (it waits 150 ms after the last change). */
async function hashParams(page) {
  await page.waitForSelector('body:not([data-hash-pending])', { state: 'attached' });
  return page.evaluate(() => Object.fromEntries(new URLSearchParams(location.hash.slice(1))));
}

/** No "Something went wrong" banner: the page's last-resort error handler did not fire. */
async function assertNoErrorBanner(page) {
  assert.equal(await page.isVisible('.banner.error'), false, await page.textContent('#banner').catch(() => ''));
}

/** Every output's text, which must never show NaN or Infinity. */
async function assertFinite(page) {
  const text = await page.textContent('#outputs');
  assert.doesNotMatch(text, /NaN|Infinity|undefined/);
}

test('shows the seed report\'s figures by default, each with its formula', async () => {
  const { page, context, problems } = await openCalculator();
  // Training: 6ND, the deadline, GPUs, servers and their costs.
  assert.equal(await value(page, 'training.flops'), '3.15 × 10²³ FLOPs');
  assert.equal(await formula(page, 'training.flops'), '6 × N × D = 6 × 1.75e11 × 3e11 = 3.15e23 (forward + backward)');
  assert.equal(await value(page, 'training.flop_per_s'), '121.528 PFLOP/s');
  assert.equal(await value(page, 'training.deployment.gpus'), '1,558 GPUs');
  assert.equal(await value(page, 'training.deployment.gpu_cost'), '$23.37M');
  assert.equal(await value(page, 'training.deployment.servers'), '195 servers');
  assert.equal(await value(page, 'training.deployment.server_cost'), '$38.805M');
  // Inference, as the report states it.
  assert.equal(await value(page, 'inference.tokens_per_day'), '7.9 × 10¹² tokens');
  assert.equal(await value(page, 'inference.stated.flops_per_day'), '4.76 × 10²⁴ FLOPs');
  assert.equal(await value(page, 'inference.stated.flop_per_s'), '55.093 EFLOP/s');
  assert.equal(await value(page, 'inference.stated.deployment.gpus_reported'), '706,000 GPUs');
  assert.equal(await value(page, 'inference.stated.deployment.gpus'), '706,315 GPUs');
  assert.equal(await value(page, 'inference.stated.deployment.gpu_cost'), '$10.595B');
  assert.equal(await value(page, 'inference.stated.deployment.servers_reported'), '88,000 servers');
  assert.equal(await value(page, 'inference.stated.deployment.server_cost_reported'), '$17.512B');
  // ...beside the formula's 2N reading, with the note on the difference.
  assert.equal(await value(page, 'inference.formula.flops_per_token'), '3.5 × 10¹¹ FLOPs');
  assert.equal(await value(page, 'inference.formula.flop_per_s'), '32.002 EFLOP/s');
  assert.equal(await value(page, 'inference.formula.deployment.gpus'), '410,286 GPUs');
  assert.match(await page.textContent('#inference-note'), /The stated 4\.76e24 FLOPs a day .* 3\.44304 × N/);
  // The same figures at a glance.
  assert.equal(await glance(page, 'train-flops'), '3.15 × 10²³');
  assert.equal(await glance(page, 'infer-flops'), '4.76 × 10²⁴');
  assert.equal(await glance(page, 'train-gpus'), '1,558');
  assert.equal(await glance(page, 'train-gpu-cost'), '$23.37M');
  assert.equal(await glance(page, 'train-servers'), '195');
  assert.equal(await glance(page, 'train-server-cost'), '$38.805M');
  assert.equal(await glance(page, 'infer-flops-per-s'), '55.093 EFLOP/s');
  assert.equal(await glance(page, 'infer-gpus'), '706,000');
  assert.equal(await glance(page, 'infer-gpu-cost'), '$10.595B');
  assert.equal(await glance(page, 'infer-servers'), '88,000');
  assert.equal(await glance(page, 'infer-server-cost'), '$17.512B');
  // Parameters and memory.
  assert.equal(await value(page, 'model.params'), '175B params');
  assert.equal(await value(page, 'model.count.total'), '174.604B params');
  assert.equal(await value(page, 'memory.training.total'), '2.8 TB');
  assert.equal(await value(page, 'memory.training.gpus_to_hold'), '70 GPUs');
  // The form shows the scenario; the seed is the empty hash.
  assert.equal(await page.inputValue('#f-days'), '30');
  assert.equal(await page.inputValue('#f-tokens'), '300B');
  assert.equal(await page.inputValue('#f-util'), '0.5');
  assert.equal(await page.inputValue('#f-peak'), '156');
  assert.equal(await page.inputValue('#f-precision'), 'tf32');
  assert.deepEqual(await hashParams(page), {});
  // Both charts drew: 49 deadlines, and two memory bars of three parts.
  await page.waitForSelector('body:not([data-chart-pending])', { state: 'attached' }); // drawn in a task of its own
  const points = await page.$eval('#deadline-chart path.series-gpus', (p) => p.getAttribute('d').split('L').length);
  assert.equal(points, 49);
  assert.equal(await page.$$eval('#memory-chart rect', (r) => r.length), 6);
  assert.match(await page.textContent('#backend-pill'), /simd128/);
  // The nav lists this page as current.
  assert.equal(await page.textContent('nav a[aria-current="page"]'), 'Calculator');
  await assertFinite(page);
  await screenshot(page, 'calculator');
  await assertNoErrorBanner(page);
  assert.deepEqual(problems, []);
  await context.close();
});

test('editing an input updates the outputs and the link, and a reload restores it', async () => {
  const { page, context, problems } = await openCalculator();
  await page.fill('#f-days', '15');
  // Half the deadline: twice the compute rate, twice the GPUs (1,558.05 × 2 = 3,116.1).
  assert.equal(await value(page, 'training.flop_per_s'), '243.056 PFLOP/s');
  assert.equal(await value(page, 'training.deployment.gpus'), '3,116 GPUs');
  assert.equal(await formula(page, 'training.flop_per_s'), 'FLOPs / (days × 86,400 s) = 3.15e23 / (15 × 86,400) = 2.43056e17');
  assert.deepEqual(await hashParams(page), { days: '15' });
  await page.fill('#f-gpu_price', '20k');
  assert.equal(await value(page, 'training.deployment.gpu_cost'), '$62.32M');
  // A GPU preset brings its own peaks, memory, power and price.
  await page.selectOption('#f-gpu', 'h100-sxm');
  assert.equal(await page.inputValue('#f-peak'), '494.7');
  assert.equal(await page.inputValue('#f-gpu_price'), '30000');
  await page.fill('#f-gpu_price', '20k');
  // The link holds numbers in one spelling: 20k is 20000.
  assert.deepEqual(await hashParams(page), { gpu: 'h100-sxm', days: '15', gpu_price: '20000' });
  const gpus = await value(page, 'training.deployment.gpus');

  await page.reload();
  await page.waitForSelector('body[data-ready="true"]', { timeout: 30000 });
  assert.equal(await page.inputValue('#f-days'), '15');
  assert.equal(await page.inputValue('#f-gpu_price'), '20000');
  assert.equal(await page.inputValue('#f-gpu'), 'h100-sxm');
  assert.equal(await value(page, 'training.deployment.gpus'), gpus);
  // 3.15e23 / (15 days × 86,400 s) / (494.7e12 × 0.5) = 982.64 → 983 H100s, at $20,000 each.
  assert.equal(gpus, '983 GPUs');
  assert.equal(await value(page, 'training.deployment.gpu_cost'), '$19.66M');

  // The reset button goes back to the presets' values (the GPU preset stays chosen).
  await page.click('#reset');
  assert.equal(await page.inputValue('#f-days'), '30');
  assert.deepEqual(await hashParams(page), { gpu: 'h100-sxm' });
  await assertNoErrorBanner(page);
  assert.deepEqual(problems, []);
  await context.close();
});

test('a link opens its scenario', async () => {
  const { page, context, problems } = await openCalculator(`${URL_CALC}#preset=gpt2&days=7&util=0.4&tokens=10B`);
  assert.equal(await page.inputValue('#f-preset'), 'gpt2');
  assert.equal(await value(page, 'model.params'), '124.44M params');
  assert.equal(await value(page, 'training.tokens'), '10¹⁰ tokens');
  // 6 × 124,439,808 × 1e10 FLOPs / (7 × 86,400 s) / (156e12 × 0.4) = 0.0206 → at least one GPU.
  assert.equal(await value(page, 'training.deployment.gpus'), '1 GPU');
  await assertNoErrorBanner(page);
  assert.deepEqual(problems, []);
  await context.close();
});

test('an invalid input is named beside its field and the outputs keep their last valid values', async () => {
  const { page, context, problems } = await openCalculator();
  const cases = [
    ['#f-util', '1.5', 'util', /must be in \(0, 1\], got 1\.5/],
    ['#f-days', '0', 'days', /must be positive, got 0/],
    ['#f-days', '-3', 'days', /must be positive, got -3/],
    ['#f-tokens', 'lots', 'tokens', /not a number/],
    ['#f-tokens', '', 'tokens', /enter a number/],
    ['#f-n_head', '7', 'n_head', /7 does not divide n_embd = 12288/],
    ['#f-per_server', '2.5', 'per_server', /must be a whole number, got 2\.5/],
    ['#f-qpd', '1e400', 'qpd', /must be finite/],
    ['#f-tokens', '1e300', 'tokens', /^1e300 is absurdly large \(at most 1e16\)$/],
  ];
  for (const [sel, text, key, message] of cases) {
    const before = await page.inputValue(sel);
    await page.fill(sel, text);
    assert.match(await page.textContent(`#err-${key}`), message, `${sel} = ${text}`);
    assert.equal(await page.getAttribute(sel, 'aria-invalid'), 'true');
    assert.equal(await page.isVisible('#stale'), true);
    // Still the seed's figures, never NaN.
    assert.equal(await value(page, 'training.deployment.gpus'), '1,558 GPUs');
    assert.equal(await glance(page, 'infer-gpus'), '706,000');
    await assertFinite(page);
    assert.deepEqual(await hashParams(page), {}, 'an invalid scenario does not reach the link');
    await page.fill(sel, before);
    assert.equal(await page.textContent(`#err-${key}`), '');
    assert.equal(await page.getAttribute(sel, 'aria-invalid'), null);
  }
  // Two bad fields at once: both are named.
  await page.fill('#f-util', '2');
  await page.fill('#f-days', '0');
  assert.match(await page.textContent('#err-util'), /must be in \(0, 1\]/);
  assert.match(await page.textContent('#err-days'), /must be positive/);
  await screenshot(page, 'calculator-invalid');
  await page.fill('#f-util', '0.25');
  await page.fill('#f-days', '60');
  assert.equal(await page.isVisible('#stale'), false);
  // Quarter utilisation over twice the time: the same GPU count.
  assert.equal(await value(page, 'training.deployment.gpus'), '1,558 GPUs');
  await assertNoErrorBanner(page);
  assert.deepEqual(problems, []);
  await context.close();
});

test('a model preset changes the parameter count; the in-page model needs the Train page', async () => {
  const { page, context, problems } = await openCalculator();
  await page.selectOption('#f-preset', 'gpt3-6.7b');
  assert.equal(await value(page, 'model.params'), '6.658B params');
  assert.equal(await page.inputValue('#f-n_embd'), '4096');
  assert.equal(await page.inputValue('#f-params'), '', 'N is counted from the shape');
  assert.match(await page.textContent('#out-inference-stated'), /No stated figure/);
  assert.equal((await hashParams(page)).preset, 'gpt3-6.7b');

  const option = page.locator('#f-preset option[value="trained"]');
  assert.equal(await option.isDisabled(), true);
  assert.match(await option.textContent(), /train a model on the Train page first/);

  // What the Train page leaves behind: a 4-layer, 128-wide character model.
  await page.evaluate(() => localStorage.setItem('glassgpt.trainedModel',
    JSON.stringify({ n_layer: 4, n_head: 4, n_embd: 128, block_size: 128, vocab_size: 65, tokens_trained: 1e6 })));
  await page.reload();
  await page.waitForSelector('body[data-ready="true"]', { timeout: 30000 });
  assert.equal(await option.isDisabled(), false);
  await page.selectOption('#f-preset', 'trained');
  // wte 65·128 + wpe 128·128 + 4 × (2·256 + 128·384+384 + 128·128+128 + 128·512+512 + 512·128+128) + ln_f 256 = 818,048.
  assert.equal(await value(page, 'model.params'), '818.048K params');
  assert.equal(await value(page, 'training.tokens'), '10⁶ tokens');
  assert.equal(await page.isVisible('#trained-compare'), true);
  assert.match(await page.textContent('#trained-compare'), /GPT-3 175B/);
  await screenshot(page, 'calculator-trained');
  await assertNoErrorBanner(page);
  assert.deepEqual(problems, []);
  await context.close();
});

test('fits a phone, and embeds without the site chrome', async () => {
  const { page, context, problems } = await openCalculator(URL_CALC, { viewport: { width: 375, height: 800 } });
  const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
  assert.ok(overflow <= 0, `the page is ${overflow}px wider than the phone`);
  // The inputs stack in one column.
  const lefts = await page.$$eval('#inputs fieldset', (fs) => new Set(fs.map((f) => Math.round(f.getBoundingClientRect().left))).size);
  assert.equal(lefts, 1);
  await screenshot(page, 'calculator-phone');
  // An absurd value's message wraps beside its field: the page stays as wide as the phone.
  await page.fill('#f-tokens', '1e300');
  await page.waitForFunction(() => document.getElementById('err-tokens').textContent !== '');
  const wide = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
  assert.ok(wide <= 0, `with the message for 1e300 the page is ${wide}px wider than the phone`);
  await context.close();
  assert.deepEqual(problems, []);

  const embed = await openCalculator(`${URL_CALC}#embed=1&days=15`);
  assert.equal(await embed.page.isVisible('#site-header'), false);
  assert.equal(await value(embed.page, 'training.deployment.gpus'), '3,116 GPUs');
  await embed.page.fill('#f-days', '10');
  assert.deepEqual(await hashParams(embed.page), { embed: '1', days: '10' }, 'the embed flag survives an edit');
  assert.deepEqual(embed.problems, []);
  await embed.context.close();
});

test('every input is labelled and reachable by keyboard', async () => {
  const { page, context, problems } = await openCalculator();
  const unlabelled = await page.$$eval('#inputs input, #inputs select', (els) =>
    els.filter((e) => !e.labels?.length || !e.labels[0].textContent.trim()).map((e) => e.id));
  assert.deepEqual(unlabelled, []);
  // Tab from the preset reaches the first number box, and typing there recomputes.
  await page.focus('#f-preset');
  await page.keyboard.press('Tab');
  assert.equal(await page.evaluate(() => document.activeElement.id), 'f-n_layer');
  await page.keyboard.press('Control+A');
  await page.keyboard.type('48');
  assert.equal((await hashParams(page)).n_layer, '48');
  await assertNoErrorBanner(page);
  assert.deepEqual(problems, []);
  await context.close();
});
