// The site chrome shared by every page: the header with the page list and the backend pill,
// a message banner, and a last-resort handler that turns any uncaught error into a readable
// message instead of a trace in the console only.

const PAGES = [
  { id: 'playground', href: 'index.html', label: 'Playground' },
  { id: 'train', href: 'train.html', label: 'Train' },
  { id: 'calculator', href: 'calculator.html', label: 'Calculator' },
  { id: 'bench', href: 'bench.html', label: 'Bench' },
];

/** Whether the page is shown inside an iframe embed (`#embed` or `embed=1` in the hash). */
export function isEmbed() {
  return /(^#|&)embed(=1)?(&|$)/.test(location.hash);
}

/** Renders the header into `<header id="site-header">` and marks `page` current. */
export function renderChrome(page) {
  const header = document.getElementById('site-header');
  if (header) {
    header.className = 'site-header';
    const links = PAGES.map((p) => `<a href="${p.href}"${p.id === page ? ' aria-current="page"' : ''}>${p.label}</a>`)
      .join('');
    header.innerHTML = `<a class="brand" href="index.html">glass<span>gpt</span></a>
      <nav aria-label="Pages">${links}</nav>
      <span class="offline-pill" id="offline-pill" role="status" hidden title="Everything this site needs is cached in this browser: it works without a network">works offline</span>
      <span class="backend-pill" id="backend-pill" role="status" aria-live="polite">loading…</span>`;
  }
  if (isEmbed()) document.body.classList.add('embed');
  installErrorHandlers();
  registerServiceWorker();
}

/**
 * Registers sw.js (the site works offline after one visit) and shows "works offline" once the
 * app is cached. `?coi=1` in the page's URL turns on cross-origin isolation by the service worker
 * for static hosts that cannot send COOP/COEP themselves (remembered in this browser; `?coi=0`
 * turns it off); the page reloads once, isolated, and the threaded build runs.
 */
async function registerServiceWorker() {
  if (!('serviceWorker' in navigator) || !window.isSecureContext) return;
  const q = new URLSearchParams(location.search).get('coi');
  try {
    if (q === '1') localStorage.setItem('glassgpt.coi', '1');
    if (q === '0') localStorage.removeItem('glassgpt.coi');
  } catch { /* storage blocked: the switch lasts for this URL only */ }
  let coi = q === '1';
  try { coi = coi || (q !== '0' && localStorage.getItem('glassgpt.coi') === '1'); } catch { /* as above */ }
  const controlledByCoi = navigator.serviceWorker.controller?.scriptURL.includes('coi=1') ?? false;
  const url = new URL(`../sw.js${coi ? '?coi=1' : ''}`, import.meta.url);
  // A first visit's install downloads every build and the model again (~6 MB) to cache them; on
  // a 2-core machine that work took CPU from the page's own start (the model worker, the first
  // frames). So it waits until the page has loaded and had two seconds more. A switch of the
  // isolation mode, or an update check under a worker already installed, goes at once.
  if (!coi && !navigator.serviceWorker.controller) await afterStart(2000);
  try {
    if (!coi && controlledByCoi && sessionStorage.getItem('glassgpt.coiReload') !== 'off') {
      sessionStorage.setItem('glassgpt.coiReload', 'off');
      // Switching isolation off: drop the isolating worker and reload uncontrolled; the next load
      // registers the plain one. (Waiting for the plain one to take over could leave this page,
      // isolated and running threads, under a worker that no longer sends COEP.)
      await (await navigator.serviceWorker.getRegistration())?.unregister();
      location.reload();
      return;
    }
    const reg = await navigator.serviceWorker.register(url, { scope: new URL('../', import.meta.url).pathname });
    await navigator.serviceWorker.ready;
    navigator.serviceWorker.addEventListener('message', (e) => {
      if (!e.data?.cached) return;
      const pill = document.getElementById('offline-pill');
      if (pill) pill.hidden = false;
      document.body.dataset.offline = 'ready';
    });
    (navigator.serviceWorker.controller ?? reg.active)?.postMessage('cached?');
    // Reload once the worker for the chosen mode controls the page: isolation is decided when a
    // page loads, and a page isolated by the worker must not keep running under one that is not.
    const sw = navigator.serviceWorker;
    if (coi && !window.crossOriginIsolated && sessionStorage.getItem('glassgpt.coiReload') !== 'on') {
      const inMode = () => Boolean(sw.controller) && sw.controller.scriptURL.includes('coi=1') === coi;
      if (!inMode()) {
        await new Promise((resolve) => {
          const check = () => { if (inMode()) { sw.removeEventListener('controllerchange', check); resolve(); } };
          sw.addEventListener('controllerchange', check);
        });
      }
      sessionStorage.setItem('glassgpt.coiReload', 'on');
      location.reload();
    }
  } catch (e) {
    console.warn(`glassgpt: no offline copy (${e.message})`);
  }
}

/** Resolves `ms` after the page's load event. */
function afterStart(ms) {
  const loaded = document.readyState === 'complete' ? Promise.resolve() : new Promise((resolve) => addEventListener('load', resolve, { once: true }));
  return loaded.then(() => new Promise((resolve) => setTimeout(resolve, ms)));
}

/**
 * The pill's words for a CPU backend: "threads · 2 workers" on a pool, else "simd128 · 1 thread"
 * and why (`why`, e.g. " (no pool)"), then " · relaxed" with relaxed SIMD.
 */
export function cpuPill({ pooled, threads, why = '', relaxed }) {
  return `${pooled ? `threads · ${threads} workers` : `simd128 · 1 thread${why}`}${relaxed ? ' · relaxed' : ''}`;
}

/**
 * What a paste (`e.clipboardData`) or a text drop (`e.dataTransfer`) into `box` would leave in it,
 * for a page that takes long texts itself: `{ pasted, whole }` (line ends as a textarea's value
 * has them: the clipboard may hold CRLF, the box turns it to LF), or null for files or no text.
 */
export function pastedInto(box, e) {
  const data = e.clipboardData ?? e.dataTransfer;
  if (!data || data.types.includes('Files')) return null;
  const pasted = data.getData('text/plain').replace(/\r\n?/g, '\n');
  const start = box.selectionStart ?? box.value.length, end = box.selectionEnd ?? box.value.length;
  return { pasted, whole: box.value.slice(0, start) + pasted + box.value.slice(end) };
}

/** A worker's note ("the WebGPU device was lost (…)") as a sentence for the banner. */
export function sentence(note) {
  return `${note[0].toUpperCase()}${note.slice(1)}.`;
}

/** Shows which build/backend runs, e.g. "threads · 2 workers". */
export function setBackend(text, state = 'ready', title = '') {
  const pill = document.getElementById('backend-pill');
  if (!pill) return;
  pill.textContent = text;
  pill.dataset.state = state;
  pill.title = title;
}

/** Shows a message in the page's banner (`<div id="banner">`); kind is error, warn or info. */
export function showMessage(text, kind = 'error') {
  let banner = document.getElementById('banner');
  if (!banner) {
    banner = document.createElement('div');
    banner.id = 'banner';
    document.querySelector('main')?.prepend(banner);
  }
  banner.className = `banner ${kind}`;
  banner.setAttribute('role', kind === 'error' ? 'alert' : 'status');
  banner.textContent = text;
  banner.hidden = false;
}

export function clearMessage() {
  const banner = document.getElementById('banner');
  if (banner) banner.hidden = true;
}

let installed = false;
function installErrorHandlers() {
  if (installed) return;
  installed = true;
  window.addEventListener('unhandledrejection', (e) => {
    showMessage(`Something went wrong: ${e.reason?.message ?? e.reason}`);
  });
  window.addEventListener('error', (e) => {
    // The browser's note that a ResizeObserver callback changed a size it observes (the charts
    // redraw to their new width) and the rest waits for the next frame: nothing went wrong.
    if (/^ResizeObserver loop/.test(e.message)) return;
    showMessage(`Something went wrong: ${e.message}`);
  });
}
