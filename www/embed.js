// glassgpt widgets for other people's pages: one script tag defines custom elements that render
// glassgpt's figures inside an article, like a Distill figure.
//
//   <script type="module" src="https://example.org/glassgpt/embed.js"></script>
//
//   <glassgpt-attention prompt="To be, or not to be" layer="1" head="2"></glassgpt-attention>
//     The shipped model's attention over `prompt`: the large map of one head plus, unless
//     grid="false", the small map of every layer × head (click one to enlarge).
//     prompt  the text to read (default "To be, or not to be, that is the question")
//     layer   0-based layer of the large map (default 0)
//     head    0-based head of the large map (default 0)
//     grid    "false" hides the small maps
//     model   URL of another .safetensors checkpoint (relative to the page); default the shipped one
//
//   <glassgpt-posenc d="64" length="128"></glassgpt-posenc>
//     The sinusoidal positional encoding table PE(pos, i), its cosine similarity and a few of its
//     dimensions over position. Needs no model.
//     d       width, an even number 2…1024 (default 64)
//     length  positions 1…2048 (default 128)
//
//   <glassgpt-calculator preset="seed"></glassgpt-calculator>
//     The GPT-3 sizing calculator's answer at a glance for a preset: training FLOPs, GPUs and their
//     cost for the deadline, and serving. Needs no model.
//     preset  "seed" (GPT-3 175B as the seed report states it) or a model id: gpt3-175b, gpt2, ...
//     select  "false" hides the preset menu
//
//   <glassgpt-playground prompt="ROMEO:" length="200"></glassgpt-playground>
//     A compact generate box: a prompt, Generate / Stop, and the text streaming in.
//     prompt, length (characters, default 200), temperature (0 to 2, default 0.8; 0 always takes
//     the likeliest character), seed (a number: the same text each time), model (as above)
//
//   <glassgpt-train preset="tiny" steps="600"></glassgpt-train>
//     Trains a GPT from scratch in the reader's browser: Start / Pause / Reset, the loss curve
//     (batch loss, moving average, train and validation evaluations), step, tokens/s, and a sample
//     from the model as it learns. Runs in the shared worker, yielding between slices of steps.
//     preset  "tiny" (2 layers, C = 64, T = 32: validation loss near 2.0 in about a minute) or
//             "small" (the shipped model's shape; slow without threads)
//     steps   optional, overrides the preset's steps (1…100000)
//     text    optional inline training text (at least a few hundred characters); default the
//             bundled Shakespeare corpus, or `src`
//     src     URL of a plain-text file to train on (relative to the page, same origin or CORS)
//     prompt  where samples start (default a newline)
//     autostart  "true" starts training when the widget is first visible
//
// Every element renders in its own shadow root with its own stylesheet, so the host page's CSS
// cannot reach in and glassgpt's cannot reach out; each is a block as wide as its container.
// Every URL (the wasm builds, the worker, the model, the stylesheet) is resolved against this
// file's own URL, so it works from any host page at any path. Several elements on a page share one
// worker, one wasm instance and one model. Where the host page is cross-origin isolated and on
// glassgpt's own origin the worker takes the threaded build, elsewhere the single-thread one.
// When this file is served from another origin, that origin must send CORS headers
// (`Access-Control-Allow-Origin: *`, which `cargo xtask serve` and GitHub Pages do).
//
// `window.glassgptEmbed` = { workers, models, ready } counts what was started (for tests).
import { Engine } from './js/engine.js';
import { AttentionView } from './js/widgets/attention.js';
import { PositionsView } from './js/widgets/positions.js';
import { LossChart } from './js/widgets/loss-chart.js';
import { PRESETS } from './js/train-presets.js';
import { scientific } from './js/numbers.js';

const BASE = new URL('./', import.meta.url);
const here = (path) => new URL(path, BASE).href;
const DEFAULT_MODEL = here('models/shakespeare.safetensors');
const DEFAULT_PROMPT = 'To be, or not to be, that is the question';

/** What was started, for tests and the curious: one worker and one model however many widgets. */
const stats = (globalThis.glassgptEmbed ??= { workers: 0, models: 0, ready: 0 });

