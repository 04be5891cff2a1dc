// The worker that owns the wasm core. The page talks to it through engine.js.
import { loadGpuWasm, loadSizingWasm, loadWasm } from './load.js';
import { describeAdapter, pickGpuAdapter, trainHandlers } from './train-worker.js';

let core = null; // what loadWasm returns: { wasm, build, threads, note, timings, startPool, ... }
let model = null; // the wasm Model handle the playground works with
let generation = 0; // bumped by `stop` and by each new `generate`, so an old loop ends itself
let oneThread = false; // the reader chose one thread in the threaded build (setThreads)

// The WebGPU side of the model. The CPU model stays the source of truth (generation with its KV
// cache, training, embeddings); with WebGPU on, the full-sequence forward behind the attention
// maps and the next-character bars runs on the GPU with the weights resident there. Any GPU
// failure (a lost device, a failed pipeline) drops back to the CPU for good and says why; the
// model itself is never on the GPU alone, so nothing is lost.
let gpuWanted = 'auto'; // 'auto' | 'webgpu' | 'cpu' (the reader's choice)
let gpu = null; // a WebGpuGpt mirroring `model`, or null
let gpuNote = ''; // why WebGPU is not in use, when it is not
let gpuAdapter = ''; // the adapter's description while WebGPU is in use

let prefetched = null; // { url, bytes: Promise<Uint8Array> }: init's early download of the page's model

/** Fetches a checkpoint, emitting 'loadProgress' events ({ loaded, total }) as it arrives. */
async function fetchModel(url) {
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
  for (const c of chunks) {
    bytes.set(c, off);
    off += c.length;
  }
  return bytes;
}

/** Posts an event to the page (for streamed results). */
export function emit(event, data, transfer = []) {
  self.postMessage({ event, data }, transfer);
}

