// A heatmap of a (rows, cols) matrix on a canvas: one device pixel block per cell, drawn through
// ImageData (fast: a full redraw of a 128×128 map is well under a millisecond) and scaled with
// `image-rendering: pixelated`, so cells stay crisp at any zoom. Optional masked cells (the causal
// mask) are drawn hatched-grey; hovering reports the cell under the pointer.
import { SEQUENTIAL, DIVERGING } from './colormap.js';

export class Heatmap {
  /**
   * @param {HTMLCanvasElement} canvas
   * @param {{ scale?: 'sequential'|'diverging', lut?: Uint8ClampedArray, cell?: number, onHover?: (row:number|null, col:number|null) => void }} opts
   *   `lut` replaces the scale's colours (e.g. a warped table) but keeps its range rule.
   */
  constructor(canvas, { scale = 'sequential', lut, cell = 0, onHover } = {}) {
    this.canvas = canvas;
    this.ctx = canvas.getContext('2d');
    this.lut = lut ?? (scale === 'diverging' ? DIVERGING : SEQUENTIAL);
    this.scale = scale;
    this.cell = cell; // CSS pixels per cell; 0 = fit the canvas's CSS width
    this.rows = 0;
    this.cols = 0;
    canvas.classList.add('pixelated');
    if (onHover) {
      canvas.addEventListener('pointermove', (e) => {
        const { row, col } = this.cellAt(e);
        onHover(row, col);
      });
      canvas.addEventListener('pointerleave', () => onHover(null, null));
    }
  }

  /** The (row, col) under a pointer event, or nulls outside the map. */
  cellAt(e) {
    const r = this.canvas.getBoundingClientRect();
    const col = Math.floor(((e.clientX - r.left) / r.width) * this.cols);
    const row = Math.floor(((e.clientY - r.top) / r.height) * this.rows);
    const inside = row >= 0 && row < this.rows && col >= 0 && col < this.cols;
    return inside ? { row, col } : { row: null, col: null };
  }

  /**
   * Draws `data` (rows × cols, row-major, starting at `offset`). Values map to colour over
   * [min, max] (diverging scales are symmetric around 0). `masked(row, col)` cells are grey;
   * `causal: true` masks every cell above the diagonal (col > row) without a call per cell.
   * `highlight` = { row, col } outlines a row and a column.
   */
  draw(data, rows, cols, { offset = 0, min, max, masked, causal = false, highlight } = {}) {
    if (causal) masked = null;
    this.rows = rows;
    this.cols = cols;
    if (this.canvas.width !== cols || this.canvas.height !== rows) {
      this.canvas.width = cols;
      this.canvas.height = rows;
    }
    if (this.cell > 0) {
      this.canvas.style.width = `${cols * this.cell}px`;
      this.canvas.style.height = `${rows * this.cell}px`;
    }
    let lo = min, hi = max;
    if (lo === undefined || hi === undefined) {
      let a = Infinity, b = -Infinity;
      for (let i = offset; i < offset + rows * cols; i++) {
        const v = data[i];
        if (v < a) a = v;
        if (v > b) b = v;
      }
      if (this.scale === 'diverging') {
        const m = Math.max(Math.abs(a), Math.abs(b)) || 1;
        [a, b] = [-m, m];
      }
      lo = lo ?? a;
      hi = hi ?? b;
    }
    const span = hi - lo || 1;
    // One 32-bit write per pixel: the pixels and the lookup table viewed as RGBA words (both
    // in the machine's byte order, so a copy is a copy). The ImageData is reused while the
    // size stays the same.
    if (!this.img || this.img.width !== cols || this.img.height !== rows) this.img = this.ctx.createImageData(cols, rows);
    const img = this.img;
    const px32 = new Uint32Array(img.data.buffer);
    const lut32 = lut32Of(this.lut);
    const scale = 255 / span;
    for (let r = 0; r < rows; r++) {
      const row = r * cols;
      const src = offset + row;
      // Cells after `end` in this row are masked: all of them past the diagonal when causal.
      const end = causal ? Math.min(cols, r + 1) : cols;
      for (let c = 0; c < end; c++) {
        if (masked && masked(r, c)) {
          px32[row + c] = MASK32[(r + c) & 1];
          continue;
        }
        let i = ((data[src + c] - lo) * scale + 0.5) | 0;
        i = i < 0 ? 0 : i > 255 ? 255 : i;
        px32[row + c] = lut32[i];
      }
      for (let c = end; c < cols; c++) px32[row + c] = MASK32[(r + c) & 1];
    }
    const px = img.data;
    if (highlight) tint(px, rows, cols, highlight);
    this.ctx.putImageData(img, 0, 0);
    this.range = [lo, hi];
  }
}

// The masked cells' faint checker ("not allowed to look here"), as RGBA words.
const MASK32 = new Uint32Array(new Uint8ClampedArray([236, 236, 240, 255, 226, 226, 230, 255]).buffer);

// Each lookup table's RGBA words, made once per table.
const LUT32 = new WeakMap();
function lut32Of(lut) {
  let w = LUT32.get(lut);
  if (!w) {
    w = new Uint32Array(Uint8ClampedArray.from(lut).buffer);
    LUT32.set(lut, w);
  }
  return w;
}

// Darkens everything outside the highlighted row and column, so "what this character attends to"
// (its row) and "what attends to it" (its column) stand out.
function tint(px, rows, cols, { row, col }) {
  for (let r = 0; r < rows; r++) {
    for (let c = 0; c < cols; c++) {
      if (r === row || c === col) continue;
      const o = (r * cols + c) * 4;
      px[o] = px[o] * 0.7 + 28; px[o + 1] = px[o + 1] * 0.7 + 28; px[o + 2] = px[o + 2] * 0.7 + 34;
    }
  }
}

/** A horizontal colour legend from `lo` to `hi` with a label. */
export function legend(container, { scale = 'sequential', lut, lo = 0, hi = 1, label = '' } = {}) {
  lut = lut ?? (scale === 'diverging' ? DIVERGING : SEQUENTIAL);
  const c = document.createElement('canvas');
  c.width = 256; c.height = 1;
  c.className = 'legend-bar pixelated';
  const ctx = c.getContext('2d');
  const img = ctx.createImageData(256, 1);
  img.data.set(lut);
  ctx.putImageData(img, 0, 0);
  container.replaceChildren();
  const lab = (t) => { const s = document.createElement('span'); s.textContent = t; return s; };
  container.append(lab(fmt(lo)), c, lab(fmt(hi)));
  if (label) container.append(lab(label));
  container.classList.add('legend');
}

const fmt = (v) => (Math.abs(v) >= 100 || (Math.abs(v) < 0.01 && v !== 0) ? v.toExponential(1) : v.toFixed(2));
