// Training inside the model worker (worker.js spreads these handlers into its table).
//
// The worker keeps the text (so a 5 MB corpus crosses from the page once, or never when the
// worker fetches it) and at most one run: a wasm TrainSession and the loop that drives it. The
// loop takes steps in slices of about SLICE_MS and yields to the event loop between slices,
// so 'trainPause' and 'trainReset' get in within a slice. As it goes it emits:
//   'trainProgress'  { step, steps, losses (new since the last event), lr, gradNorm,
//                      tokensPerSec, elapsed, eta, tokensTrained, overhead, state }
//   'trainEval'      { step, train, val, elapsed }              every live.evalEvery steps
//   'trainSample'    { step, prompt, text, temperature }        every live.sampleEvery steps
//   'trainSnapshot'  { step, probe, attention, probs, wpe, similarity, shape }  every live.snapshotEvery
//   'trainState'     { state, step, reason? }                   on every change of state
//   'trainBackend'   { training, adapter, note, fellBack }      at the start and on a GPU failure
//   'trainRewind'    { step, from, why }                        the run went back from `from` to `step`
// A run trains on WebGPU when trainStart's `backend` asks for it ('webgpu', or 'auto' with a
// hardware adapter): each step's batch comes from the TrainSession (so the data order is the
// CPU's), the step runs on the GPU (WebGpuGpt.trainStep: forward, backward, AdamW resident there),
// and the GPU's state (parameters and AdamW's moments) comes back to the session's CPU model
// before every evaluation, sample and snapshot and on pause, which is what those read. A GPU
// failure or a lost device takes the run back to the last state brought back (its step, data
// order, parameters and moments: TrainSession.fallBack) and moves it to the CPU, which takes the
// undone steps again exactly as the GPU did; it says so ('trainRewind', then 'trainBackend').
// Tokens per second count only the time inside training steps: trainProgress's over about the
// last RATE_MS of it since the start or the last rewind (after a fall back, the CPU's rate), the
// done report's over the whole run less the steps a rewind undid; elapsed and the ETA count
// everything the run does (evaluations, samples and snapshots too), pauses excluded.

import { loadGpuWasm } from './load.js';

const SLICE_MS = 40; // a pause waits at most about this long (plus an evaluation)
const PROGRESS_MS = 100; // at most ~10 progress events a second
const RATE_MS = 5000; // the tokens/s shown: over about this much of the latest step time

export const LIVE_DEFAULTS = {
  evalEvery: 100, evalIters: 10,
  sampleEvery: 100, sampleLength: 200, temperature: 0.8, prompt: '\n',
  snapshotEvery: 25, probe: '',
};

/** A GPUAdapter as the page names it, and whether it is a software one (SwiftShader, a fallback). */
export function describeAdapter(adapter) {
  const info = adapter.info ?? {};
  const described = [info.vendor, info.architecture, info.description].filter(Boolean).join(' ') || 'WebGPU adapter';
  const software = info.isFallbackAdapter === true || adapter.isFallbackAdapter === true || /swiftshader/i.test(described);
  return { described, software };
}

/**
 * The WebGPU adapter for `wanted` ('auto' | 'webgpu' | 'cpu'): `{ adapter, described, gpuWasm }`
 * when WebGPU should be used (gpuWasm: the WebGPU build, loaded only then), else `{ note }`
 * saying why not. 'auto' skips software adapters such as SwiftShader, which are slower than the
 * CPU build; 'webgpu' takes whatever adapter there is.
 */
export async function pickGpuAdapter(wanted) {
  if (wanted === 'cpu') return { note: 'CPU chosen' };
  if (!globalThis.navigator?.gpu) return { note: 'this browser has no WebGPU' };
  let adapter = null;
  try {
    adapter = await navigator.gpu.requestAdapter({ powerPreference: 'high-performance' });
  } catch (e) {
    adapter = null;
  }
  if (!adapter) return { note: 'WebGPU gave no adapter (no usable GPU)' };
  const { described, software } = describeAdapter(adapter);
  if (software && wanted === 'auto') return { note: `only a software adapter (${described}): the CPU is faster` };
  try {
    return { adapter, described, gpuWasm: await loadGpuWasm() };
  } catch (e) {
    return { note: `the WebGPU build did not load (${e?.message ?? e})` };
  }
}

