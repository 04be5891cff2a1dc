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
      <span class="backend-pill" id="backend-pill" role="status" aria-live="polite">loading…</span>`;
  }
  if (isEmbed()) document.body.classList.add('embed');
  installErrorHandlers();
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
    showMessage(`Something went wrong: ${e.message}`);
  });
}
