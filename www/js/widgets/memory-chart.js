// Memory by component: one stacked horizontal bar per use (training state, inference), on a
// linear scale in bytes, with a thin line at every multiple of one GPU's memory so the count
// of GPUs "just to hold it" can be seen. Inline SVG at the container's width.
import { svg, compactBytes, ResponsiveChart } from './svg.js';

const COLOURS = {
  weights: '#2a6fdb', gradients: '#7fa8ea', optimiser: '#8e44ad', overhead: '#aab3c2', 'KV cache': '#1f8a4c',
};

export class MemoryChart extends ResponsiveChart {
  /**
   * Data (`update(data)`): bars: [{ label, parts: [{ name, bytes, display }], total: display text }];
   * gpuMemory: bytes of one GPU; gpuLabel: e.g. "40 GB".
   */
  draw() {
    const { bars, gpuMemory, gpuLabel } = this.data;
    const W = Math.max(280, this.containerWidth() || 640);
    const m = { left: 8, right: 12, top: 6 };
    const iw = W - m.left - m.right;
    const rowH = 54, barH = 22;
    const H = m.top + bars.length * rowH + 22;
    const max = Math.max(gpuMemory, ...bars.map((b) => b.parts.reduce((s, p) => s + p.bytes, 0))) * 1.02;
    const x = (b) => m.left + (b / max) * iw;

    const g = svg('g');
    bars.forEach((bar, i) => {
      const top = m.top + i * rowH;
      g.append(svg('text', { x: m.left, y: top + 14, class: 'bar-title' }, bar.label));
      let at = 0;
      for (const p of bar.parts) {
        const w = x(at + p.bytes) - x(at);
        const rect = svg('rect', { x: x(at), y: top + 22, width: Math.max(w, 0.5), height: barH, fill: COLOURS[p.name] ?? '#999' },
          svg('title', {}, `${p.name}: ${p.display}`));
        g.append(rect);
        if (w > 70) g.append(svg('text', { x: x(at) + 6, y: top + 22 + 15, class: 'bar-label' }, p.name));
        at += p.bytes;
      }
    });
    // One line per GPU's worth of memory (or per 10, 100, ... GPUs when there are many).
    const n = Math.floor(max / gpuMemory);
    const every = n <= 100 ? 1 : 10 ** Math.ceil(Math.log10(n / 100));
    for (let k = every; k * gpuMemory <= max; k += every) {
      const gx = x(k * gpuMemory);
      // Across the bars only, so the titles stay readable; to the axis note for the first.
      bars.forEach((_, i) => {
        const top = m.top + i * rowH + 20;
        const bottom = k === every && i === bars.length - 1 ? H - 18 : top + barH + 4;
        g.append(svg('line', { x1: gx, x2: gx, y1: top, y2: bottom, stroke: '#1d2330', 'stroke-opacity': k === every ? 0.7 : 0.25 }));
      });
    }
    const first = x(every * gpuMemory);
    const note = every > 1 ? `each line: ${every} GPUs of ${gpuLabel}`
      : n > 1 ? `one GPU (${gpuLabel}); each line: one more` : `one GPU holds ${gpuLabel}`;
    const anchorEnd = first > W * 0.6;
    g.append(svg('text', { x: anchorEnd ? first - 4 : first + 4, y: H - 6, 'text-anchor': anchorEnd ? 'end' : 'start', class: 'tick' }, note));
    if (!anchorEnd) g.append(svg('text', { x: W - m.right, y: H - 6, 'text-anchor': 'end', class: 'tick' }, compactBytes(max / 1.02)));

    const root = svg('svg', {
      width: W, height: H, viewBox: `0 0 ${W} ${H}`, role: 'img', class: 'chart-svg',
      'aria-label': `Memory by component. ${bars.map((b) => `${b.label}: ${b.parts.map((p) => `${p.name} ${p.display}`).join(', ')}`).join('. ')}.`,
    }, g);
    const legend = document.createElement('div');
    legend.className = 'chart-legend';
    const names = [...new Set(bars.flatMap((b) => b.parts.map((p) => p.name)))];
    legend.innerHTML = names.map((nm) => `<span><i style="background:${COLOURS[nm] ?? '#999'}"></i>${nm}</span>`).join('');
    this.container.replaceChildren(root, legend);
  }
}
