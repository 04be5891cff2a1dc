// Training loss against step: an inline SVG drawn at the container's width. Four series: each
// step's batch loss (faint), its exponential moving average, and the evaluation losses of the
// training and validation splits (lines through dots). Linear or logarithmic loss axis. A run
// that went back to an earlier step (the GPU failed) keeps each step once, as trained, with a
// dashed mark where it went back.
// Updates are coalesced into one redraw per animation frame, so a hidden tab draws nothing
// and catches up when shown. Hovering reads the values at a step.
import { svg, logTicks } from './svg.js';
import { WidthWatch } from './width.js';

const COLOURS = { raw: '#9db8e8', ema: '#2a6fdb', train: '#1f8a4c', val: '#c2621b', grid: '#e7eaf0', muted: '#5b6475' };
const EMA = 0.1; // weight of the newest step in the moving average (about the last 10 steps)
const MAX_POINTS = 600; // per series: longer runs are averaged into buckets

export class LossChart {
  /** Draws into `container` (an empty element). */
  constructor(container, { log = false } = {}) {
    this.container = container;
    this.log = log;
    this.width = 0;
    this.reset();
    this.hoverStep = null;
    // Made once (parsing it again every frame cost up to a third of a redraw).
    this.legend = document.createElement('div');
    this.legend.className = 'chart-legend';
    this.legend.innerHTML = `<span><i style="background:${COLOURS.raw}"></i>batch loss</span>
      <span><i style="background:${COLOURS.ema}"></i>moving average</span>
      <span><i class="dashed" style="border-color:${COLOURS.train}"></i>train (eval)</span>
      <span><i style="background:${COLOURS.val}"></i>validation (eval)</span>`;
    this.watch = new WidthWatch(container, (w) => {
      if (w !== this.width) this.draw();
    });
  }

  /** Forgets every point; `totalSteps` sets the step axis (it grows if steps go beyond). */
  reset(totalSteps = 0, firstStep = 0) {
    this.steps = []; // step numbers of `losses`
    this.losses = [];
    this.ema = [];
    this.evals = []; // { step, train, val }
    this.rewinds = []; // { step, why }: where the run went back to
    this.firstStep = firstStep;
    this.totalSteps = totalSteps;
    this.schedule();
  }

  /** Appends the batch losses of steps `from + 1`, `from + 2`, .... */
  addSteps(from, losses) {
    let avg = this.ema.length ? this.ema[this.ema.length - 1] : null;
    for (let i = 0; i < losses.length; i++) {
      const l = losses[i];
      avg = avg === null ? l : avg + EMA * (l - avg);
      this.steps.push(from + i + 1);
      this.losses.push(l);
      this.ema.push(avg);
    }
    this.schedule();
  }

  /**
   * The run went back to `step` and takes the later steps again (after a GPU failure, from the
   * last state brought back): their points go, as the model no longer holds what they trained,
   * and a dashed line at `step` says why. Without this the retaken steps would be drawn twice.
   */
  rewind(step, why) {
    const keep = this.steps.findIndex((s) => s > step);
    if (keep >= 0) {
      for (const series of [this.steps, this.losses, this.ema]) series.length = keep;
    }
    this.evals = this.evals.filter((e) => e.step <= step);
    this.rewinds.push({ step, why });
    this.schedule();
  }

  /** Adds an evaluation `{ step, train, val }`. */
  addEval(e) {
    this.evals.push(e);
    this.schedule();
  }

  setLog(log) {
    this.log = log;
    this.draw();
  }

  schedule() {
    if (this.pending) return;
    this.pending = requestAnimationFrame(() => {
      this.pending = 0;
      this.draw();
    });
  }

