// The character embeddings on their two principal components: one label per character, coloured
// by its class (vowels, consonants, capitals, digits, punctuation, whitespace), with a legend
// that can hide a class. Hovering names the nearest character; drawn at the device pixel ratio.
import { WidthWatch } from './width.js';
import { showChar, nameChar, charClass, CHAR_CLASSES } from './chars.js';

export class EmbeddingScatter {
  /**
   * @param {HTMLElement} root
   * @param {{ onPick?: (ch: string) => void }} opts
   */
  constructor(root, { onPick } = {}) {
    this.root = root;
    this.onPick = onPick;
    root.classList.add('scatter');
    root.innerHTML = `<canvas role="img"></canvas><div class="sc-foot"><span class="sc-legend"></span><span class="sc-readout"></span></div>`;
    this.canvas = root.querySelector('canvas');
    this.readout = root.querySelector('.sc-readout');
    this.hidden = new Set();
    this.hover = -1;
    this.selected = null;
    const legendEl = root.querySelector('.sc-legend');
    for (const c of CHAR_CLASSES) {
      const b = document.createElement('button');
      b.type = 'button';
      b.className = 'sc-key';
      b.setAttribute('aria-pressed', 'true');
      b.innerHTML = '<i></i>';
      b.querySelector('i').style.background = c.color;
      b.append(c.label);
      b.title = `Show or hide ${c.label}`;
      b.addEventListener('click', () => {
        if (this.hidden.has(c.id)) this.hidden.delete(c.id);
        else this.hidden.add(c.id);
        b.setAttribute('aria-pressed', String(!this.hidden.has(c.id)));
        this.#render();
      });
      legendEl.append(b);
    }
    this.colors = Object.fromEntries(CHAR_CLASSES.map((c) => [c.id, c.color]));
    this.canvas.addEventListener('pointermove', (e) => {
      const i = this.#nearest(e);
      if (i !== this.hover) {
        this.hover = i;
        this.#render();
      }
    });
    this.canvas.addEventListener('pointerleave', () => {
      this.hover = -1;
      this.#render();
    });
    this.canvas.addEventListener('click', (e) => {
      const i = this.#nearest(e);
      if (i >= 0) this.onPick?.(this.chars[i]);
    });
    this.watch = new WidthWatch(root, () => this.chars && this.#render());
  }

  /** `coords` (V, 2) for the characters of `vocab`; `variance` = { variance: [v1, v2], total_variance }. */
  draw(coords, vocab) {
    this.coords = coords;
    this.chars = [...vocab];
    this.canvas.setAttribute('aria-label',
      `The ${this.chars.length} character embeddings projected on their two principal components.`);
    this.#render();
  }

  /** Rings one character (the one whose neighbours are listed). */
  mark(ch) {
    this.selected = ch;
    if (this.chars) this.#render();
  }

  #layout() {
    const w = Math.min(this.watch.width() || 400, 560);
    const pad = 22;
    let [x0, x1, y0, y1] = [Infinity, -Infinity, Infinity, -Infinity];
    for (let i = 0; i < this.chars.length; i++) {
      const x = this.coords[2 * i], y = this.coords[2 * i + 1];
      x0 = Math.min(x0, x); x1 = Math.max(x1, x); y0 = Math.min(y0, y); y1 = Math.max(y1, y);
    }
    // One scale on both axes, so distances on screen are true distances; the height follows
    // the spread along PC 2 (by definition no wider than along PC 1), within limits.
    const s = Math.min((w - 2 * pad) / (x1 - x0 || 1), (w - 2 * pad) / (y1 - y0 || 1));
    const h = Math.round(Math.min(w, Math.max(0.6 * w, (y1 - y0) * s + 2 * pad)));
    const cx = (x0 + x1) / 2, cy = (y0 + y1) / 2;
    return { w, h, X: (x) => w / 2 + (x - cx) * s, Y: (y) => h / 2 - (y - cy) * s };
  }

  #nearest(e) {
    if (!this.chars) return -1;
    const r = this.canvas.getBoundingClientRect();
    const { X, Y } = this.#layout();
    const px = e.clientX - r.left, py = e.clientY - r.top;
    let best = -1, bd = 14 * 14;
    for (let i = 0; i < this.chars.length; i++) {
      if (this.hidden.has(charClass(this.chars[i]))) continue;
      const d = (X(this.coords[2 * i]) - px) ** 2 + (Y(this.coords[2 * i + 1]) - py) ** 2;
      if (d < bd) [best, bd] = [i, d];
    }
    return best;
  }

  #render() {
    if (!this.chars) return; // nothing drawn yet (the legend and the pointer can call before the first draw)
    const { w, h, X, Y } = this.#layout();
    const dpr = window.devicePixelRatio || 1;
    this.canvas.style.width = `${w}px`;
    this.canvas.style.height = `${h}px`;
    this.canvas.width = Math.round(w * dpr);
    this.canvas.height = Math.round(h * dpr);
    const ctx = this.canvas.getContext('2d');
    ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
    ctx.clearRect(0, 0, w, h);
    // Axes through the mean (PCA coordinates are centred).
    ctx.strokeStyle = '#e7eaf0';
    ctx.lineWidth = 1;
    ctx.beginPath();
    ctx.moveTo(Math.round(X(0)) + 0.5, 0); ctx.lineTo(Math.round(X(0)) + 0.5, h);
    ctx.moveTo(0, Math.round(Y(0)) + 0.5); ctx.lineTo(w, Math.round(Y(0)) + 0.5);
    ctx.stroke();
    ctx.fillStyle = '#8a93a3';
    ctx.font = '11px system-ui, sans-serif';
    ctx.textAlign = 'right'; ctx.textBaseline = 'bottom';
    ctx.fillText('PC 1 →', w - 4, Y(0) - 3);
    ctx.textAlign = 'left'; ctx.textBaseline = 'top';
    ctx.fillText('↑ PC 2', X(0) + 4, 4);
    ctx.font = '600 14px ui-monospace, "DejaVu Sans Mono", monospace';
    ctx.textAlign = 'center'; ctx.textBaseline = 'middle';
    const order = this.chars.map((_, i) => i).filter((i) => !this.hidden.has(charClass(this.chars[i])));
    for (const i of order) {
      const ch = this.chars[i];
      const x = X(this.coords[2 * i]), y = Y(this.coords[2 * i + 1]);
      const color = this.colors[charClass(ch)];
      const on = i === this.hover || ch === this.selected;
      ctx.globalAlpha = this.hover >= 0 && !on ? 0.55 : 1;
      if (on) {
        ctx.fillStyle = '#fff';
        ctx.strokeStyle = color;
        ctx.lineWidth = 2;
        ctx.beginPath(); ctx.arc(x, y, 11, 0, 2 * Math.PI); ctx.fill(); ctx.stroke();
      }
      ctx.fillStyle = color;
      ctx.fillText(showChar(ch), x, y + 0.5);
    }
    ctx.globalAlpha = 1;
    this.readout.textContent = this.hover >= 0
      ? `${nameChar(this.chars[this.hover])} (${charClass(this.chars[this.hover])}) at (${this.coords[2 * this.hover].toFixed(2)}, ${this.coords[2 * this.hover + 1].toFixed(2)})`
      : '';
  }
}
