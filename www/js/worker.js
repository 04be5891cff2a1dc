// The worker that owns the wasm core. The page talks to it through engine.js.
import { loadWasm } from './load.js';

let core = null; // { wasm, build, threads, note }

/** Posts an event to the page (for streamed results). */
export function emit(event, data, transfer = []) {
  self.postMessage({ event, data }, transfer);
}

const handlers = {
  async init({ prefer = 'auto' } = {}) {
    core = await loadWasm({ prefer });
    return { version: core.wasm.version(), build: core.wasm.buildKind(), threads: core.threads, note: core.note };
  },

  /** A small matmul in wasm checked against a plain JS triple loop. */
  matmulCheck({ m = 7, k = 13, n = 5 } = {}) {
    const a = Float32Array.from({ length: m * k }, (_, i) => Math.sin(i * 0.37));
    const w = Float32Array.from({ length: n * k }, (_, i) => Math.cos(i * 0.11));
    const got = core.wasm.matmul(a, w, m, k, n);
    let maxDiff = 0;
    for (let i = 0; i < m; i++) {
      for (let j = 0; j < n; j++) {
        let acc = 0;
        for (let p = 0; p < k; p++) acc += a[i * k + p] * w[j * k + p];
        maxDiff = Math.max(maxDiff, Math.abs(acc - got[i * n + j]));
      }
    }
    return { m, k, n, maxDiff, sample: Array.from(got.slice(0, 3)) };
  },
};

self.onmessage = async (e) => {
  const { id, method, args } = e.data;
  try {
    const handler = handlers[method];
    if (!handler) throw new Error(`unknown worker method ${method}`);
    if (method !== 'init' && !core) throw new Error('the wasm core is not loaded yet');
    const result = await handler(args);
    self.postMessage({ id, result });
  } catch (err) {
    // A JsError from the core, or a JS error: either way a message for a person, no trace.
    self.postMessage({ id, error: String(err?.message ?? err) });
  }
};
