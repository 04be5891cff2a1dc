// The worker that owns the wasm core. The page talks to it through engine.js.
import { loadWasm } from './load.js';
import { trainHandlers } from './train-worker.js';

let core = null; // { wasm, build, threads, note }
let model = null; // the wasm Model handle the playground works with
let generation = 0; // bumped by `stop` and by each new `generate`, so an old loop ends itself

/** Posts an event to the page (for streamed results). */
export function emit(event, data, transfer = []) {
  self.postMessage({ event, data }, transfer);
}

const handlers = {
  async init({ prefer = 'auto' } = {}) {
    core = await loadWasm({ prefer });
    return { version: core.wasm.version(), build: core.wasm.buildKind(), threads: core.threads, note: core.note };
  },

  /**
   * Fetches a checkpoint (reporting 'loadProgress' events) and makes it the current model.
   * On any error the current model stays.
   */
  async loadModel({ url }) {
    const res = await fetch(url);
    if (!res.ok) throw new Error(`could not fetch the model ${url}: HTTP ${res.status}`);
    const total = Number(res.headers.get('Content-Length')) || 0;
    const reader = res.body.getReader();
    const chunks = [];
    let loaded = 0;
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      chunks.push(value);
      loaded += value.length;
      emit('loadProgress', { loaded, total });
    }
    const bytes = new Uint8Array(loaded);
    let off = 0;
    for (const c of chunks) { bytes.set(c, off); off += c.length; }
    return setModel(core.wasm.Model.load(bytes), url.split('/').pop());
  },

  /** Makes a checkpoint the user chose the current model; a bad file throws, the model stays. */
  loadModelBytes({ bytes, name }) {
    return setModel(core.wasm.Model.load(new Uint8Array(bytes)), name);
  },

  /**
   * Generates `length` characters after `prompt`, streaming 'token' events ({ text, tokensPerSec })
   * every few milliseconds, until done or `stop`. Resolves with the whole text and timing.
   */
  async generate({ prompt = '', temperature = 1, top_k = 0, top_p = 1, seed, length = 200 }) {
    const my = ++generation;
    const m = model; // a model loaded meanwhile bumps `generation`, which ends this loop
    const report = m.start(prompt, temperature, top_k, top_p, seed ?? undefined);
    let text = '';
    let pending = '';
    const t0 = performance.now();
    let lastEmit = t0;
    while (text.length < length && my === generation) {
      const piece = m.generate(Math.min(4, length - text.length));
      text += piece;
      pending += piece;
      const now = performance.now();
      if (now - lastEmit > 30) {
        emit('token', { text: pending, total: text.length, tokensPerSec: text.length / ((now - t0) / 1000) });
        pending = '';
        lastEmit = now;
        await yieldToEvents(); // lets a `stop` message in
      }
    }
    const seconds = (performance.now() - t0) / 1000;
    if (pending) emit('token', { text: pending, total: text.length, tokensPerSec: text.length / seconds });
    const stopped = my !== generation;
    const probs = m === model ? m.probs() : new Float32Array(0);
    return { text, seconds, tokensPerSec: text.length / seconds, stopped, report, probs };
  },

  stop() {
    generation++;
    return true;
  },

  /** Attention (L, NH, T, T), next-character distribution and tokens for `text`. */
  inspect({ text }) {
    const report = model.inspect(text);
    const attention = model.attentionView().slice();
    const probs = model.inspectProbs();
    return transferable({ report, attention, probs, tokens: model.inspectedTokens() }, [attention.buffer, probs.buffer]);
  },

  /** The model's embeddings and derived views: wte, wpe, position similarity, PCA of wte. */
  embeddings() {
    const cfg = model.config();
    const wte = model.wteView().slice();
    const wpe = model.wpeView().slice();
    const similarity = new Float32Array(model.positionSimilarity());
    const pca = new Float32Array(cfg.vocab_size * 2);
    const variance = model.embeddingPca(pca);
    return transferable({ config: cfg, wte, wpe, similarity, pca, variance }, [wte.buffer, wpe.buffer, similarity.buffer, pca.buffer]);
  },

  /** The sinusoidal table (length, d) and its position-by-position cosine similarity. */
  sinusoidal({ length, d }) {
    const table = new Float32Array(core.wasm.sinusoidalTable(length, d));
    const similarity = new Float32Array(core.wasm.cosineSimilarity(table, length, d));
    return transferable({ table, similarity, length, d }, [table.buffer, similarity.buffer]);
  },

  /** What this browser and build can run: CPU backends, and WebGPU's adapter if there is one. */
  async backends() {
    const cpu = core.wasm.benchBackends();
    let webgpu = null;
    if (core.wasm.WebGpuMatmul && (await core.wasm.webgpuAvailable())) {
      try {
        const mm = await core.wasm.WebGpuMatmul.create();
        webgpu = String((typeof mm.adapter === 'function' ? mm.adapter() : mm.adapter) || 'adapter');
        mm.free();
      } catch (e) {
        webgpu = null;
      }
    }
    return { build: core.build, threads: core.threads, cpu, webgpu };
  },

  /** One benchmark measurement; `kind` picks the wasm function (see src/wasm/bench.rs). */
  async bench({ kind, backend, op = 'forward', m, k, n, samples = 9, minSampleMs = 20, batch = 16, tokens = 120 }) {
    switch (kind) {
      case 'matmul':
        if (backend === 'webgpu') return benchWebGpuMatmul(m, k, n, samples);
        return core.wasm.benchMatmul(backend, op, m, k, n, samples, minSampleMs);
      case 'train': return core.wasm.benchTrainStep(backend, batch, samples);
      case 'forward': return core.wasm.benchForward(backend, samples);
      case 'generate': return core.wasm.benchGenerate(backend, tokens, samples);
      default: throw new Error(`unknown benchmark ${kind}`);
    }
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

  // The Train page: trainSetText, trainStart, trainPause, trainResume, trainReset, ... (train-worker.js).
  ...trainHandlers({ wasm: () => core.wasm, emit, yieldToEvents, transferable }),
};

