// A labelled matrix figure: a heatmap with a title, axis names, its own colour legend and a
// readout that says what the cell under the pointer holds. Used for the positional encoding
// tables and their position-by-position similarity.
import { Heatmap, legend } from './heatmap.js';
import { WidthWatch } from './width.js';

export class MatrixFigure {
  /**
   * @param {HTMLElement} root
   * @param {{ title: string, xLabel: string, yLabel: string, scale?: 'sequential'|'diverging',
   *           valueLabel?: string, describe: (row: number, col: number, v: number) => string,
   *           square?: boolean }} opts
   */
  constructor(root, { title, xLabel, yLabel, scale = 'diverging', valueLabel = '', describe, square = false }) {
    this.root = root;
    this.scale = scale;
    this.valueLabel = valueLabel;
    this.describe = describe;
    this.square = square;
    root.classList.add('matrix-fig');
    root.innerHTML = `<div class="mf-title"></div>
      <div class="mf-body"><span class="mf-y"></span><div class="mf-frame"><canvas></canvas></div></div>
      <div class="mf-x"></div>
      <div class="mf-foot"><span class="mf-legend"></span><span class="mf-readout" aria-live="off"></span></div>`;
    root.querySelector('.mf-title').textContent = title;
    root.querySelector('.mf-x').textContent = xLabel;
    root.querySelector('.mf-y').textContent = yLabel;
    this.readout = root.querySelector('.mf-readout');
    this.canvas = root.querySelector('canvas');
    this.canvas.setAttribute('role', 'img');
    this.map = new Heatmap(this.canvas, {
      scale,
      onHover: (r, c) => {
        if (r === null || !this.data) {
          this.readout.textContent = '';
          return;
        }
        this.readout.textContent = this.describe(r, c, this.data[r * this.cols + c]);
      },
    });
    this.watch = new WidthWatch(this.canvas, () => this.#smoothing());
  }

  /** Downscaling (more cells than pixels) averages; upscaling keeps cells crisp. */
  #smoothing() {
    if (!this.cols) return;
    this.canvas.style.imageRendering = this.cols > (this.watch.width() || 300) ? 'auto' : '';
  }

  /** Draws `data` (rows, cols); `label` becomes the canvas's accessible name. */
  draw(data, rows, cols, { min, max, label = '' } = {}) {
    this.data = data;
    this.rows = rows;
    this.cols = cols;
    // Square maps stay square; tables get a shape between wide and tall so neither is a sliver.
    const aspect = this.square ? 1 : Math.min(1, Math.max(0.45, rows / cols));
    this.canvas.style.aspectRatio = `${1 / aspect}`;
    this.map.draw(data, rows, cols, { min, max });
    this.#smoothing();
    const [lo, hi] = this.map.range;
    legend(this.root.querySelector('.mf-legend'), { scale: this.scale, lo, hi, label: this.valueLabel });
    this.canvas.setAttribute('aria-label', label);
    this.readout.textContent = '';
  }
}
