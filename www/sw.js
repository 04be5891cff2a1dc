// glassgpt's service worker: the site works offline after one visit.
//
// On install it caches the app shell (every page, script, stylesheet, every wasm build and the
// shipped model); every other same-origin GET it serves (the corpus, the threaded build's helper
// scripts) is cached the first time it is fetched. Requests go to the network first, so a
// deployed update shows at once; when the network fails the cached copy answers.
//
// Opt-in cross-origin isolation for static hosts that cannot set headers (GitHub Pages), the
// coi-serviceworker technique: registered as `sw.js?coi=1` (a page opened with `?coi=1`, see
// js/site.js), it adds COOP/COEP to every response, so the page reloads cross-origin isolated
// and the threaded build runs. Off by default.
const VERSION = 'glassgpt-v3';
const COI = new URL(self.location.href).searchParams.get('coi') === '1';

const SHELL = [
  './', 'index.html', 'train.html', 'calculator.html', 'bench.html', 'embed.html',
  'style.css', 'playground.css', 'favicon.svg', 'embed.js',
  'js/bench.js', 'js/boot.js', 'js/calculator.js', 'js/engine.js', 'js/hashstate.js', 'js/load.js', 'js/numbers.js', 'js/playground.js',
  'js/site.js', 'js/train-worker.js', 'js/train.js', 'js/train-presets.js', 'js/worker.js', 'js/embed-dialog.js', 'js/embed-page.js',
  ...['attention-grid', 'attention', 'calculator-chart', 'chars', 'colormap', 'flops-scale', 'heatmap', 'lineplot',
    'loss-chart', 'matrix', 'memory-chart', 'next-chars', 'nextchar', 'positions', 'scatter', 'svg', 'vocab-view', 'width']
    .map((w) => `js/widgets/${w}.js`),
  'pkg/glassgpt.js', 'pkg/glassgpt_bg.wasm', 'pkg-threads/glassgpt.js', 'pkg-threads/glassgpt_bg.wasm',
  'pkg-relaxed/glassgpt.js', 'pkg-relaxed/glassgpt_bg.wasm', 'pkg-threads-relaxed/glassgpt.js', 'pkg-threads-relaxed/glassgpt_bg.wasm',
  'pkg-webgpu/glassgpt.js', 'pkg-webgpu/glassgpt_bg.wasm', 'pkg-sizing/glassgpt.js', 'pkg-sizing/glassgpt_bg.wasm',
  'models/shakespeare.safetensors',
];

self.addEventListener('install', (event) => {
  event.waitUntil((async () => {
    const cache = await caches.open(VERSION);
    // One missing file (a build without the threaded package, say) must not undo the rest.
    await Promise.allSettled(SHELL.map(async (path) => {
      const res = await fetch(new Request(path, { cache: 'reload' }));
      if (res.ok) await cache.put(path, res);
    }));
    await self.skipWaiting();
  })());
});

self.addEventListener('activate', (event) => {
  event.waitUntil((async () => {
    for (const key of await caches.keys()) if (key !== VERSION) await caches.delete(key);
    await self.clients.claim();
  })());
});

self.addEventListener('fetch', (event) => {
  const req = event.request;
  if (req.method !== 'GET' || new URL(req.url).origin !== self.location.origin) return;
  if (req.headers.has('range')) return;
  event.respondWith(respond(req));
});

async function respond(req) {
  const cache = await caches.open(VERSION);
  let res;
  try {
    res = await fetch(req);
    if (res.status === 200 && res.type === 'basic') cache.put(req, res.clone()).catch(() => {});
  } catch (err) {
    res = await cache.match(req, { ignoreSearch: true });
    if (!res && req.mode === 'navigate') res = await cache.match('index.html');
    if (!res) throw err;
  }
  return COI ? isolate(res) : res;
}

/** The same response with COOP/COEP added (and CORP, so the page's own subresources pass COEP). */
function isolate(res) {
  if (res.status === 0) return res;
  const headers = new Headers(res.headers);
  headers.set('Cross-Origin-Opener-Policy', 'same-origin');
  headers.set('Cross-Origin-Embedder-Policy', 'require-corp');
  if (!headers.has('Cross-Origin-Resource-Policy')) headers.set('Cross-Origin-Resource-Policy', 'same-origin');
  return new Response(res.body, { status: res.status, statusText: res.statusText, headers });
}

self.addEventListener('message', (event) => {
  if (event.data === 'cached?') {
    event.waitUntil((async () => {
      const cache = await caches.open(VERSION);
      const have = await Promise.all(['index.html', 'pkg/glassgpt_bg.wasm', 'models/shakespeare.safetensors'].map((p) => cache.match(p)));
      event.source?.postMessage({ cached: have.every(Boolean), coi: COI });
    })());
  }
});
