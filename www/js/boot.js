// Starts the playground's model worker before anything else on the page runs. A classic script,
// first in <head> and importing nothing, so the worker loads its wasm build and downloads the
// model while the page's stylesheets and modules load and its first layout runs (which takes the
// main thread for 100-200 ms on a slow machine: a module here waited for it). playground.js takes
// the worker over with `Engine.adopt(globalThis.glassgptBootWorker)`; the message below is engine.js's
// protocol ({ id, method, args }), and what the worker sends until then is queued.
(() => {
  try {
    const backend = new URLSearchParams(location.hash.slice(1)).get('backend');
    const worker = new Worker(new URL('worker.js', document.currentScript.src), { type: 'module' });
    const boot = { worker, id: 1, queue: [] }; // queue: { data } and { error } in the order they came
    worker.onmessage = (e) => boot.queue.push({ data: e.data });
    worker.onerror = (e) => {
      e.preventDefault(); // Engine.adopt reports it
      boot.queue.push({ error: e });
    };
    worker.postMessage({ id: boot.id, method: 'init', args: {
      gpu: ['auto', 'webgpu', 'cpu'].includes(backend) ? backend : 'auto',
      prefetch: new URL('models/shakespeare.safetensors', location.href).href,
    } });
    globalThis.glassgptBootWorker = boot;
  } catch {
    // No worker from here (an old browser, a file:// page): playground.js starts the engine itself
    // and reports what goes wrong.
  }
})();