  draw() {
    this.width = this.watch.width(); // no layout read in the frame (see WidthWatch)
    const W = Math.max(280, this.width || 640);
    const narrow = W < 480;
    const H = narrow ? 220 : 280;
    const m = { left: 46, right: 14, top: 12, bottom: 40 };
    const iw = W - m.left - m.right, ih = H - m.top - m.bottom;

    const lastStep = Math.max(this.totalSteps, this.steps.at(-1) ?? 0, this.evals.at(-1)?.step ?? 0, this.firstStep + 1);
    const s0 = this.firstStep;
    // The loss range: the smoothed curve and the evaluations (raw batches may poke out; clipped).
    // (A loop: Math.min(...ys) passes every step as an argument, past ~120,000 a stack overflow.)
    let lo = Infinity, hi = -Infinity;
    const see = (v) => {
      if (v < lo) lo = v;
      if (v > hi) hi = v;
    };
    for (const v of this.ema) if (Number.isFinite(v)) see(v);
    for (const e of this.evals) for (const v of [e.train, e.val]) if (Number.isFinite(v)) see(v);
    if (lo > hi) [lo, hi] = [1, 5];
    if (this.log) {
      lo = Math.max(1e-3, lo / 1.15);
      hi = hi * 1.1;
    } else {
      const pad = (hi - lo) * 0.08 || 0.5;
      lo = Math.max(0, lo - pad);
      hi += pad;
    }
    const x = (s) => m.left + ((s - s0) / (lastStep - s0)) * iw;
    const y = this.log
      ? (v) => m.top + ih - (Math.log(Math.max(v, lo) / lo) / Math.log(hi / lo)) * ih
      : (v) => m.top + ih - ((Math.min(Math.max(v, lo), hi) - lo) / (hi - lo)) * ih;

    const root = svg('svg', { viewBox: `0 0 ${W} ${H}`, width: W, height: H, class: 'chart-svg', role: 'img', 'aria-label': this.summary() });
    const g = svg('g');
    // Grid.
    for (const t of this.log ? logTicks(lo, hi) : linearTicks(lo, hi, 5)) {
      g.append(svg('line', { x1: m.left, x2: m.left + iw, y1: y(t), y2: y(t), stroke: COLOURS.grid }));
      g.append(svg('text', { x: m.left - 6, y: y(t) + 4, 'text-anchor': 'end', class: 'tick' }, fmtLoss(t)));
    }
    for (const t of linearTicks(s0, lastStep, narrow ? 4 : 7).filter((t) => Number.isInteger(t))) {
      g.append(svg('line', { x1: x(t), x2: x(t), y1: m.top, y2: m.top + ih, stroke: COLOURS.grid }));
      g.append(svg('text', { x: x(t), y: m.top + ih + 16, 'text-anchor': 'middle', class: 'tick' }, fmtStep(t)));
    }
    g.append(svg('rect', { x: m.left, y: m.top, width: iw, height: ih, fill: 'none', stroke: '#cfd5df' }));
    g.append(svg('text', { x: m.left + iw / 2, y: H - 6, 'text-anchor': 'middle', class: 'axis-title' }, 'step'));

    // Series (bucketed when long).
    const clip = svg('clipPath', { id: 'loss-clip' }, svg('rect', { x: m.left, y: m.top, width: iw, height: ih }));
    root.append(svg('defs', {}, clip));
    const plot = svg('g', { 'clip-path': 'url(#loss-clip)' });
    const path = (steps, vals) => bucket(steps, vals).map(([s, v], i) => `${i ? 'L' : 'M'}${x(s).toFixed(1)},${y(v).toFixed(1)}`).join('');
    if (this.losses.length) {
      plot.append(svg('path', { d: path(this.steps, this.losses), fill: 'none', stroke: COLOURS.raw, 'stroke-width': 1, class: 'series-raw' }));
      plot.append(svg('path', { d: path(this.steps, this.ema), fill: 'none', stroke: COLOURS.ema, 'stroke-width': 2, class: 'series-ema' }));
    }
    for (const [key, colour] of [['train', COLOURS.train], ['val', COLOURS.val]]) {
      if (!this.evals.length) continue;
      const d = this.evals.map((e, i) => `${i ? 'L' : 'M'}${x(e.step).toFixed(1)},${y(e[key]).toFixed(1)}`).join('');
      plot.append(svg('path', { d, fill: 'none', stroke: colour, 'stroke-width': 2, class: `series-${key}`, 'stroke-dasharray': key === 'train' ? '5 3' : null }));
      for (const e of this.evals) plot.append(svg('circle', { cx: x(e.step), cy: y(e[key]), r: 3, fill: colour }));
    }
    for (const r of this.rewinds) {
      const at = x(r.step);
      plot.append(svg('line', { x1: at, x2: at, y1: m.top, y2: m.top + ih, stroke: COLOURS.muted, 'stroke-dasharray': '6 3', class: 'rewind', 'data-step': r.step },
        svg('title', {}, r.why)));
    }
    g.append(plot);

    // Hover read-out.
    if (this.hoverStep !== null && this.steps.length) {
      const i = nearest(this.steps, this.hoverStep);
      const s = this.steps[i];
      const ev = this.evals.filter((e) => e.step <= s).at(-1);
      g.append(svg('line', { x1: x(s), x2: x(s), y1: m.top, y2: m.top + ih, stroke: COLOURS.muted, 'stroke-dasharray': '2 3' }));
      const text = `step ${s}: batch ${this.losses[i].toFixed(3)}, average ${this.ema[i].toFixed(3)}${ev ? `; eval at ${ev.step}: val ${ev.val.toFixed(3)}` : ''}`;
      const right = x(s) > m.left + iw / 2;
      g.append(svg('text', { x: right ? x(s) - 6 : x(s) + 6, y: m.top + 14, 'text-anchor': right ? 'end' : 'start', class: 'callout' }, text));
    }
    root.append(g);
    root.addEventListener('pointermove', (e) => {
      const r = root.getBoundingClientRect();
      const px = ((e.clientX - r.left) / r.width) * W;
      this.hoverStep = s0 + ((px - m.left) / iw) * (lastStep - s0);
      this.schedule();
    });
    root.addEventListener('pointerleave', () => { this.hoverStep = null; this.schedule(); });

    this.container.replaceChildren(root, this.legend);
  }