// ---- shared: one worker, one model per URL, one stylesheet ------------------------------------

let enginePromise = null;
/** The page's one engine (a worker owning the wasm core). */
export function engine() {
  enginePromise ??= (async () => {
    stats.workers++;
    // The threaded build's helper workers are started by URL too, which another origin may not.
    const sameOrigin = BASE.origin === location.origin;
    return Engine.start({ prefer: sameOrigin ? 'auto' : 'simd128' }, { workerUrl: here('js/worker.js') });
  })();
  return enginePromise;
}

let currentModel = null; // the URL the worker holds now
let loaded = null; // Promise<config> of that model
let modelQueue = Promise.resolve();
/**
 * Runs `fn(engine, config)` with the model at `url` loaded in the shared worker, one call at a
 * time: widgets asking for different models take turns (the worker holds one model).
 */
export function withModel(url, fn) {
  const run = async () => {
    const e = await engine();
    if (currentModel !== url) {
      currentModel = url;
      loaded = e.call('loadModel', { url });
      stats.models++;
    }
    return fn(e, await loaded);
  };
  const result = modelQueue.then(run, run);
  modelQueue = result.catch(() => {});
  return result;
}

let sheetPromise = null;
/** glassgpt's stylesheets, rewritten for a shadow root (rem → px, :root → :host). */
function styles() {
  sheetPromise ??= Promise.all(['style.css', 'playground.css'].map((f) => fetch(here(f)).then((r) => {
    if (!r.ok) throw new Error(`could not load ${f}: HTTP ${r.status}`);
    return r.text();
  }))).then((texts) => {
    const css = texts.join('\n')
      .replace(/:root\b/g, ':host')
      // rem follows the host page's root font size; these widgets keep their own.
      .replace(/(\d*\.?\d+)rem\b/g, (_, v) => `${+(v * 16).toFixed(3)}px`)
      .replace(/html,\s*body\s*\{/g, '.gg-root {') + EMBED_CSS;
    if ('adoptedStyleSheets' in Document.prototype && typeof CSSStyleSheet.prototype.replaceSync === 'function') {
      const sheet = new CSSStyleSheet();
      sheet.replaceSync(css);
      return { sheet };
    }
    return { text: css };
  });
  return sheetPromise;
}

const EMBED_CSS = `
:host { display: block; contain: content; margin: 1em 0; }
:host([hidden]), [hidden] { display: none !important; }
.gg-root { all: initial; display: block; box-sizing: border-box; font: 15px/1.5 var(--sans); color: var(--ink);
  background: var(--card); border: 1px solid var(--faint); border-radius: var(--radius); padding: 12px 14px;
  max-width: 100%; overflow: hidden; text-align: left; }
.gg-root h3 { font-size: 15px; margin: 0 0 6px; }
.gg-head { display: flex; flex-wrap: wrap; align-items: baseline; gap: 4px 12px; margin-bottom: 8px; }
.gg-title { font-weight: 700; }
.gg-title span { color: var(--accent); }
.gg-note { color: var(--muted); font-size: 13px; }
.gg-status { color: var(--muted); font-size: 13px; margin: 6px 0 0; }
.gg-status[data-state="error"] { color: var(--bad); }
.gg-link { margin-left: auto; font-size: 12px; color: var(--muted); }
.gg-att .att-grid { grid-template-columns: minmax(0, 1fr); align-items: start; align-content: start; } /* style.css's Train-page grid has columns */
.gg-att { display: grid; grid-template-columns: minmax(0, 1fr); gap: 10px; }
.gg-att.with-grid { grid-template-columns: auto minmax(0, 1fr); }
@container (max-width: 560px) { .gg-att.with-grid { grid-template-columns: minmax(0, 1fr); } }
.gg-root { container-type: inline-size; }
.gg-pos { display: grid; grid-template-columns: repeat(auto-fit, minmax(220px, 1fr)); gap: 10px; }
.gg-tiles { display: grid; grid-template-columns: repeat(auto-fit, minmax(150px, 1fr)); gap: 8px; }
.gg-tile { border: 1px solid var(--faint); border-radius: 6px; padding: 6px 8px; }
.gg-tile b { display: block; font: 600 18px var(--mono); }
.gg-tile span { color: var(--muted); font-size: 12px; }
.gg-out { white-space: pre-wrap; font: 14px/1.45 var(--mono); background: var(--paper); border: 1px solid var(--faint);
  border-radius: 6px; padding: 8px; min-height: 6em; max-height: 20em; overflow: auto; margin: 8px 0 0; }
.gg-out b { font-weight: 400; color: var(--accent); }
.gg-row { display: flex; flex-wrap: wrap; gap: 6px; align-items: center; }
.gg-row input[type="text"] { flex: 1 1 200px; font: 14px var(--mono); padding: 4px 6px; border: 1px solid #c7ccd6; border-radius: 6px; }
.gg-row button, .gg-row select { font: 14px var(--sans); padding: 4px 10px; border-radius: 6px; border: 1px solid #c7ccd6; background: var(--card); color: var(--ink); }
.gg-train-stats { display: flex; flex-wrap: wrap; gap: 2px 14px; font: 13px var(--mono); color: var(--muted); margin: 8px 0 4px; }
.gg-train-stats b { color: var(--ink); font-weight: 600; }
.gg-chart { min-height: 160px; }
.gg-row button.primary { background: var(--accent); color: #fff; border-color: var(--accent); }
`;

// ---- the base element ---------------------------------------------------------------------------

class GlassElement extends HTMLElement {
  constructor() {
    super();
    this.shadow = this.attachShadow({ mode: 'open' });
    this.started = false;
    this.ready = false;
  }

  connectedCallback() {
    if (this.started) return;
    this.started = true;
    this.shadow.innerHTML = `<div class="gg-root" part="root"><div class="gg-head"><span class="gg-title">glass<span>gpt</span></span>
      <span class="gg-note"></span><a class="gg-link" target="_blank" rel="noopener"></a></div>
      <div class="gg-body"></div><p class="gg-status" role="status" aria-live="polite">loading…</p></div>`;
    this.body = this.shadow.querySelector('.gg-body');
    this.statusEl = this.shadow.querySelector('.gg-status');
    this.shadow.querySelector('.gg-note').textContent = this.constructor.caption;
    const link = this.shadow.querySelector('.gg-link');
    link.href = here(this.constructor.page);
    link.textContent = 'open in glassgpt ↗';
    this.#boot();
  }

  async #boot() {
    try {
      const s = await styles();
      if (s.sheet) this.shadow.adoptedStyleSheets = [s.sheet];
      else this.shadow.prepend(Object.assign(document.createElement('style'), { textContent: s.text }));
      this.build(this.body);
      await this.refresh();
      this.ready = true;
      stats.ready++;
      this.dataset.ready = 'true';
    } catch (e) {
      this.status(`glassgpt could not start: ${e.message ?? e}`, 'error');
      this.dataset.ready = 'error';
    }
  }

  attributeChangedCallback() {
    if (!this.ready) return;
    clearTimeout(this.timer);
    this.timer = setTimeout(() => this.refresh().catch((e) => this.status(e.message, 'error')), 0);
  }

  /** A line under the widget, followed by what was made of attributes not usable as given
   *  (`num`); empty hides it. */
  status(text, state = '') {
    const line = [text, ...(this.attrNotes?.values() ?? [])].filter(Boolean).join(' ');
    this.statusEl.textContent = line;
    this.statusEl.hidden = !line;
    this.statusEl.dataset.state = state;
  }

  /** A numeric attribute: `fallback` when absent, else the number (whole unless `real`) kept
   *  within lo…hi. A value that had to be changed, or was not a number, is said in the status. */
  num(name, fallback, lo, hi, { real = false } = {}) {
    this.attrNotes ??= new Map();
    this.attrNotes.delete(name);
    if (!this.hasAttribute(name)) return fallback;
    const raw = this.getAttribute(name);
    const v = raw.trim() === '' ? NaN : Number(raw);
    const x = Number.isFinite(v) ? Math.min(hi, Math.max(lo, real ? v : Math.round(v))) : fallback;
    if (x !== v) this.attrNotes.set(name, `(${name}="${raw}" is not ${real ? 'a number' : 'a whole number'} from ${lo} to ${hi}: ${x} is used.)`);
    return x;
  }

  modelUrl() {
    const m = this.getAttribute('model');
    return m ? new URL(m, document.baseURI).href : DEFAULT_MODEL;
  }

  el(tag, cls, text) {
    const e = document.createElement(tag);
    if (cls) e.className = cls;
    if (text) e.textContent = text;
    return e;
  }
}