// WebGPU matmul timing: each call uploads both operands and reads the product back, so this
// measures the round trip a single matmul costs, not the resident model's throughput.
let gpuMatmul = null;
async function benchWebGpuMatmul(m, k, n, samples) {
  gpuMatmul ??= await core.wasm.WebGpuMatmul.create();
  const x = new Float32Array(m * k), w = new Float32Array(n * k);
  core.wasm.benchFill(x, 1n);
  core.wasm.benchFill(w, 2n);
  await gpuMatmul.matmul(x, w, undefined, m, k, n); // warm-up: pipelines, buffers
  const ms = [];
  for (let i = 0; i < samples; i++) {
    const t0 = performance.now();
    await gpuMatmul.matmul(x, w, undefined, m, k, n);
    ms.push(performance.now() - t0);
  }
  ms.sort((a, b) => a - b);
  const flops = 2 * m * n * k;
  const med = ms[ms.length >> 1];
  return { backend: 'webgpu', op: 'forward (incl. upload + readback)', m, k, n, median_ms: med, min_ms: ms[0], max_ms: ms[ms.length - 1],
    gflops: flops / med / 1e6, gflops_best: flops / ms[0] / 1e6, gflops_worst: flops / ms[ms.length - 1] / 1e6, calls_per_sample: 1 };
}

function setModel(next, name) {
  generation++; // ends a generation running on the old model before it is freed
  model?.free();
  model = next;
  return { name, ...model.config() };
}

// Marks a result's buffers to be moved, not copied, to the page.
const TRANSFER = Symbol('transfer');
function transferable(result, buffers) {
  result[TRANSFER] = buffers;
  return result;
}

// Resolves on the next turn of the event loop (a MessageChannel is not clamped like setTimeout).
function yieldToEvents() {
  return new Promise((resolve) => {
    const ch = new MessageChannel();
    ch.port1.onmessage = () => resolve();
    ch.port2.postMessage(null);
  });
}

const NEEDS_MODEL = new Set(['generate', 'inspect', 'embeddings']);

self.onmessage = async (e) => {
  const { id, method, args } = e.data;
  try {
    const handler = handlers[method];
    if (!handler) throw new Error(`unknown worker method ${method}`);
    if (method !== 'init' && !core) throw new Error('the wasm core is not loaded yet');
    if (NEEDS_MODEL.has(method) && !model) throw new Error('no model is loaded yet');
    const result = await handler(args);
    self.postMessage({ id, result }, result?.[TRANSFER] ?? []);
  } catch (err) {
    // A JsError from the core, or a JS error: either way a message for a person, no trace.
    self.postMessage({ id, error: String(err?.message ?? err) });
  }
};
