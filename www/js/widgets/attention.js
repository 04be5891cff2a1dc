// Attention maps: every layer × head as a grid of small heatmaps, and one large view of the
// selected head with the characters on both axes (query positions down, key positions across).
// Hovering a cell, hovering a character on an axis, or focusing the map and moving with the arrow
// keys highlights a row (what that character attends to) and a column (what attends to it) and
// says it in words. The causal mask (keys after the query) is drawn as a grey checker.
import { Heatmap, legend } from './heatmap.js';
import { SEQUENTIAL, warp } from './colormap.js';
import { showChar, nameChar } from './chars.js';
import { WidthWatch } from './width.js';

const THUMB = 76; // CSS pixels per small map

export class AttentionView {
  /**
   * @param {{ grid: HTMLElement, large: HTMLElement, legend: HTMLElement, readout: HTMLElement,
   *           onSelect?: (layer: number, head: number) => void }} els
   */
  constructor({ grid, large, legend: legendEl, readout, onSelect }) {
    this.gridEl = grid;
    this.largeEl = large;
    this.legendEl = legendEl;
    this.readout = readout;
    this.onSelect = onSelect;
    this.layer = 0;
    this.head = 0;
    this.cell = 0; // CSS pixels per cell in the large view; 0 = fit the width
    this.gamma = 0.5;
    this.lut = warp(SEQUENTIAL, this.gamma);
    this.thumbs = []; // [layer][head] -> { button, map }
    this.data = null; // { attention (L, NH, T, T), nLayer, nHead, T, chars }
    this.hl = null; // { row, col } highlighted in the large view
    this.cursor = -1; // keyboard position
    this.#buildLarge();
    this.#drawLegend();
  }

  /** New attention: `attention` (L, NH, T, T) with row = query; `chars` the T characters. */
  setData({ attention, nLayer, nHead, T, chars }) {
    const shapeChanged = !this.data || this.data.nLayer !== nLayer || this.data.nHead !== nHead;
    const lengthChanged = !this.data || this.data.T !== T || this.data.chars.join('') !== chars.join('');
    this.data = { attention, nLayer, nHead, T, chars };
    if (shapeChanged) this.#buildGrid();
    this.layer = Math.min(this.layer, nLayer - 1);
    this.head = Math.min(this.head, nHead - 1);
    if (lengthChanged) {
      this.#buildAxes();
      if (this.hl && (this.hl.row >= T || this.hl.col >= T)) this.hl = null;
      if (this.cursor >= T) this.cursor = T - 1;
    }
    const ms = this.redrawAll();
    // Keep the newest characters in sight as text grows, unless the reader scrolled away: in
    // the next frame, where the layout that reading scrollHeight needs is done anyway (here,
    // right after the axes changed, it was a layout of its own on every update).
    if (lengthChanged && this.follow && !this.followFrame) {
      this.followFrame = requestAnimationFrame(() => {
        this.followFrame = 0;
        this.scroller.scrollTop = this.scroller.scrollHeight;
        this.scroller.scrollLeft = this.scroller.scrollWidth;
      });
    }
    return ms;
  }

  /** Selects the head shown large. */
  select(layer, head) {
    if (!this.data) {
      [this.layer, this.head] = [layer, head];
      return;
    }
    this.layer = clamp(layer, 0, this.data.nLayer - 1);
    this.head = clamp(head, 0, this.data.nHead - 1);
    this.#markSelected();
    this.#drawLarge();
    if (this.hl) this.#describe(this.hl);
  }

  /** Cell size of the large view in CSS pixels (0: fit the available width). */
  setZoom(cell) {
    this.cell = cell;
    if (this.data) {
      this.#layoutAxes();
      this.#drawLarge();
    }
  }

  /** The cell size of the large view now, in CSS pixels. */
  get cellSize() {
    return this.data ? this.#cellSize() : this.cell;
  }

  /** Square-root colour scale (true) or linear (false). */
  setStretch(on) {
    this.gamma = on ? 0.5 : 1;
    this.lut = warp(SEQUENTIAL, this.gamma);
    for (const row of this.thumbs) for (const t of row) t.map.lut = this.lut;
    this.large.lut = this.lut;
    this.#drawLegend();
    if (this.data) this.redrawAll();
  }

  /** Redraws every small map and the large one; returns the milliseconds it took. */
  redrawAll() {
    if (!this.data) return 0;
    const t0 = performance.now();
    const { attention, nLayer, nHead, T } = this.data;
    for (let l = 0; l < nLayer; l++) {
      for (let h = 0; h < nHead; h++) {
        const map = this.thumbs[l][h].map;
        map.draw(attention, T, T, { offset: ((l * nHead + h) * T) * T, min: 0, max: 1, causal: true });
        // Shrinking a large map to a thumbnail: let the browser average rather than drop rows.
        map.canvas.style.imageRendering = T > THUMB ? 'auto' : '';
      }
    }
    this.#drawLarge();
    this.lastRedrawMs = performance.now() - t0;
    return this.lastRedrawMs;
  }

