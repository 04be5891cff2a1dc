// Attention maps of a probe text: every layer × head as a small heatmap (each a button: choose
// one to see it large) and the chosen head large, with the characters it reads and a hover
// read-out of what attends to what. Data: (L, NH, T, T) probabilities, row = query position.
import { Heatmap, legend } from './heatmap.js';
import { nameChar } from './chars.js';

export class AttentionGrid {
  /** `grid` and `big` are empty elements; `onSelect(layer, head)` reports the chosen head. */
  constructor(grid, big, { onSelect } = {}) {
    this.grid = grid;
    this.big = big;
    this.onSelect = onSelect;
    this.selected = { layer: 0, head: 0 };
    this.shape = null;
    this.maps = [];
    this.hover = null;
    big.innerHTML = `<canvas class="att-big-canvas" role="img" aria-label="Attention of the chosen head"></canvas>
      <div class="legend-row"></div><p class="att-readout" aria-live="polite">Hover the map: row = the character reading, column = the one read.</p>`;
    this.bigMap = new Heatmap(big.querySelector('canvas'), {
      onHover: (row, col) => {
        this.hover = row === null ? null : { row, col };
        this.drawBig();
      },
    });
    legend(big.querySelector('.legend-row'), { lo: 0, hi: 1, label: 'attention weight' });
  }

  /** Shows a snapshot: `attention` (L, NH, T, T), `chars` the T characters read. */
  update({ attention, layers, heads, chars }) {
    const t = chars.length;
    this.data = attention;
    this.chars = chars;
    if (!this.shape || this.shape.layers !== layers || this.shape.heads !== heads) this.build(layers, heads);
    this.shape = { layers, heads, t };
    for (let l = 0; l < layers; l++) {
      for (let h = 0; h < heads; h++) {
        this.maps[l][h].draw(attention, t, t, { offset: ((l * heads + h) * t) * t, min: 0, max: 1, causal: true });
      }
    }
    this.drawBig();
  }

  build(layers, heads) {
    this.grid.replaceChildren();
    this.grid.style.setProperty('--heads', heads);
    this.maps = [];
    if (this.selected.layer >= layers || this.selected.head >= heads) this.selected = { layer: 0, head: 0 };
    for (let l = 0; l < layers; l++) {
      const row = [];
      const label = document.createElement('span');
      label.className = 'att-row-label';
      label.textContent = `L${l + 1}`;
      this.grid.append(label);
      for (let h = 0; h < heads; h++) {
        const b = document.createElement('button');
        b.type = 'button';
        b.className = 'att-cell';
        b.setAttribute('aria-label', `layer ${l + 1}, head ${h + 1}`);
        b.title = `layer ${l + 1}, head ${h + 1}`;
        const c = document.createElement('canvas');
        b.append(c);
        b.addEventListener('click', () => this.select(l, h));
        this.grid.append(b);
        row.push(new Heatmap(c));
      }
      this.maps.push(row);
    }
    this.markSelected();
  }

  select(layer, head) {
    this.selected = { layer, head };
    this.markSelected();
    this.drawBig();
    this.onSelect?.(layer, head);
  }

  markSelected() {
    const cells = this.grid.querySelectorAll('.att-cell');
    const heads = this.maps[0]?.length ?? 1;
    cells.forEach((b, i) => b.setAttribute('aria-pressed', String(i === this.selected.layer * heads + this.selected.head)));
  }

  drawBig() {
    if (!this.shape) return;
    const { heads, t } = this.shape;
    const { layer, head } = this.selected;
    const offset = (layer * heads + head) * t * t;
    this.bigMap.draw(this.data, t, t, { offset, min: 0, max: 1, causal: true, highlight: this.hover ?? undefined });
    const out = this.big.querySelector('.att-readout');
    if (this.hover) {
      const { row, col } = this.hover;
      const w = this.data[offset + row * t + col];
      let best = 0;
      for (let c = 1; c <= row; c++) if (this.data[offset + row * t + c] > this.data[offset + row * t + best]) best = c;
      const at = (i) => `${nameChar(this.chars[i])} at ${i}`;
      out.textContent = col > row
        ? `${at(row)} cannot see ${at(col)}: it comes later (the causal mask).`
        : `${at(row)} gives ${(w * 100).toFixed(1)}% of its attention to ${at(col)}; most to ${at(best)} (${(this.data[offset + row * t + best] * 100).toFixed(1)}%).`;
    }
  }
}
