// The page's handle on the worker that owns the wasm core and the model. Every call is a
// message with an id; the answer resolves its promise. Long jobs (generation, training) send
// events in between, delivered to `on(type, fn)` listeners. The main thread never runs model work.

export class Engine {
  /** Starts the worker and loads the wasm build; resolves with the engine once it is ready. */
  static async start(options = {}, { workerUrl } = {}) {
    const engine = new Engine(workerUrl);
    engine.info = await engine.call('init', options);
    return engine;
  }

  /**
   * Takes over the worker js/boot.js started before the page's modules loaded (`boot`: { worker,
   * id, queue }): its `init` call (message `id`) becomes this engine's, and what the worker sent
   * meanwhile (`queue`: { data } messages and { error } events, in order) is delivered now.
   * Resolves as `start`.
   */
  static async adopt(boot) {
    const engine = new Engine(undefined, boot.worker);
    engine.nextId = boot.id + 1;
    const init = new Promise((resolve, reject) => engine.pending.set(boot.id, { resolve, reject }));
    for (const m of boot.queue.splice(0)) {
      if ('error' in m) engine.#fail(m.error);
      else engine.#receive(m.data);
    }
    engine.info = await init;
    return engine;
  }

  /** `workerUrl`: the worker script (default: worker.js beside this file); `worker`: one already started. */
  constructor(workerUrl = new URL('./worker.js', import.meta.url), worker = startWorker(new URL(workerUrl, import.meta.url))) {
    this.worker = worker;
    this.pending = new Map();
    this.listeners = new Map();
    this.nextId = 1;
    this.worker.onmessage = (e) => this.#receive(e.data);
    this.worker.onerror = (e) => {
      e.preventDefault();
      this.#fail(e);
    };
  }

  /** Calls `method` in the worker; `transfer` lists ArrayBuffers to move rather than copy. */
  call(method, args = {}, transfer = []) {
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      this.worker.postMessage({ id, method, args }, transfer);
    });
  }

  /** Listens for events of `type` ('token', 'progress', 'error', ...). Returns an unsubscribe function. */
  on(type, fn) {
    if (!this.listeners.has(type)) this.listeners.set(type, new Set());
    this.listeners.get(type).add(fn);
    return () => this.listeners.get(type).delete(fn);
  }

  terminate() {
    this.worker.terminate();
  }

  #receive(msg) {
    if (msg.event) {
      this.#emit(msg.event, msg.data);
      return;
    }
    const p = this.pending.get(msg.id);
    if (!p) return;
    this.pending.delete(msg.id);
    if (msg.error !== undefined) p.reject(new Error(msg.error));
    else p.resolve(msg.result);
  }

  /** The worker stopped (an error event): every pending call fails, and 'error' listeners hear why. */
  #fail(e) {
    const err = new Error(`the model worker failed: ${e.message || 'could not start (is this page served over http?)'}`);
    for (const { reject } of this.pending.values()) reject(err);
    this.pending.clear();
    this.#emit('error', { message: err.message });
  }

  #emit(type, data) {
    for (const fn of this.listeners.get(type) ?? []) fn(data);
  }
}

/**
 * Starts a module worker from `url`. A page may not start a worker from another origin (an
 * embed on someone's blog loads glassgpt from glassgpt's host), so then the worker is a
 * same-origin blob that imports the real script (which needs CORS on glassgpt's host).
 */
export function startWorker(url) {
  if (url.origin === location.origin) return new Worker(url, { type: 'module' });
  const blob = new Blob([`import ${JSON.stringify(url.href)};`], { type: 'text/javascript' });
  return new Worker(URL.createObjectURL(blob), { type: 'module' });
}
