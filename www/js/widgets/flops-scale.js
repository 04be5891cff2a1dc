// This run's training compute beside GPT-3's on one logarithmic axis, from 10^6 to 10^24
// FLOPs: how far a page-sized model is from the real thing, in one picture.
import { svg, ResponsiveChart } from './svg.js';

const LO = 6, HI = 24; // exponents of the axis

export class FlopsScale extends ResponsiveChart {
  /** `run` and `gpt3` are FLOPs; labels are shown beside the marks. */
  update(data) {
    this.data = data;
    // A container just made (the Train page remakes it with each plan) has not been measured:
    // the observer's first report, before the next paint, draws it without a layout read here.
    if (this.watch.seen) this.draw();
  }

  draw() {
    const { run, gpt3, runLabel, gpt3Label } = this.data;
    const W = Math.max(260, this.containerWidth() || 480);
    const H = 80;
    const m = { left: 12, right: 14 };
    const axisY = 38;
    const x = (v) => m.left + ((Math.log10(Math.max(v, 10 ** LO)) - LO) / (HI - LO)) * (W - m.left - m.right);
    const g = svg('svg', { viewBox: `0 0 ${W} ${H}`, width: W, height: H, class: 'chart-svg flops-scale', role: 'img',
      'aria-label': `Training compute on a log scale: this run ${runLabel}, GPT-3 ${gpt3Label}` });
    g.append(svg('line', { x1: x(10 ** LO), x2: x(10 ** HI), y1: axisY, y2: axisY, stroke: '#cfd5df', 'stroke-width': 2 }));
    for (let k = LO; k <= HI; k += 3) {
      g.append(svg('line', { x1: x(10 ** k), x2: x(10 ** k), y1: axisY - 4, y2: axisY + 4, stroke: '#cfd5df' }));
      g.append(svg('text', { x: x(10 ** k), y: axisY + 17, 'text-anchor': 'middle', class: 'tick' }, pow10(k)));
    }
    // This run's label above the axis, GPT-3's below the tick labels, so they never collide.
    const mark = (v, colour, label, y) => {
      const cx = x(v);
      g.append(svg('circle', { cx, cy: axisY, r: 6, fill: colour, stroke: '#fff', 'stroke-width': 1.5 }));
      const anchor = cx < W * 0.25 ? 'start' : cx > W * 0.75 ? 'end' : 'middle';
      const tx = anchor === 'start' ? Math.max(cx - 8, 2) : anchor === 'end' ? Math.min(cx + 8, W - 2) : cx;
      g.append(svg('text', { x: tx, y, 'text-anchor': anchor, class: 'callout' }, label));
    };
    mark(gpt3, '#c2621b', `GPT-3: ${gpt3Label}`, H - 4);
    mark(run, '#2a6fdb', `this run: ${runLabel}`, axisY - 14);
    this.container.replaceChildren(g);
  }
}

const SUP = { '-': '⁻', 0: '⁰', 1: '¹', 2: '²', 3: '³', 4: '⁴', 5: '⁵', 6: '⁶', 7: '⁷', 8: '⁸', 9: '⁹' };
const pow10 = (k) => `10${[...String(k)].map((c) => SUP[c]).join('')}`;
