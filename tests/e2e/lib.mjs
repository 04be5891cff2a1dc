// Shared helpers for the end-to-end tests: Debian's Chromium, headless, driven by playwright-core
// (which never downloads a browser). Every page opened here records console errors, page
// errors, failed requests, HTTP errors and any request that leaves the site's origin, so a
// test can assert that there were none.
import { chromium } from 'playwright-core';
import fs from 'node:fs';
import path from 'node:path';

/** The site served cross-origin isolated (threads available) and not (single thread). */
export const SITE = process.env.GLASSGPT_URL ?? 'http://127.0.0.1:8080/';
export const SITE_NOCOI = process.env.GLASSGPT_URL_NOCOI ?? SITE;

export const ARTIFACTS = path.join(path.dirname(new URL(import.meta.url).pathname), 'artifacts');

/** Launches headless Chromium with a fresh profile. */
export async function launch({ webgpu = false } = {}) {
  const args = [
    '--headless=new', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
    '--disable-background-networking', '--disable-component-update', '--disable-sync',
    '--disable-dev-shm-usage',
  ];
  if (webgpu) args.push('--enable-unsafe-webgpu');
  // playwright gives each launch a fresh, temporary profile of its own.
  return chromium.launch({ executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium', args, headless: true });
}

/** Opens `url` in a new page and records every problem the page has; `route(context)`, if given,
 *  runs first (to stand in for some of the site's files). */
export async function open(browser, url, { viewport = { width: 1280, height: 900 }, init, route } = {}) {
  const context = await browser.newContext({ viewport, acceptDownloads: true });
  if (route) await route(context);
  const page = await context.newPage();
  if (init) await page.addInitScript(init); // runs in the page before its own scripts
  const problems = [];
  const warnings = []; // console warnings: not problems by themselves, for a test to look at
  const origin = new URL(url).origin;
  page.on('console', (m) => {
    if (m.type() === 'error') problems.push(`console error: ${m.text()}`);
    if (m.type() === 'warning') warnings.push(m.text());
  });
  page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
  page.on('requestfailed', (r) => {
    // A navigation (reload, goto) cancels the browser's own favicon fetch if it is still in
    // flight: that is not the page failing to load something.
    if (r.failure()?.errorText === 'net::ERR_ABORTED' && /\/favicon\.svg$/.test(r.url())) return;
    problems.push(`request failed: ${r.url()} (${r.failure()?.errorText})`);
  });
  page.on('response', (r) => {
    if (r.status() >= 400) problems.push(`HTTP ${r.status()}: ${r.url()}`);
  });
  page.on('request', (r) => {
    const u = r.url();
    if (!u.startsWith(origin) && !u.startsWith('data:') && !u.startsWith('blob:')) problems.push(`request outside the origin: ${u}`);
  });
  await page.goto(url);
  return { page, context, problems, warnings };
}

/** Saves a screenshot under tests/e2e/artifacts/ (for a person to look at). */
export async function screenshot(page, name) {
  fs.mkdirSync(ARTIFACTS, { recursive: true });
  const file = path.join(ARTIFACTS, `${name}.png`);
  await page.screenshot({ path: file, fullPage: true });
  return file;
}