const handlers = {
  async init({ prefer = 'auto', relaxed = 'auto', gpu: wantGpu = 'auto', prefetch } = {}) {
    // The page's model downloads while the wasm build starts (loadModel then takes it from here).
    if (prefetch) {
      prefetched = { url: prefetch, bytes: fetchModel(prefetch) };
      prefetched.bytes.catch(() => {}); // loadModel reports the failure
    }
    core = await loadWasm({ prefer, relaxed });
    // The threaded build's pool starts now, in the background: the core runs on one thread until
    // it is up, and the worker holds training and benchmarks until then (BEFORE_POOL), or until
    // loadWasm gives up waiting. The page hears of each change ('backend').
    core.onPool = () => emit('backend', { ...backendStatus(), why: 'pool' });
    core.startPool();
    gpuWanted = ['auto', 'webgpu', 'cpu'].includes(wantGpu) ? wantGpu : 'auto';
    return { version: core.wasm.version(), build: core.wasm.buildKind(), threads: core.threads, relaxed: core.relaxed, isa: core.wasm.kernelIsa?.() ?? '', note: core.note, timings: core.timings };
  },

  /** Which backend runs what, and why: { forward, generate, adapter, wanted, note }. */
  backend() {
    return backendStatus();
  },

  /** The reader's choice: 'auto' (WebGPU on a real GPU, else the CPU), 'webgpu' or 'cpu'. */
  async setBackend({ want = 'auto' } = {}) {
    gpuWanted = ['auto', 'webgpu', 'cpu'].includes(want) ? want : 'auto';
    await syncGpu();
    return backendStatus();
  },

  /** The reader's CPU choice in a threaded build: `on` false runs the model on one thread (the
   *  same results), true on the pool again. Returns the backend status, with `kernels`: the
   *  core's kernels now ('simd128' until the pool is up). */
  setThreads({ on = true } = {}) {
    oneThread = core.build === 'threads' && !on;
    const kernels = core.wasm.useThreads(!oneThread);
    return { ...backendStatus(), kernels };
  },

  /** Destroys the GPU device, as a driver reset would: the next GPU call fails and the model falls back. */
  loseGpuDevice() {
    if (!gpu) return false;
    gpu.destroy();
    return true;
  },

  /**
   * Fetches a checkpoint (reporting 'loadProgress' events) and makes it the current model.
   * On any error the current model stays.
   */
  async loadModel({ url }) {
    const early = prefetched?.url === url ? prefetched.bytes : null;
    prefetched = null;
    const bytes = await (early ?? fetchModel(url));
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
      // The first characters at once; then pieces of ~4 ms, each one piece of work for the pool.
      const piece = m.generate(Math.min(text.length ? 32 : 4, length - text.length));
      text += piece;
      pending += piece;
      const now = performance.now();
      if (now - lastEmit > 30 || text.length === piece.length) { // the first piece at once, then every 30 ms
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

  /** Attention (L, NH, T, T), next-character distribution and tokens for `text`, and the backend that computed them. */
  async inspect({ text }) {
    if (gpu) {
      const m = model;
      try {
        const report = m.encodeForInspect(text);
        const tokens = m.inspectedTokens();
        const t = tokens.length;
        const v = m.config().vocab_size;
        const logits = await gpu.forward(tokens, 1, t);
        const attention = await gpu.attention();
        if (m === model && gpu) {
          const probs = softmax(logits.subarray((t - 1) * v, t * v));
          return transferable({ report, attention, probs, tokens, backend: 'webgpu' }, [attention.buffer, probs.buffer]);
        }
      } catch (e) {
        dropGpu(e);
      }
    }
    const report = model.inspect(text);
    const attention = model.attentionView().slice();
    const probs = model.inspectProbs();
    return transferable({ report, attention, probs, tokens: model.inspectedTokens(), backend: backendStatus().forward }, [attention.buffer, probs.buffer]);
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

  /** The sizing calculator for a preset ('seed' or a model id): { scenario, estimate, presets }. */
  async sizing({ preset = 'seed' } = {}) {
    const sizing = await loadSizingWasm();
    const presets = sizing.presets();
    const scenario = sizing.scenario(preset);
    return { scenario, estimate: sizing.estimate(scenario), models: presets.models.map((m) => ({ id: m.id, name: m.name })) };
  },

  /** What this browser and build can run: CPU backends, and WebGPU's adapter if there is one
   *  (`webgpuSoftware`: it is a software one, such as SwiftShader). */
  async backends() {
    const cpu = core.wasm.benchBackends();
    let webgpu = null;
    let webgpuSoftware = false;
    if (globalThis.navigator?.gpu) {
      try {
        const mm = await (await loadGpuWasm()).WebGpuMatmul.create();
        webgpu = String((typeof mm.adapter === 'function' ? mm.adapter() : mm.adapter) || 'adapter');
        mm.free();
        const adapter = await navigator.gpu.requestAdapter({ powerPreference: 'high-performance' });
        webgpuSoftware = adapter ? describeAdapter(adapter).software : /swiftshader/i.test(webgpu);
      } catch (e) {
        webgpu = null;
      }
    }
    return { build: core.build, threads: core.threads, relaxed: core.relaxed, cpu, webgpu, webgpuSoftware, poolNote: backendStatus().poolNote };
  },

  /** One benchmark measurement; `kind` picks the wasm function (see src/wasm/bench.rs). */
  async bench({ kind, backend, op = 'forward', m, k, n, samples = 9, minSampleMs = 20, batch = 16, tokens = 120 }) {
    switch (kind) {
      case 'matmul':
        if (backend === 'webgpu') return benchWebGpuMatmul(m, k, n, samples);
        return core.wasm.benchMatmul(backend, op, m, k, n, samples, minSampleMs);
      case 'train':
        if (backend === 'webgpu') return benchWebGpuModel('train', batch, samples);
        return core.wasm.benchTrainStep(backend, batch, samples);
      case 'forward':
        if (backend === 'webgpu') return benchWebGpuModel('forward', 1, samples);
        return core.wasm.benchForward(backend, samples);
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
  ...trainHandlers({ wasm: () => core.wasm, emit, yieldToEvents, transferable, backend: () => backendStatus() }),
};

// WebGPU matmul timing: each call uploads both operands and reads the product back, so this
// measures the round trip a single matmul costs, not the resident model's throughput.
let gpuMatmul = null;
async function benchWebGpuMatmul(m, k, n, samples) {
  gpuMatmul ??= await (await loadGpuWasm()).WebGpuMatmul.create();
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

// WebGPU model timing: the loaded model (the bench page loads the shipped one) resident on the GPU,
// used as the pages use it: a training step as the Train page takes it (the batch uploaded, the
// loss and gradient norm read back), a forward pass as the playground's (the logits read back).
// Milliseconds per call after a warm-up call (pipelines, buffers), median and range.
async function benchWebGpuModel(kind, batch, samples) {
  if (!model) throw new Error('the WebGPU model benchmarks need a model: call loadModel first');
  const cfg = model.config();
  const [b, t, v] = [Math.max(1, Math.min(64, batch)), cfg.block_size, cfg.vocab_size];
  const gpt = await (await loadGpuWasm()).WebGpuGpt.create(model.paramsView().slice(), cfg, b);
  try {
    const inputs = Array.from({ length: b * t }, (_, i) => (i * 7 + (i >> 3)) % v);
    const targets = Array.from({ length: b * t }, (_, i) => (i * 5 + 1) % v);
    const step = { inputs, targets, b, t, lr: 1e-4, beta1: 0.9, beta2: 0.95, eps: 1e-8, weight_decay: 0.1, grad_clip: 1.0 };
    const once = kind === 'train' ? () => gpt.trainStep(step) : () => gpt.forward(inputs, b, t);
    await once();
    const ms = [];
    for (let i = 0; i < Math.max(1, samples); i++) {
      const t0 = performance.now();
      await once();
      ms.push(performance.now() - t0);
    }
    ms.sort((x, y) => x - y);
    const med = ms[ms.length >> 1];
    const what = kind === 'train' ? `train step B=${b} T=${t} (resident; loss and gradient norm read back)` : `forward ${b}x${t} (resident; logits read back)`;
    return { backend: 'webgpu', what, median_ms: med, min_ms: ms[0], max_ms: ms[ms.length - 1], tokens_per_s: (b * t) / (med / 1e3), samples: ms.length };
  } finally {
    gpt.destroy();
    gpt.free();
  }
}

async function setModel(next, name) {
  generation++; // ends a generation running on the old model before it is freed
  model?.free();
  model = next;
  releaseGpu();
  await syncGpu();
  return { name, ...model.config(), backend: backendStatus() };
}

/** { forward, generate, threads, oneThread, adapter, wanted, note }: what the page shows about the
 *  backends (forward and generate: 'webgpu', 'threads' or 'simd128'). */
function backendStatus() {
  // The CPU kernels the model runs on now: the threaded build's only once its pool is up.
  const cpu = core ? (oneThread || (core.build === 'threads' && core.pool !== 'up') ? 'simd128' : core.build) : 'none';
  return {
    forward: gpu ? 'webgpu' : cpu, generate: cpu, threads: core?.threads ?? 0, oneThread, pool: core?.pool ?? 'none',
    poolNote: core?.build === 'threads' && core.pool !== 'up' ? core.note : '', adapter: gpuAdapter, wanted: gpuWanted, note: gpuNote,
  };
}

/**
 * Brings the GPU mirror in line with the reader's choice: creates it for the current model when
 * WebGPU is wanted and usable ('auto' skips software adapters such as SwiftShader, which are
 * slower than the CPU build), frees it when the CPU is wanted.
 */
async function syncGpu() {
  if (gpuWanted === 'cpu') {
    releaseGpu();
    gpuNote = 'CPU chosen';
    return;
  }
  if (gpu || !model) return;
  const pick = await pickGpuAdapter(gpuWanted);
  if (!pick.adapter) {
    gpuNote = pick.note;
    return;
  }
  const described = pick.described;
  const m = model;
  try {
    const created = await pick.gpuWasm.WebGpuGpt.create(m.paramsView().slice(), m.config(), 1);
    if (m !== model || gpuWanted === 'cpu') {
      created.free();
      return;
    }
    gpu = created;
    gpuAdapter = String(gpu.adapter || described);
    gpuNote = '';
  } catch (e) {
    gpuNote = `WebGPU could not start (${e?.message ?? e}); using the CPU`;
  }
}

/** Frees the GPU mirror (a new model, or the CPU chosen). */
function releaseGpu() {
  if (!gpu) return;
  try {
    gpu.destroy();
  } catch (e) {
    // already gone
  }
  gpu.free();
  gpu = null;
  gpuAdapter = '';
}

/** After a GPU failure: back to the CPU for good, and the page is told why. */
function dropGpu(err) {
  const lost = gpu?.lostReason;
  const msg = String(err?.message ?? err);
  gpuNote = lost != null || /device lost/i.test(msg)
    ? `the WebGPU device was lost (${lost || msg}); back on the CPU`
    : `WebGPU failed (${msg}); back on the CPU`;
  gpuWanted = 'cpu'; // not retried on the next call; choosing WebGPU again tries a new device
  releaseGpu();
  emit('backend', { ...backendStatus(), why: 'gpu' });
}

/** Softmax of one row of logits, in f64 (the CPU path's probabilities come from the core). */
function softmax(logits) {
  let max = -Infinity;
  for (const x of logits) max = Math.max(max, x);
  const out = new Float32Array(logits.length);
  let sum = 0;
  for (let i = 0; i < logits.length; i++) sum += Math.exp(logits[i] - max);
  for (let i = 0; i < logits.length; i++) out[i] = Math.exp(logits[i] - max) / sum;
  return out;
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
// What may run before the threaded build's pool has started (on one thread: the core picks its
// kernels per call). Everything else (training, benchmarks, which name backends) waits for it.
const BEFORE_POOL = new Set(['init', 'loadModel', 'loadModelBytes', 'generate', 'stop', 'inspect', 'embeddings', 'sinusoidal',
  'matmulCheck', 'backend', 'setBackend', 'setThreads', 'loseGpuDevice', 'sizing']);

self.onmessage = async (e) => {
  const { id, method, args } = e.data;
  try {
    const handler = handlers[method];
    if (!handler) throw new Error(`unknown worker method ${method}`);
    if (method !== 'init' && !core) throw new Error('the wasm core is not loaded yet');
    if (NEEDS_MODEL.has(method) && !model) throw new Error('no model is loaded yet');
    if (!BEFORE_POOL.has(method)) await core.startPool();
    const result = await handler(args);
    self.postMessage({ id, result }, result?.[TRANSFER] ?? []);
  } catch (err) {
    // A JsError from the core, or a JS error: either way a message for a person, no trace.
    self.postMessage({ id, error: String(err?.message ?? err) });
  }
};
