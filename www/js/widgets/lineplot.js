// A small line plot of a few series over the same x (here: dimensions of a positional encoding
// over position). Drawn on a canvas at the device's pixel ratio so lines and text stay sharp;
// hovering shows every series' value at that x.
import { WidthWatch } from './width.js';

const PALETTE = ['#2a6fdb', '#d1495b', '#1f8a4c', '#b7791f', '#7b3fb5', '#0f8b8d'];

export class LinePlot {
  /**
   * @param {HTMLElement} root
   * @param {{ title?: string, xLabel?: string, height?: number }} opts
   */
  constructor(root, { title = '', xLabel = 'position', height = 150 } = {}) {
    this.root = root;
    this.height = height;
    this.xLabel = xLabel;
    root.classList.add('lineplot');
    root.innerHTML = `<div class="lp-title"></div><canvas role="img"></canvas>
      <div class="lp-foot"><span class="lp-keys"></span><span class="lp-readout"></span></div>`;
    root.querySelector('.lp-title').textContent = title;
    this.canvas = root.querySelector('canvas');
    this.readout = root.querySelector('.lp-readout');
    this.keys = root.querySelector('.lp-keys');
    this.hoverX = null;
    this.canvas.addEventListener('pointermove', (e) => {
      if (!this.series) return;
      const r = this.canvas.getBoundingClientRect();
      const x = Math.round(((e.clientX - r.left - this.pad.l) / (r.width - this.pad.l - this.pad.r)) * (this.n - 1));
      this.hoverX = x >= 0 && x < this.n ? x : null;
      this.#render();
    });
    this.canvas.addEventListener('pointerleave', () => {
      this.hoverX = null;
      this.#render();
    });
    this.watch = new WidthWatch(root, () => this.series && this.#render());
  }

  /** `series` = [{ label, values (n) }]; all the same length. */
  draw(series, { label = '' } = {}) {
    this.series = series.map((s, i) => ({ ...s, color: s.color ?? PALETTE[i % PALETTE.length] }));
    this.n = series[0]?.values.length ?? 0;
    let m = 0;
    for (const s of series) for (const v of s.values) m = Math.max(m, Math.abs(v));
    this.yMax = m || 1;
    this.keys.replaceChildren(...this.series.map((s) => {
      const k = document.createElement('span');
      k.className = 'lp-key';
      k.innerHTML = '<i></i>';
      k.querySelector('i').style.background = s.color;
      k.append(s.label);
      return k;
    }));
    this.canvas.setAttribute('aria-label', label);
    this.#render();
  }

  #render() {
    const dpr = window.devicePixelRatio || 1;
    const w = this.watch.width() || 300;
    const h = this.height;
    this.canvas.style.width = `${w}px`;
    this.canvas.style.height = `${h}px`;
    this.canvas.width = Math.round(w * dpr);
    this.canvas.height = Math.round(h * dpr);
    const ctx = this.canvas.getContext('2d');
    ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
    ctx.clearRect(0, 0, w, h);
    const pad = (this.pad = { l: 34, r: 8, t: 8, b: 22 });
    const pw = w - pad.l - pad.r, ph = h - pad.t - pad.b;
    const X = (i) => pad.l + (this.n > 1 ? (i / (this.n - 1)) * pw : 0);
    const Y = (v) => pad.t + ph / 2 - (v / this.yMax) * (ph / 2);
    // Axes: zero line, y range, x ticks.
    ctx.font = '11px ui-monospace, "DejaVu Sans Mono", monospace';
    ctx.fillStyle = '#5b6475';
    ctx.strokeStyle = '#e7eaf0';
    ctx.lineWidth = 1;
    for (const v of [-this.yMax, 0, this.yMax]) {
      ctx.beginPath();
      ctx.moveTo(pad.l, Math.round(Y(v)) + 0.5);
      ctx.lineTo(w - pad.r, Math.round(Y(v)) + 0.5);
      ctx.stroke();
      ctx.textAlign = 'right';
      ctx.textBaseline = 'middle';
      ctx.fillText(fmt(v), pad.l - 4, Y(v));
    }
    ctx.textAlign = 'center';
    ctx.textBaseline = 'top';
    const step = niceStep(this.n);
    ctx.textAlign = 'right';
    ctx.fillText(`${this.xLabel} →`, w - pad.r, h - pad.b + 5);
    const labelLeft = w - pad.r - ctx.measureText(`${this.xLabel} →`).width - 12;
    ctx.textAlign = 'center';
    for (let i = 0; i < this.n; i += step) {
      if (X(i) + 10 < labelLeft) ctx.fillText(String(i), X(i), h - pad.b + 5);
    }
    for (const s of this.series) {
      ctx.strokeStyle = s.color;
      ctx.lineWidth = 1.6;
      ctx.beginPath();
      s.values.forEach((v, i) => (i ? ctx.lineTo(X(i), Y(v)) : ctx.moveTo(X(i), Y(v))));
      ctx.stroke();
    }
    if (this.hoverX !== null) {
      const x = X(this.hoverX);
      ctx.strokeStyle = '#1d2330';
      ctx.lineWidth = 1;
      ctx.beginPath();
      ctx.moveTo(Math.round(x) + 0.5, pad.t);
      ctx.lineTo(Math.round(x) + 0.5, pad.t + ph);
      ctx.stroke();
      for (const s of this.series) {
        ctx.fillStyle = s.color;
        ctx.beginPath();
        ctx.arc(x, Y(s.values[this.hoverX]), 3, 0, 2 * Math.PI);
        ctx.fill();
      }
      this.readout.textContent = `pos ${this.hoverX}: ` + this.series.map((s) => `${s.label} ${fmt(s.values[this.hoverX])}`).join(' · ');
    } else {
      this.readout.textContent = '';
    }
  }
}

function niceStep(n) {
  for (const s of [1, 2, 5, 10, 16, 20, 32, 50, 64, 100, 128, 200, 256, 500, 1000]) if (n / s <= 8) return s;
  return Math.ceil(n / 8);
}

const fmt = (v) => (Math.abs(v) >= 10 ? v.toFixed(0) : Math.abs(v) >= 1 ? v.toFixed(1) : v.toFixed(2));