// ---- <glassgpt-attention> -------------------------------------------------------------------------

class AttentionElement extends GlassElement {
  static caption = 'attention of a tiny GPT trained on Shakespeare';
  static page = 'index.html#attention';
  static observedAttributes = ['prompt', 'layer', 'head', 'grid', 'model'];

  build(body) {
    const wrap = this.el('div', 'gg-att');
    const grid = this.el('div', 'att-grid');
    grid.setAttribute('role', 'group');
    grid.setAttribute('aria-label', 'Attention maps, one per layer and head');
    this.showGrid = () => {
      const on = this.getAttribute('grid') !== 'false';
      wrap.classList.toggle('with-grid', on);
      grid.hidden = !on;
    };
    this.showGrid();
    const main = this.el('div', 'att-main');
    const bar = this.el('div', 'toolbar');
    this.caption = this.el('span', 'caption');
    const legendEl = this.el('span', 'legend-slot');
    bar.append(this.caption, legendEl);
    const large = this.el('div');
    const readout = this.el('p', 'readout', 'Hover a cell or a character, or focus the map and use the arrow keys.');
    readout.setAttribute('aria-live', 'polite');
    main.append(bar, large, readout);
    wrap.append(grid, main);
    body.append(wrap);
    this.view = new AttentionView({
      grid, large, legend: legendEl, readout,
      onSelect: (layer, head) => this.#caption(layer, head),
    });
  }