  /** The fraction of the selected head's (row, col) weight, or null when masked/outside. */
  weight(layer, head, row, col) {
    const { attention, nHead, T } = this.data;
    if (row < 0 || col < 0 || row >= T || col > row) return null;
    return attention[((layer * nHead + head) * T + row) * T + col];
  }

  // ---- building ------------------------------------------------------------------------------

  #buildGrid() {
    const { nLayer, nHead } = this.data;
    this.gridEl.replaceChildren();
    this.thumbs = [];
    for (let l = 0; l < nLayer; l++) {
      const row = document.createElement('div');
      row.className = 'att-layer';
      const lab = document.createElement('span');
      lab.className = 'att-layer-label';
      lab.textContent = `layer ${l}`;
      const heads = document.createElement('div');
      heads.className = 'att-heads';
      row.append(lab, heads);
      this.thumbs.push([]);
      for (let h = 0; h < nHead; h++) {
        const b = document.createElement('button');
        b.type = 'button';
        b.className = 'att-thumb';
        b.setAttribute('aria-label', `Layer ${l}, head ${h}`);
        b.dataset.layer = l;
        b.dataset.head = h;
        const c = document.createElement('canvas');
        const cap = document.createElement('span');
        cap.textContent = `head ${h}`;
        b.append(c, cap);
        b.addEventListener('click', () => {
          this.select(l, h);
          this.onSelect?.(l, h);
        });
        heads.append(b);
        this.thumbs[l].push({ button: b, map: new Heatmap(c, { lut: this.lut }) });
      }
      this.gridEl.append(row);
    }
    this.#markSelected();
  }

  #markSelected() {
    this.thumbs.forEach((row, l) => row.forEach(({ button }, h) => {
      button.setAttribute('aria-pressed', String(l === this.layer && h === this.head));
    }));
  }

  #buildLarge() {
    this.largeEl.classList.add('att-large');
    this.scroller = document.createElement('div');
    this.scroller.className = 'att-scroll';
    this.table = document.createElement('div');
    this.table.className = 'att-table';
    this.corner = document.createElement('div');
    this.corner.className = 'att-corner';
    this.colAxis = document.createElement('div');
    this.colAxis.className = 'att-cols';
    this.rowAxis = document.createElement('div');
    this.rowAxis.className = 'att-rows';
    const canvas = document.createElement('canvas');
    canvas.className = 'att-canvas';
    canvas.tabIndex = 0;
    canvas.setAttribute('role', 'img');
    this.canvas = canvas;
    this.large = new Heatmap(canvas, {
      lut: this.lut,
      onHover: (row, col) => (row === null ? this.#unhover() : this.#hover({ row, col })),
    });
    this.table.append(this.corner, this.colAxis, this.rowAxis, canvas);
    this.follow = true; // scroll to the newest characters when the text grows
    this.scroller.addEventListener('scroll', () => {
      const s = this.scroller;
      this.follow = s.scrollTop + s.clientHeight >= s.scrollHeight - 4 && s.scrollLeft + s.clientWidth >= s.scrollWidth - 4;
    }, { passive: true });
    this.scroller.append(this.table);
    const note = document.createElement('p');
    note.className = 'att-axes-note';
    note.textContent = 'Rows: the character that looks (query) · columns: the characters it looks at (keys)';
    this.largeEl.replaceChildren(note, this.scroller);

    // Axis characters: hovering position i highlights its row and its column.
    const axisHover = (e) => {
      const i = Number(e.target.closest('[data-pos]')?.dataset.pos);
      if (Number.isInteger(i)) this.#hover({ row: i, col: i });
    };
    for (const axis of [this.colAxis, this.rowAxis]) {
      axis.addEventListener('pointerover', axisHover);
      axis.addEventListener('pointerleave', () => this.#unhover());
    }
    canvas.addEventListener('keydown', (e) => this.#key(e));
    canvas.addEventListener('focus', () => {
      if (!this.data) return;
      if (this.cursor < 0) this.cursor = this.data.T - 1;
      this.#hover({ row: this.cursor, col: this.cursor });
    });
    canvas.addEventListener('blur', () => this.#unhover(true));
    this.largeWidth = new WidthWatch(this.largeEl, () => {
      if (this.data && this.cell === 0) {
        this.#layoutAxes();
        this.#drawLarge();
      }
    });
  }

  /**
   * The characters along both axes. Spans are kept and only those whose character changed are
   * rewritten: as text streams in, each update adds one (rebuilding all 2 × T was most of an
   * update's time, with the layout it caused).
   */
  #buildAxes() {
    const { chars } = this.data;
    for (const axis of [this.colAxis, this.rowAxis]) {
      const spans = axis.children;
      while (spans.length > chars.length) axis.lastElementChild.remove();
      const added = [];
      for (let i = 0; i < chars.length; i++) {
        let s = spans[i];
        if (!s) {
          s = document.createElement('span');
          s.className = 'ax';
          s.dataset.pos = i;
          added.push(s);
        } else if (s.dataset.ch === chars[i]) continue;
        const ch = chars[i];
        s.dataset.ch = ch;
        s.textContent = showChar(ch);
        s.title = `${nameChar(ch)} at position ${i}`;
        s.classList.toggle('ws', ch === ' ' || ch === '\n');
      }
      axis.append(...added);
    }
    this.#layoutAxes();
  }

  /**
   * The cell size in use: the chosen zoom, or what fits the width, but never so small that the
   * characters on the axes become unreadable (a long text scrolls instead).
   */
  #cellSize() {
    if (this.cell > 0) return this.cell;
    const avail = this.largeWidth.width() - 42; // minus the row axis and the border
    return clamp(Math.floor(avail / Math.max(1, this.data.T)), 12, 32);
  }

  #layoutAxes() {
    const cell = this.#cellSize();
    this.table.style.setProperty('--cell', `${cell}px`);
    this.table.style.setProperty('--n', this.data.T);
    this.table.classList.toggle('tiny', cell < 9);
    this.large.cell = cell;
  }

  #drawLegend() {
    legend(this.legendEl, { lut: this.lut, lo: 0, hi: 1, label: this.gamma === 1 ? 'attention weight' : 'attention weight (√ scale)' });
  }

  // ---- drawing -------------------------------------------------------------------------------

  #drawLarge() {
    if (!this.data) return;
    const { attention, nHead, T, chars } = this.data;
    this.large.cell = this.#cellSize();
    this.large.draw(attention, T, T, {
      offset: ((this.layer * nHead + this.head) * T) * T,
      min: 0,
      max: 1,
      causal: true,
      highlight: this.hl ?? undefined,
    });
    this.canvas.setAttribute('aria-label',
      `Attention of layer ${this.layer}, head ${this.head} over ${T} characters. ` +
      'Use the left and right arrow keys to move along the text.');
    for (const axis of [this.colAxis, this.rowAxis]) {
      for (const el of axis.querySelectorAll('.hl')) el.classList.remove('hl');
    }
    if (this.hl) {
      this.colAxis.children[this.hl.col]?.classList.add('hl');
      this.rowAxis.children[this.hl.row]?.classList.add('hl');
    }
    this.largeEl.dataset.t = T;
    this.largeEl.dataset.chars = chars.length;
  }

  // ---- interaction ---------------------------------------------------------------------------

  #hover(hl) {
    if (!this.data) return;
    if (this.hl && this.hl.row === hl.row && this.hl.col === hl.col) return;
    this.hl = hl;
    this.#drawLarge();
    this.#describe(hl);
  }

  #unhover(force = false) {
    if (!force && document.activeElement === this.canvas) {
      this.#hover({ row: this.cursor, col: this.cursor });
      return;
    }
    this.hl = null;
    this.#drawLarge();
  }

  #describe({ row, col }) {
    const { chars } = this.data;
    const at = (i) => `${nameChar(chars[i])} at ${i}`;
    if (row !== col) {
      const w = this.weight(this.layer, this.head, row, col);
      this.readout.textContent = w === null
        ? `${at(row)} cannot see ${at(col)}: it comes later (the causal mask).`
        : `${at(row)} gives ${fmtPct(w)} of its attention to ${at(col)}.`;
      return;
    }
    // One position: the keys its query picks most, and the queries that pick it most.
    const top = [];
    for (let c = 0; c <= row; c++) top.push([c, this.weight(this.layer, this.head, row, c)]);
    top.sort((a, b) => b[1] - a[1]);
    const looks = top.slice(0, 3).map(([c, w]) => `${at(c)} (${fmtPct(w)})`).join(', ');
    this.readout.textContent = `${at(row)} looks most at ${looks}.`;
  }

  #key(e) {
    if (!this.data) return;
    const T = this.data.T;
    const moves = { ArrowLeft: -1, ArrowUp: -1, ArrowRight: 1, ArrowDown: 1, PageUp: -10, PageDown: 10 };
    let next = this.cursor;
    if (e.key in moves) next += moves[e.key];
    else if (e.key === 'Home') next = 0;
    else if (e.key === 'End') next = T - 1;
    else return;
    e.preventDefault();
    this.cursor = clamp(next, 0, T - 1);
    this.#hover({ row: this.cursor, col: this.cursor });
    this.#scrollTo(this.cursor);
  }

  #scrollTo(i) {
    const cell = this.#cellSize();
    const s = this.scroller;
    const x = 40 + i * cell, y = 28 + i * cell;
    if (x < s.scrollLeft + 40 || x > s.scrollLeft + s.clientWidth - cell) s.scrollLeft = x - s.clientWidth / 2;
    if (y < s.scrollTop + 28 || y > s.scrollTop + s.clientHeight - cell) s.scrollTop = y - s.clientHeight / 2;
  }
}

const clamp = (x, lo, hi) => Math.max(lo, Math.min(hi, x));
const fmtPct = (w) => (w >= 0.1 ? `${(w * 100).toFixed(0)}%` : `${(w * 100).toFixed(1)}%`);