  /** The chart in words, for screen readers. */
  summary() {
    if (!this.steps.length) return 'Loss chart: no steps yet';
    const e = this.evals.at(-1);
    const back = this.rewinds.map((r) => `; ${r.why}`).join('');
    return `Loss chart: ${this.steps.length} steps; latest moving average ${this.ema.at(-1).toFixed(3)}${e ? `, validation loss ${e.val.toFixed(3)} at step ${e.step}` : ''}${back}`;
  }
}

/** Mean of `vals` over at most MAX_POINTS equal buckets of steps: [[step, value]]. */
function bucket(steps, vals) {
  const n = steps.length;
  if (n <= MAX_POINTS) return steps.map((s, i) => [s, vals[i]]);
  const out = [];
  const size = n / MAX_POINTS;
  for (let b = 0; b < MAX_POINTS; b++) {
    const i0 = Math.floor(b * size), i1 = Math.floor((b + 1) * size);
    let sum = 0;
    for (let i = i0; i < i1; i++) sum += vals[i];
    out.push([steps[i1 - 1], sum / (i1 - i0)]);
  }
  return out;
}

function nearest(sorted, v) {
  let lo = 0, hi = sorted.length - 1;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (sorted[mid] < v) lo = mid + 1;
    else hi = mid;
  }
  return lo > 0 && Math.abs(sorted[lo - 1] - v) < Math.abs(sorted[lo] - v) ? lo - 1 : lo;
}

/** About `n` round ticks over [lo, hi]. */
function linearTicks(lo, hi, n) {
  const span = hi - lo || 1;
  const raw = span / n;
  const mag = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 2.5, 5, 10].map((k) => k * mag).find((s) => span / s <= n) ?? 10 * mag;
  const ticks = [];
  for (let t = Math.ceil(lo / step) * step; t <= hi + step * 1e-9; t += step) ticks.push(Number(t.toPrecision(12)));
  return ticks;
}

const fmtLoss = (v) => (v >= 10 ? v.toFixed(0) : v >= 1 ? v.toFixed(1) : v.toPrecision(2));
const fmtStep = (s) => (s >= 10000 ? `${s / 1000}k` : String(s));