  #caption(layer, head) {
    this.caption.textContent = `layer ${layer}, head ${head}`;
  }

  async refresh() {
    this.showGrid();
    const prompt = this.getAttribute('prompt') || DEFAULT_PROMPT;
    this.status('loading the model…');
    await withModel(this.modelUrl(), async (e, config) => {
      const text = Array.from(prompt).slice(-config.block_size).join('');
      const r = await e.call('inspect', { text });
      const chars = [...r.report.text];
      this.view.setData({ attention: r.attention, nLayer: config.n_layer, nHead: config.n_head, T: chars.length, chars });
      const layer = this.num('layer', 0, 0, config.n_layer - 1);
      const head = this.num('head', 0, 0, config.n_head - 1);
      this.view.select(layer, head);
      this.#caption(layer, head);
    });
    this.status('');
  }
}

// ---- <glassgpt-posenc> ----------------------------------------------------------------------------

class PosencElement extends GlassElement {
  static caption = 'sinusoidal positional encoding';
  static page = 'index.html#positions';
  static observedAttributes = ['d', 'length'];

  build(body) {
    const grid = this.el('div', 'gg-pos');
    const [table, sim, lines] = [this.el('div'), this.el('div'), this.el('div')];
    grid.append(table, sim, lines);
    body.append(grid);
    // The learned half of the view is not shown here: its figures draw into detached elements.
    const off = () => document.createElement('div');
    this.view = new PositionsView({ sinTable: table, sinSim: sim, sinLines: lines, wpeTable: off(), wpeSim: off(), wpeLines: off() });
  }

  async refresh() {
    let d = this.num('d', 64, 2, 1024);
    d += d % 2;
    const length = this.num('length', 128, 1, 2048);
    this.status('computing…');
    const e = await engine();
    this.view.setSinusoidal(await e.call('sinusoidal', { length, d }));
    this.status('');
  }
}

// ---- <glassgpt-calculator> ------------------------------------------------------------------------

class CalculatorElement extends GlassElement {
  static caption = 'what training and serving a GPT takes';
  static page = 'calculator.html';
  static observedAttributes = ['preset', 'select'];