export function trainHandlers({ wasm, emit, yieldToEvents, transferable, backend }) {
  let text = null; // the text runs train on
  let textStats = null;
  let checkpoint = null; // bytes of a checkpoint loaded to continue, until reset
  let loaded = null; // that checkpoint as the playground's Model, to inspect before training
  let run = null; // { session, state, live, ... }

  const setText = (t) => {
    const stats = wasm().textStats(t); // throws for empty or too large text
    text = t;
    textStats = stats;
    return stats;
  };

  /** Stops the loop of `r` and resolves once it has really stopped. */
  async function halt(r, state) {
    if (r.state === 'running') {
      r.state = state;
      await r.stopped;
    } else {
      r.state = state;
    }
  }

  function setState(r, state, reason) {
    r.state = state;
    emit('trainState', { state, step: r.step, reason });
  }

  /** The run's GPU model, when the choice and the browser allow one, else null; says which. */
  async function startGpu(r, wanted) {
    const pick = await pickGpuAdapter(wanted);
    if (run !== r) return; // reset or restarted meanwhile: its session is gone
    let note = pick.note ?? '';
    if (pick.adapter && !r.session.gpuFits()) {
      // On the GPU the page also keeps the state to fall back to, and the next one as it comes back.
      note = `this run is too large to train on the GPU within the page's ${Math.round(wasm().trainLimits().max_memory_bytes / 2 ** 20)} MB `
        + 'with a copy of its parameters and AdamW\'s moments kept to fall back to; training on the CPU';
    } else if (pick.adapter) {
      try {
        const model = await pick.gpuWasm.WebGpuGpt.create(r.session.params(), r.info, r.info.options.batch_size);
        r.gpu = { model, adapter: String(model.adapter || pick.described), dirty: false };
      } catch (e) {
        note = `WebGPU could not start (${e?.message ?? e}); training on the CPU`;
      }
    }
    emitBackend(r, note, false);
  }

  function emitBackend(r, note, fellBack) {
    // kernels: the CPU kernels the run's own steps take (fixed when the session was made).
    r.backend = { training: r.gpu ? 'webgpu' : 'cpu', adapter: r.gpu?.adapter ?? '', note, fellBack, kernels: r.session.kernels() };
    emit('trainBackend', r.backend);
  }

  /**
   * Runs `fn` after every GPU operation queued before it. WebGpuGpt takes one call at a time, and
   * a readback asked for by the page (a checkpoint, a probe) may come while the loop awaits a step.
   */
  function withGpu(r, fn) {
    const next = r.gpuQueue.then(fn);
    r.gpuQueue = next.catch(() => {});
    return next;
  }

  /** Takes a step's counters and losses from what the session returned (step, countStep). */
  function record(r, res) {
    r.step = res.step;
    r.lr = res.lr;
    r.gradNorm = res.grad_norm;
    r.tokensTrained = res.tokens_trained;
    r.pendingLosses.push(...res.losses);
    return res;
  }

  /**
   * One step on the GPU, counted and recorded in the same turn of the GPU queue as the step (so a
   * rewind never lands between them); null when the GPU failed, in which case the run has gone
   * back to the last state brought back and moved to the CPU (dropGpu). A step whose loss or
   * gradient norm is not finite is not counted: countStep throws, the run goes back to that state
   * too (the GPU's own took the step's update) and stops with that message.
   */
  function gpuStep(r) {
    return withGpu(r, async () => {
      if (!r.gpu) return null;
      // The batch first, outside the GPU's try: "all N steps are done" is the run's state, not a
      // GPU failure, and must not move the run to the CPU.
      const batch = r.session.nextBatch();
      let stats;
      try {
        stats = await r.gpu.model.trainStep(batch);
      } catch (e) {
        await dropGpu(r, e);
        return null;
      }
      let counted;
      try {
        counted = r.session.countStep(stats[0], stats[1]);
      } catch (e) {
        r.gpu.dirty = false; // the GPU's state diverged: nothing brings it back
        rewind(r, 'training diverged');
        freeGpu(r); // the run stops here; its device and buffers go now, not at reset
        emitBackend(r, 'the run diverged on the GPU, which is released', false);
        throw e;
      }
      r.gpu.dirty = true;
      return record(r, counted);
    });
  }

  /**
   * Brings the GPU's state (parameters and AdamW's moments) back to the session's CPU model, which
   * evaluations, samples, snapshots, probes and checkpoints read and a fallback resumes from; on
   * failure, moves the run to the CPU. The moments make a sync read three times the parameters'
   * bytes: about 1.3 MB for the tiny preset, every snapshotEvery steps.
   */
  function syncParams(r) {
    return withGpu(r, async () => {
      if (!r.gpu?.dirty) return;
      try {
        const s = await r.gpu.model.readTrainState();
        r.session.setExternalState(s.params, s.m, s.v, s.t);
        r.gpu.dirty = false;
        r.time.stepAtSync = r.time.step;
      } catch (e) {
        await dropGpu(r, e);
      }
    });
  }

  /**
   * Takes the run back to the last state brought back from the GPU (TrainSession.fallBack: its
   * step, data order, parameters and AdamW's moments); returns that step. The steps after it are
   * undone, and the CPU takes them again on the same batches. Their losses go from the page too
   * ('trainRewind': the chart drops its points after the step and marks where the run went back),
   * so the curve shows each step once, as the model was trained; the progress event that follows
   * sets the step counter back.
   */
  function rewind(r, why) {
    const from = r.step;
    const back = r.session.fallBack();
    r.pendingLosses.splice(Math.max(0, r.pendingLosses.length - (from - back.step)));
    r.step = back.step;
    r.lr = back.lr;
    r.tokensTrained = back.tokens_trained;
    r.rewinds += 1;
    // The undone steps' time is not the run's: out of its average, and the rate starts again.
    r.time.undone += r.time.step - r.time.stepAtSync;
    r.time.stepAtSync = r.time.step;
    r.recent = [];
    emit('trainRewind', { step: back.step, from, why });
    progress(r, performance.now());
    return back.step;
  }

  async function dropGpu(r, err) {
    if (!r.gpu) return; // already dropped (or the run was reset)
    // A lost device first shows as a failed call (a mapping cancelled, a submit refused); its
    // `lost` promise settles a task or two later. Give it a moment, to say what happened.
    for (let i = 0; i < 20 && r.gpu?.model.lostReason == null; i++) await new Promise((ok) => setTimeout(ok, 10));
    if (!r.gpu) return; // reset (or dropped) while it waited
    const lost = r.gpu?.model.lostReason;
    const msg = String(err?.message ?? err);
    const lostDevice = lost != null || /device lost/i.test(msg);
    const what = lostDevice ? `the WebGPU device was lost (${lost || msg})` : `WebGPU failed (${msg})`;
    const at = r.step;
    freeGpu(r);
    const back = rewind(r, lostDevice ? 'WebGPU device lost' : 'WebGPU failed');
    const again = at > back ? `; steps ${back + 1}–${at} are taken again` : '';
    emitBackend(r, `${what} at step ${at}; training continues on the CPU from step ${back}, the last state brought back from the GPU (parameters, AdamW's moments, data order)${again}`, true);
  }

  function freeGpu(r) {
    if (!r.gpu) return;
    try {
      r.gpu.model.destroy();
    } catch (e) {
      // already gone
    }
    r.gpu.model.free();
    r.gpu = null;
  }

  function snapshot(r) {
    const t0 = performance.now();
    const s = r.session;
    const probeText = r.live.probe || text.slice(-r.info.block_size); // default: the end of the validation split
    const probe = s.probe(probeText);
    const attention = s.attentionView().slice();
    const probs = s.probeProbs();
    const wpe = s.wpeView().slice();
    const similarity = new Float32Array(s.positionSimilarity());
    r.time.snapshot += performance.now() - t0;
    const data = { step: r.step, probe, attention, probs, wpe, similarity, shape: shapeOf(r.info) };
    return [data, [attention.buffer, probs.buffer, wpe.buffer, similarity.buffer]];
  }

  /** What a page needs to lay a snapshot out, from an info or config object. */
  const shapeOf = (c) => ({
    layers: c.n_layer, heads: c.n_head, blockSize: c.block_size, nEmbd: c.n_embd, posEncoding: c.pos_encoding, vocab: c.vocab,
  });

  /** The loaded checkpoint's snapshot of `probe`, in the shape of a run's. */
  function inspectLoaded(probe) {
    const report = loaded.inspect(probe);
    const attention = loaded.attentionView().slice();
    const probs = loaded.inspectProbs();
    const wpe = loaded.wpeView().slice();
    const similarity = new Float32Array(loaded.positionSimilarity());
    const data = { step: null, probe: { t: report.t, text: report.text }, attention, probs, wpe, similarity, shape: shapeOf(loaded.config()) };
    return [data, [attention.buffer, probs.buffer, wpe.buffer, similarity.buffer]];
  }

  function emitSnapshot(r) {
    emit('trainSnapshot', ...snapshot(r));
  }

  function evaluate(r) {
    const t0 = performance.now();
    const elapsed = (r.elapsedMs + (t0 - r.sliceStart)) / 1000; // of the run, up to this evaluation
    const e = r.session.evaluate(r.live.evalIters);
    r.time.eval += performance.now() - t0;
    r.lastEval = e;
    emit('trainEval', { ...e, elapsed });
  }

  function sample(r) {
    const t0 = performance.now();
    const { prompt, sampleLength, temperature } = r.live;
    const out = r.session.sample(prompt, sampleLength, temperature, r.step);
    r.time.sample += performance.now() - t0;
    emit('trainSample', { step: r.step, prompt, text: out, temperature });
  }

  function progress(r, now) {
    const steps = r.info.options.steps;
    const done = r.step - r.stepAtStart;
    const elapsed = r.elapsedMs / 1000;
    const perStep = done > 0 ? elapsed / done : 0;
    const data = {
      step: r.step,
      steps,
      losses: Float32Array.from(r.pendingLosses),
      lr: r.lr,
      gradNorm: r.gradNorm,
      tokensPerSec: recentRate(r),
      elapsed,
      eta: perStep * (steps - r.step),
      tokensTrained: r.tokensTrained,
      overhead: overhead(r),
      state: r.state,
    };
    r.pendingLosses = [];
    r.lastProgress = now;
    emit('trainProgress', data, [data.losses.buffer]);
  }

  /** Time spent besides training steps, as fractions of the step time (0.02 = 2%). */
  function overhead(r) {
    const s = r.time.step || 1;
    return { eval: r.time.eval / s, sample: r.time.sample / s, snapshot: r.time.snapshot / s, stepMs: r.time.step, };
  }

  async function loop(r) {
    let release;
    r.stopped = new Promise((resolve) => { release = resolve; });
    try {
      const live = r.live;
      while (r.state === 'running') {
        const slice0 = performance.now();
        r.sliceStart = slice0;
        // A rewind (a GPU failure, here or in a sync a page request made) ends the slice: the run
        // is back at a step whose evaluation, sample and snapshot were already made.
        const rewinds = r.rewinds;
        // Steps until the slice is used up or a step is due for an evaluation, sample or snapshot.
        for (;;) {
          const t0 = performance.now();
          if (r.gpu) await gpuStep(r);
          else record(r, r.session.step(1));
          const t1 = performance.now();
          r.time.step += t1 - t0;
          if (r.rewinds !== rewinds) {
            // The step that failed (and the wait for the device's reason) is not the run's either.
            r.time.undone += t1 - t0;
            r.time.stepAtSync = r.time.step;
            break;
          }
          stepTime(r, slice0, t1 - t0);
          const due = r.step >= r.info.options.steps || r.step % live.evalEvery === 0 || r.step % live.sampleEvery === 0 || r.step % live.snapshotEvery === 0;
          if (due || t1 - slice0 >= SLICE_MS) break;
        }
        const done = r.step >= r.info.options.steps;
        const due = (every) => r.rewinds === rewinds && (done || r.step % every === 0);
        if (due(live.evalEvery) || due(live.sampleEvery) || due(live.snapshotEvery)) await syncParams(r);
        if (due(live.evalEvery)) evaluate(r);
        if (due(live.sampleEvery)) sample(r);
        if (due(live.snapshotEvery)) emitSnapshot(r);
        const now = performance.now();
        r.elapsedMs += now - slice0;
        if (done || now - r.lastProgress >= PROGRESS_MS) progress(r, now);
        if (done && r.rewinds === rewinds) {
          setState(r, 'done');
          emit('trainDone', doneReport(r));
          break;
        }
        await yieldToEvents(); // lets pause/reset messages in
      }
    } catch (e) {
      setState(r, 'error', String(e?.message ?? e));
    } finally {
      release();
    }
  }

  function doneReport(r) {
    const i = r.info;
    return {
      n_layer: i.n_layer, n_head: i.n_head, n_embd: i.n_embd, block_size: i.block_size, vocab_size: i.vocab_size,
      pos_encoding: i.pos_encoding, tokens_trained: r.tokensTrained, step: r.step, val: r.lastEval?.val ?? null,
      elapsed: r.elapsedMs / 1000, tokensPerSec: progressRate(r), overhead: overhead(r),
    };
  }

  /** Training tokens/s over the run's counted steps (the time of steps a rewind undid left out). */
  const progressRate = (r) => {
    const ms = r.time.step - r.time.undone;
    return ms > 0 ? ((r.step - r.stepAtStart) * r.tokensPerStep) / (ms / 1000) : 0;
  };

  /** Adds a step of `ms` (in the slice that began at `slice`) to the recent ones the rate is over. */
  function stepTime(r, slice, ms) {
    const last = r.recent.at(-1);
    if (last?.slice === slice) {
      last.steps += 1;
      last.ms += ms;
    } else r.recent.push({ slice, steps: 1, ms });
    let total = r.recent.reduce((a, x) => a + x.ms, 0);
    while (r.recent.length > 1 && total - r.recent[0].ms >= RATE_MS) total -= r.recent.shift().ms;
  }

  /** Training tokens/s over about the last RATE_MS of step time: 0 before a step since the run's
   *  start or last rewind. After a fall back to the CPU it is the CPU's rate, not a mix. */
  function recentRate(r) {
    let steps = 0;
    let ms = 0;
    for (const x of r.recent) {
      steps += x.steps;
      ms += x.ms;
    }
    return ms > 0 ? (steps * r.tokensPerStep) / (ms / 1000) : 0;
  }

  function start(r) {
    setState(r, 'running');
    loop(r);
  }

  async function dropRun() {
    if (!run) return;
    const r = run;
    run = null;
    await halt(r, 'stopped');
    freeGpu(r);
    r.session.free();
  }

  return {
    /** Keeps `text` for training; returns its statistics (throws for empty or too large). */
    trainSetText({ text: t }) {
      return setText(t);
    },

    /** Fetches a text file from the site (the bundled corpus) into the worker. */
    async trainFetchText({ url, previewChars = 2000 }) {
      const res = await fetch(url);
      if (!res.ok) throw new Error(`could not fetch ${url}: HTTP ${res.status}`);
      const t = await res.text();
      return { ...setText(t), preview: t.slice(0, previewChars) };
    },

    /** Checks options against the current text's vocabulary; the run's N, D, 6ND and memory. */
    trainPlan({ options, vocabSize }) {
      return wasm().trainPlan(options, vocabSize ?? textStats?.vocab_size ?? 65);
    },

    /** The limits and defaults the page states, the kernels training runs on and why (`pool`,
     *  `poolNote`: the threaded build's pool, as the worker's backend status says). */
    trainLimits() {
      const { pool, poolNote } = backend();
      return { ...wasm().trainLimits(), live: LIVE_DEFAULTS, pool, poolNote };
    },

    /**
     * Reads a checkpoint to continue from (kept until trainReset or trainForgetCheckpoint).
     * Returns its shape and metadata and, loaded as the playground's Model, its attention and
     * next-character distribution on `probe` (default: the end of the text).
     */
    async trainLoadCheckpoint({ bytes, probe = '' }) {
      const b = new Uint8Array(bytes);
      const info = wasm().checkpointInfo(b); // throws, saying what is wrong with the file
      await dropRun();
      const model = wasm().Model.load(b);
      loaded?.free();
      loaded = model;
      checkpoint = b;
      const [snap, buffers] = inspectLoaded(probe || (text ?? '').slice(-info.block_size));
      return transferable({ info, snapshot: snap }, buffers);
    },

    /** Forgets a loaded checkpoint: the next run starts from a fresh model. */
    trainForgetCheckpoint() {
      checkpoint = null;
      loaded?.free();
      loaded = null;
      return true;
    },

    /**
     * Starts a run on the current text (continuing the loaded checkpoint, if any) and returns
     * its info at once; the loop then runs and reports through events. An old run is dropped.
     */
    async trainStart({ options, live = {}, backend = 'auto' }) {
      if (text === null) throw new Error('text: choose a text first');
      live = { ...LIVE_DEFAULTS, ...live };
      for (const k of ['evalEvery', 'sampleEvery', 'snapshotEvery', 'evalIters']) {
        const v = live[k];
        if (!Number.isInteger(v) || v < 1) throw new Error(`${k}: ${v} must be a whole number of at least 1`);
      }
      await dropRun();
      const w = wasm();
      const session = checkpoint
        ? w.TrainSession.fromCheckpoint(checkpoint, text, options)
        : new w.TrainSession(text, options);
      const info = session.info();
      const r = {
        session, info, live, state: 'ready',
        step: 0, stepAtStart: 0, lr: 0, gradNorm: 0, tokensTrained: info.tokens_trained,
        tokensPerStep: info.options.batch_size * info.block_size,
        pendingLosses: [], lastProgress: 0, elapsedMs: 0, lastEval: null,
        // step: all step time; undone: of it, the steps a rewind took back; stepAtSync: `step` when
        // the state a rewind goes back to was brought back. recent: the latest slices' steps and
        // time, for the rate shown, since the run's start or its last rewind (a change of backend).
        time: { step: 0, eval: 0, sample: 0, snapshot: 0, undone: 0, stepAtSync: 0 }, recent: [],
        stopped: Promise.resolve(),
        gpu: null, backend: null, gpuQueue: Promise.resolve(), rewinds: 0,
      };
      run = r;
      await startGpu(r, ['auto', 'webgpu', 'cpu'].includes(backend) ? backend : 'auto');
      if (run !== r) { // reset or restarted while the GPU started
        freeGpu(r);
        return info;
      }
      // Where the run starts from: its evaluation, sample and attention before any step. A
      // setting the core refuses here (too many evaluation batches, too long a sample) ends the
      // run before it began: nothing of it stays.
      const t0 = performance.now();
      r.sliceStart = t0;
      try {
        evaluate(r);
        sample(r);
        emitSnapshot(r);
      } catch (e) {
        await dropRun();
        throw e;
      }
      r.elapsedMs += performance.now() - t0;
      start(r);
      return { ...info, backend: r.backend };
    },

    /** Pauses after the current slice; resolves with the step it stopped at. */
    async trainPause() {
      if (!run) return { state: 'none', step: 0 };
      if (run.state === 'running') {
        await halt(run, 'paused');
        await syncParams(run);
        progress(run, performance.now());
        // The loop may have taken the last step while this waited: a finished run is 'done' (said
        // once: the loop says it unless the pause stopped it first), never paused.
        if (run.step < run.info.options.steps) setState(run, 'paused');
        else if (run.state !== 'done') {
          setState(run, 'done');
          emit('trainDone', doneReport(run));
        }
      }
      return { state: run.state, step: run.step };
    },

    /** Resumes a paused run. */
    trainResume() {
      if (!run) throw new Error('there is no run to resume: start one');
      if (run.state === 'paused') start(run);
      return { state: run.state, step: run.step };
    },

    /** Stops and forgets the run and any loaded checkpoint. */
    async trainReset() {
      await dropRun();
      checkpoint = null;
      loaded?.free();
      loaded = null;
      return true;
    },

    /** The run's model now, as safetensors bytes (moved to the page). */
    async trainCheckpoint() {
      if (!run) throw new Error('there is no model yet: start training first');
      const r = run;
      await syncParams(r); // training on the GPU: the newest parameters, not the last synced
      if (run !== r) throw new Error('the run was reset');
      const bytes = run.session.checkpoint();
      return transferable({ bytes, step: run.step, tokensTrained: run.tokensTrained }, [bytes.buffer]);
    },

    /** Attention, next-character distribution and positions for `probe` now (e.g. while paused). */
    async trainProbe({ probe }) {
      if (run) {
        const r = run;
        await syncParams(r);
        if (run !== r) throw new Error('the run was reset');
        run.live.probe = probe ?? run.live.probe;
        return transferable(...snapshot(run));
      }
      if (loaded) return transferable(...inspectLoaded(probe || (text ?? '').slice(-loaded.config().block_size)));
      throw new Error('there is no model yet: start training first');
    },

    /** Changes what the live views show (probe text, sample prompt, temperature) mid-run. */
    trainLive({ live }) {
      if (run) Object.assign(run.live, live);
      return true;
    },

    /** A sample now from the run's model. */
    async trainSample({ prompt = '\n', length = 200, temperature = 0.8, seed = 0 }) {
      if (!run) throw new Error('there is no model yet: start training first');
      const r = run;
      await syncParams(r);
      if (run !== r) throw new Error('the run was reset');
      return { text: run.session.sample(prompt, length, temperature, seed) };
    },

    /** Destroys the run's GPU device, as a driver reset would (tests of the fallback). */
    trainLoseGpuDevice() {
      if (!run?.gpu) return false;
      run.gpu.model.destroy();
      return true;
    },

    /** The run's state and counters. */
    trainStatus() {
      if (!run) return { state: 'none', step: 0 };
      return { state: run.state, step: run.step, steps: run.info.options.steps, tokensTrained: run.tokensTrained, overhead: overhead(run) };
    },
  };
}
