// Loads the right wasm build for this context: the threaded one where the page is
// cross-origin isolated (SharedArrayBuffer available), else the single-thread SIMD one; each in
// its relaxed-SIMD flavour (fused multiply-adds in the matmul kernels, about 1.7x the GFLOPS)
// where the engine validates relaxed SIMD. Used by the worker that owns the model; works in a
// window too.

/**
 * The single-purpose builds, imported and instantiated once per context on first use:
 * 'pkg-webgpu' (the WebGPU backend: WebGpuGpt, WebGpuMatmul; only where an adapter is to be
 * used) and 'pkg-sizing' (the calculator: estimate, presets, scenario, paramCount). A failed
 * load is not kept, so a later call tries again.
 */
const modules = new Map();
export function loadModule(dir) {
  if (!modules.has(dir)) {
    const loading = (async () => {
      const m = await import(new URL(`../${dir}/glassgpt.js`, import.meta.url).href);
      await m.default();
      return m;
    })();
    loading.catch(() => modules.delete(dir));
    modules.set(dir, loading);
  }
  return modules.get(dir);
}

/** The WebGPU build (see loadModule). */
export const loadGpuWasm = () => loadModule('pkg-webgpu');

/** The calculator's build (see loadModule). */
export const loadSizingWasm = () => loadModule('pkg-sizing');

/** Whether this context can run the threaded build. */
export function threadsAvailable() {
  return globalThis.crossOriginIsolated === true && typeof SharedArrayBuffer === 'function';
}

/** Whether this browser validates WebAssembly SIMD (both builds need it). */
export function simdAvailable() {
  // (module (func (result v128) i32.const 0 i8x16.splat i8x16.popcnt))
  const bytes = new Uint8Array([0, 97, 115, 109, 1, 0, 0, 0, 1, 5, 1, 96, 0, 1, 123, 3, 2, 1, 0, 10, 10, 1, 8, 0, 65, 0, 253, 15, 253, 98, 11]);
  return WebAssembly.validate(bytes);
}

/** Whether this engine validates relaxed SIMD (Chrome 114+, Firefox 145+): f32x4.relaxed_madd. */
export function relaxedAvailable() {
  // (module (func (result v128) v128.const 0 v128.const 0 v128.const 0 f32x4.relaxed_madd))
  const zeros = new Array(16).fill(0);
  const body = [0, ...[0, 1, 2].flatMap(() => [0xfd, 0x0c, ...zeros]), 0xfd, 0x85, 0x02, 0x0b];
  const bytes = new Uint8Array([0, 97, 115, 109, 1, 0, 0, 0, 1, 5, 1, 96, 0, 1, 123, 3, 2, 1, 0, 10, body.length + 2, 1, body.length, ...body]);
  return WebAssembly.validate(bytes);
}

/**
 * Imports build `dir`'s JS glue and instantiates its wasm, calling `imported()` in between. The
 * wasm download starts at once, beside the glue's (which imports a module of its own in the
 * threaded build): waiting for the glue before asking for the wasm, as its default init does,
 * put two round trips and a module evaluation before the download.
 */
async function startBuild(dir, imported) {
  const base = new URL(`../${dir}/`, import.meta.url);
  const response = fetch(new URL('glassgpt_bg.wasm', base));
  response.catch(() => {}); // the init below reports a failed download
  const wasm = await import(new URL('glassgpt.js', base).href);
  imported();
  await wasm.default({ module_or_path: response });
  return wasm;
}

/**
 * Imports and instantiates a build. `prefer` is 'auto', 'threads' or 'simd128'; `relaxed` is
 * 'auto' (relaxed SIMD where the engine has it) or 'off'.
 * Returns { wasm, build, threads, relaxed, note, timings, pool, startPool, onPool } where note says
 * why threads are off, if they are, and timings ({ import, instantiate, pool }, ms) what starting
 * the build took. The threaded build returns before its thread pool exists: `startPool()` starts it
 * (once; later calls return the same promise) and resolves when it is up, when it failed, or
 * after `poolWaitMs` without it (wasm-bindgen-rayon waits for every pool worker's first message,
 * so a worker that never starts would hold it for ever), never rejecting. Until the pool is up the
 * core runs on one thread, with the same results, so a page need not wait for it. `pool` says
 * where it stands: 'starting', 'up', 'failed' (`threads` becomes 1), 'late' (not up after
 * poolWaitMs; it may still come up), or 'none' in the single-thread build; `note` says why once
 * it is 'failed' or 'late', and `onPool`, if the caller sets it, is called at each change after
 * the start.
 */
export async function loadWasm({ prefer = 'auto', relaxed: wantRelaxed = 'auto', threads: want, poolWaitMs = 10000 } = {}) {
  if (!simdAvailable()) {
    throw new Error('This browser does not run WebAssembly SIMD, which glassgpt needs (Chrome 91+, Firefox 89+, Safari 16.4+).');
  }
  let note = '';
  let useThreads = prefer !== 'simd128' && threadsAvailable();
  if (prefer === 'threads' && !useThreads) note = 'threads need a cross-origin isolated page (COOP + COEP headers); using one thread';
  else if (prefer === 'auto' && !threadsAvailable()) note = 'page is not cross-origin isolated: one thread';
  const relaxed = wantRelaxed !== 'off' && relaxedAvailable();
  const suffix = relaxed ? '-relaxed' : '';
  const t = [performance.now()];
  const lap = () => t.push(performance.now());
  const timings = () => ({ import: t[1] - t[0], instantiate: t[2] - t[1], pool: (t[4] ?? t[3] ?? 0) - (t[3] ?? 0) });
  if (useThreads) {
    try {
      const wasm = await startBuild(`pkg-threads${suffix}`, lap);
      lap();
      const n = Math.max(1, Math.min(want ?? navigator.hardwareConcurrency ?? 2, 16));
      const core = { wasm, build: 'threads', threads: n, relaxed, note, timings: timings(), pool: 'starting', onPool: null };
      const set = (pool, why) => {
        core.pool = pool;
        core.note = why;
        core.onPool?.(pool);
      };
      let started = null;
      core.startPool = () => (started ??= new Promise((done) => {
        lap();
        Promise.resolve().then(() => wasm.initThreadPool(n)).then(() => {
          wasm.poolStarted();
          lap();
          core.timings = timings();
          set('up', note);
        }, (e) => {
          core.threads = 1;
          set('failed', `the thread pool did not start (${e?.message ?? e}); using one thread`);
        }).finally(done);
        setTimeout(() => {
          if (core.pool === 'starting') set('late', `the thread pool has not started after ${Math.round(poolWaitMs / 1000)} s; using one thread until it does`);
          done();
        }, poolWaitMs);
      }));
      return core;
    } catch (e) {
      note = `threaded build failed to start (${e.message ?? e}); using one thread`;
      t.length = 1;
      t[0] = performance.now();
    }
  }
  const wasm = await startBuild(`pkg${suffix}`, lap);
  lap();
  return { wasm, build: 'simd128', threads: 1, relaxed, note, timings: timings(), pool: 'none', startPool: () => Promise.resolve(), onPool: null };
}