  build(body) {
    const row = this.el('div', 'gg-row');
    this.select = this.el('select');
    this.select.setAttribute('aria-label', 'Model');
    this.select.addEventListener('change', () => this.setAttribute('preset', this.select.value));
    row.append(this.select);
    this.heading = this.el('h3');
    this.tiles = this.el('div', 'gg-tiles');
    body.append(row, this.heading, this.tiles);
  }

  async refresh() {
    this.select.hidden = this.getAttribute('select') === 'false';
    const preset = this.getAttribute('preset') || 'seed';
    const e = await engine();
    const { scenario: s, estimate: est, models } = await e.call('sizing', { preset });
    if (!this.select.options.length) {
      const opts = [['seed', 'GPT-3 175B, as the seed report states'], ...models.map((m) => [m.id, m.name])];
      for (const [v, t] of opts) this.select.append(new Option(t, v));
    }
    this.select.value = preset;
    this.shadow.querySelector('.gg-link').href = here(`calculator.html${preset === 'seed' ? '' : `#preset=${encodeURIComponent(preset)}`}`);
    const tr = est.training, d = tr.deployment, inf = est.inference, reading = inf.stated ?? inf.formula;
    this.heading.textContent = `Training ${est.model.name || 'the model'} in ${s.training.days} days`;
    const tile = (id, label, value) => {
      const t = this.el('div', 'gg-tile');
      t.dataset.tile = id;
      t.append(this.el('b', '', scientific(value)), this.el('span', '', label));
      return t;
    };
    this.tiles.replaceChildren(
      tile('train-flops', 'training FLOPs (6 × N × D)', tr.flops.display),
      tile('train-flop-per-s', 'compute for the deadline', tr.flop_per_s.display),
      tile('train-gpus', `GPUs (${est.hardware.gpu})`, d.gpus.display),
      tile('train-gpu-cost', 'GPU cost', d.gpu_cost.display),
      tile('infer-flops', 'serving FLOPs a day', reading.flops_per_day.display),
      tile('infer-gpus', 'GPUs to serve', reading.deployment.gpus.display),
    );
    this.status('');
  }
}

// ---- <glassgpt-playground> ------------------------------------------------------------------------

class PlaygroundElement extends GlassElement {
  static caption = 'a tiny GPT writing Shakespeare, in your browser';
  static page = 'index.html';
  static observedAttributes = ['prompt', 'model']; // the others are read at each Generate

  build(body) {
    const row = this.el('div', 'gg-row');
    this.input = this.el('input');
    this.input.type = 'text';
    this.input.setAttribute('aria-label', 'Prompt');
    this.input.value = this.getAttribute('prompt') ?? 'ROMEO:';
    this.go = this.el('button', 'primary', 'Generate');
    this.stopBtn = this.el('button', '', 'Stop');
    this.stopBtn.disabled = true;
    row.append(this.input, this.go, this.stopBtn);
    this.out = this.el('pre', 'gg-out');
    this.out.setAttribute('aria-live', 'off');
    body.append(row, this.out);
    this.go.addEventListener('click', () => this.generate());
    this.input.addEventListener('keydown', (ev) => { if (ev.key === 'Enter') this.generate(); });
    this.stopBtn.addEventListener('click', async () => (await engine()).call('stop'));
  }

  async refresh() {
    if (this.hasAttribute('prompt')) this.input.value = this.getAttribute('prompt');
    this.status('loading the model…');
    await withModel(this.modelUrl(), async () => {});
    this.status('');
  }

  async generate() {
    if (this.running) return;
    this.running = true;
    this.go.disabled = true;
    this.stopBtn.disabled = false;
    const prompt = this.input.value;
    this.out.replaceChildren(this.el('b', '', prompt));
    const text = document.createTextNode('');
    this.out.append(text);
    try {
      await withModel(this.modelUrl(), async (e) => {
        const off = e.on('token', (t) => { if (this.running) text.data += t.text; });
        try {
          const seed = this.hasAttribute('seed') ? this.num('seed', 0, 0, 2 ** 31) : undefined;
          const r = await e.call('generate', {
            prompt, length: this.num('length', 200, 1, 5000), seed,
            temperature: this.num('temperature', 0.8, 0, 2, { real: true }), // 0: always the likeliest
          });
          text.data = r.text;
          this.status(`${r.text.length} characters, ${r.tokensPerSec.toFixed(0)} a second`);
          this.dataset.generated = String(r.text.length);
        } finally {
          off();
        }
      });
    } catch (e) {
      this.status(`Could not generate: ${e.message}`, 'error');
    } finally {
      this.running = false;
      this.go.disabled = false;
      this.stopBtn.disabled = true;
    }
  }
}

// ---- <glassgpt-train> -----------------------------------------------------------------------------

class TrainElement extends GlassElement {
  static caption = 'training a GPT from scratch, in your browser';
  static page = 'train.html';
  static observedAttributes = ['preset', 'steps', 'text', 'src', 'prompt'];

  build(body) {
    const row = this.el('div', 'gg-row');
    this.startBtn = this.el('button', 'primary', 'Start training');
    this.pauseBtn = this.el('button', '', 'Pause');
    this.resetBtn = this.el('button', '', 'Reset');
    this.pauseBtn.disabled = this.resetBtn.disabled = true;
    row.append(this.startBtn, this.pauseBtn, this.resetBtn);
    this.stats = this.el('div', 'gg-train-stats');
    this.stats.setAttribute('aria-live', 'off');
    this.chartBox = this.el('div', 'gg-chart');
    this.chartBox.setAttribute('role', 'img');
    this.chartBox.setAttribute('aria-label', 'Training and validation loss against step');
    this.sampleEl = this.el('pre', 'gg-out');
    this.sampleEl.textContent = 'Samples from the model appear here as it learns.';
    body.append(row, this.stats, this.chartBox, this.sampleEl);
    this.chart = new LossChart(this.chartBox);
    this.state = 'idle'; // idle | running | paused | done
    this.startBtn.addEventListener('click', () => this.start().catch((e) => this.fail(e)));
    this.pauseBtn.addEventListener('click', () => this.pause().catch((e) => this.fail(e)));
    this.resetBtn.addEventListener('click', () => this.reset().catch((e) => this.fail(e)));
  }

  /** The run's options: the preset, with `steps` if given. */
  options() {
    const name = this.getAttribute('preset') || 'tiny';
    const preset = PRESETS[name];
    if (!preset) throw new Error(`preset: "${name}" is not one of ${Object.keys(PRESETS).join(', ')}`);
    const steps = this.num('steps', preset.steps, 1, 100000);
    return { ...preset, steps, warmup_steps: Math.min(preset.warmup_steps, Math.max(0, steps - 1)) };
  }

  async refresh() {
    const o = this.options(); // a bad preset is reported now, not on Start
    this.showStats({ step: 0, steps: o.steps });
    if (this.state !== 'idle') return;
    this.status(`${o.n_layer} layers, ${o.n_head} heads, C = ${o.n_embd}, context ${o.block_size}; ${o.steps.toLocaleString('en-US')} ${o.steps === 1 ? 'step' : 'steps'} of ${o.batch_size} sequences.`);
    if (this.getAttribute('autostart') === 'true' && !this.autostarted) {
      this.autostarted = true;
      const io = new IntersectionObserver((entries) => {
        if (entries.some((x) => x.isIntersecting)) {
          io.disconnect();
          this.start().catch((e) => this.fail(e));
        }
      });
      io.observe(this);
    }
  }

  showStats(d) {
    const cells = [
      ['step', `${(d.step ?? 0).toLocaleString('en-US')} / ${(d.steps ?? 0).toLocaleString('en-US')}`],
      ['loss', d.loss != null ? d.loss.toFixed(3) : '–'],
      ['val', this.lastVal != null ? this.lastVal.toFixed(3) : '–'],
      ['tokens/s', d.tokensPerSec ? Math.round(d.tokensPerSec).toLocaleString('en-US') : '–'],
    ];
    this.stats.replaceChildren(...cells.map(([k, v]) => {
      const span = this.el('span', '', `${k} `);
      span.dataset.stat = k;
      span.append(this.el('b', '', v));
      return span;
    }));
  }

  /** The training text goes to the worker: inline, fetched from `src`, or the bundled corpus. */
  async loadText(e) {
    const inline = this.getAttribute('text');
    if (inline) return e.call('trainSetText', { text: inline });
    const src = this.getAttribute('src');
    return e.call('trainFetchText', { url: src ? new URL(src, document.baseURI).href : here('data/shakespeare.txt'), previewChars: 0 });
  }

  async start() {
    if (this.state === 'running') return;
    if (this.state === 'paused') {
      const e = await engine();
      await e.call('trainResume');
      return this.setState('running');
    }
    const e = await engine();
    const options = this.options();
    this.startBtn.disabled = true;
    this.status('reading the text…');
    const stats = await this.loadText(e);
    this.listen(e);
    this.chart.reset(options.steps);
    this.lastVal = null;
    this.ema = null;
    await e.call('trainStart', { options, live: { prompt: this.getAttribute('prompt') ?? '\n', sampleLength: 160, evalEvery: Math.max(25, Math.round(options.steps / 16)), sampleEvery: Math.max(50, Math.round(options.steps / 8)), snapshotEvery: 1e9 } });
    this.status(`training on ${stats.chars.toLocaleString('en-US')} characters (${stats.vocab_size} distinct), in a worker: this page stays responsive.`);
    this.setState('running');
  }

  /** Subscribes to the worker's training events once. Another widget's run would be dropped by trainStart. */
  listen(e) {
    if (this.offs) return;
    this.offs = [
      e.on('trainProgress', (d) => {
        this.chart.addSteps(d.step - d.losses.length, d.losses);
        for (const l of d.losses) this.ema = this.ema == null ? l : this.ema + 0.1 * (l - this.ema);
        this.showStats({ ...d, loss: this.ema });
        this.dataset.step = String(d.step);
      }),
      e.on('trainRewind', (d) => { // the GPU failed: the run went back to d.step (see the Train page)
        this.chart.rewind(d.step, `${d.why} at step ${d.from}: back to step ${d.step}`);
        this.ema = this.chart.ema.at(-1) ?? null;
      }),
      e.on('trainEval', (d) => {
        this.chart.addEval(d);
        this.lastVal = d.val;
        this.dataset.val = String(d.val);
      }),
      e.on('trainSample', (s) => {
        this.sampleEl.replaceChildren(this.el('b', '', `step ${s.step}: `), document.createTextNode(s.text));
      }),
      e.on('trainState', (s) => {
        if (s.state === 'done' || s.state === 'error') this.setState(s.state);
        if (s.state === 'error') this.status(`Training stopped: ${s.reason}`, 'error');
      }),
      e.on('trainDone', () => {
        this.setState('done');
        this.status(`done: validation loss ${this.lastVal?.toFixed(3) ?? '–'}. Open the Train page for the full view, checkpoints and the attention as it learns.`);
      }),
    ];
  }

  async pause() {
    if (this.state !== 'running') return;
    const e = await engine();
    await e.call('trainPause');
    this.setState('paused');
  }

  async reset() {
    const e = await engine();
    await e.call('trainReset');
    this.chart.reset(this.options().steps);
    this.lastVal = null;
    this.ema = null;
    this.sampleEl.textContent = 'Samples from the model appear here as it learns.';
    this.setState('idle');
    await this.refresh();
  }

  setState(state) {
    this.state = state;
    this.dataset.state = state;
    this.startBtn.disabled = state === 'running' || state === 'done';
    this.startBtn.textContent = state === 'paused' ? 'Resume' : 'Start training';
    this.pauseBtn.disabled = state !== 'running';
    this.resetBtn.disabled = state === 'idle';
  }

  fail(e) {
    this.startBtn.disabled = false;
    this.status(`Could not train: ${e.message ?? e}`, 'error');
  }
}

for (const [name, cls] of [
  ['glassgpt-attention', AttentionElement],
  ['glassgpt-posenc', PosencElement],
  ['glassgpt-calculator', CalculatorElement],
  ['glassgpt-playground', PlaygroundElement],
  ['glassgpt-train', TrainElement],
]) {
  if (!customElements.get(name)) customElements.define(name, cls);
}
