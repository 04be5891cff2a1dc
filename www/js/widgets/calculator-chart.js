// GPUs and cost against the training deadline: an inline SVG, log-log, drawn at the container's
// width (and redrawn when it changes). GPU cost is GPUs × price, so one line serves both: GPUs
// on the left axis, its cost on the right; the server cost is a second line on the right axis.
import { svg, logTicks, compact, compactUsd, ResponsiveChart } from './svg.js';

const COLOURS = { gpus: '#2a6fdb', servers: '#c2621b', grid: '#e7eaf0', ink: '#1d2330', muted: '#5b6475' };

export class DeadlineChart extends ResponsiveChart {
  /**
   * Data (`update(data)`): points: [{ days, gpus, serverCost }] in increasing days; current: the same for the chosen
   * deadline, plus `label` (two lines of text); gpuPrice: $ per GPU (the right axis is GPUs × gpuPrice).
   */
  draw() {
    const { points, current, gpuPrice } = this.data;
    const W = Math.max(280, this.containerWidth() || 640);
    const narrow = W < 480;
    const H = narrow ? 240 : 300;
    const m = { left: narrow ? 44 : 56, right: narrow ? 50 : 64, top: 14, bottom: 46 };
    const iw = W - m.left - m.right, ih = H - m.top - m.bottom;

    const days = points.map((p) => p.days);
    const [d0, d1] = [Math.min(...days), Math.max(...days)];
    // Both lines in GPU units: the server cost divided by the GPU price.
    const ys = points.flatMap((p) => [p.gpus, p.serverCost / gpuPrice]);
    const y0 = Math.min(...ys) / 1.6, y1 = Math.max(...ys) * 1.6;
    const x = (d) => m.left + (Math.log(d / d0) / Math.log(d1 / d0)) * iw;
    const y = (v) => m.top + ih - (Math.log(v / y0) / Math.log(y1 / y0)) * ih;

    const g = svg('g');
    // Grid and axes.
    for (const t of logTicks(d0, d1)) {
      g.append(svg('line', { x1: x(t), x2: x(t), y1: m.top, y2: m.top + ih, stroke: COLOURS.grid }));
      g.append(svg('text', { x: x(t), y: m.top + ih + 16, 'text-anchor': 'middle', class: 'tick' }, compact(t)));
    }
    for (const t of logTicks(y0, y1)) {
      g.append(svg('line', { x1: m.left, x2: m.left + iw, y1: y(t), y2: y(t), stroke: COLOURS.grid }));
      g.append(svg('text', { x: m.left - 6, y: y(t) + 4, 'text-anchor': 'end', class: 'tick' }, compact(t)));
    }
    for (const t of logTicks(y0 * gpuPrice, y1 * gpuPrice)) {
      g.append(svg('text', { x: m.left + iw + 6, y: y(t / gpuPrice) + 4, class: 'tick' }, compactUsd(t)));
    }
    g.append(svg('rect', { x: m.left, y: m.top, width: iw, height: ih, fill: 'none', stroke: '#cfd5df' }));
    g.append(svg('text', { x: m.left + iw / 2, y: H - 6, 'text-anchor': 'middle', class: 'axis-title' }, 'deadline, days'));
    g.append(svg('text', { x: 12, y: m.top + ih / 2, 'text-anchor': 'middle', class: 'axis-title', transform: `rotate(-90 12 ${m.top + ih / 2})` }, 'GPUs'));
    g.append(svg('text', { x: W - 8, y: m.top + ih / 2, 'text-anchor': 'middle', class: 'axis-title', transform: `rotate(90 ${W - 8} ${m.top + ih / 2})` }, 'cost'));

    // The lines.
    const line = (f) => points.map((p, i) => `${i ? 'L' : 'M'}${x(p.days).toFixed(1)},${y(f(p)).toFixed(1)}`).join('');
    g.append(svg('path', { d: line((p) => p.serverCost / gpuPrice), fill: 'none', stroke: COLOURS.servers, 'stroke-width': 2, 'stroke-dasharray': '6 4', class: 'series-servers' }));
    g.append(svg('path', { d: line((p) => p.gpus), fill: 'none', stroke: COLOURS.gpus, 'stroke-width': 2.5, class: 'series-gpus' }));

    // The chosen deadline.
    const cx = x(current.days);
    g.append(svg('line', { x1: cx, x2: cx, y1: m.top, y2: m.top + ih, stroke: COLOURS.muted, 'stroke-dasharray': '2 3' }));
    g.append(svg('circle', { cx, cy: y(current.serverCost / gpuPrice), r: 4, fill: COLOURS.servers }));
    g.append(svg('circle', { cx, cy: y(current.gpus), r: 5, fill: COLOURS.gpus, stroke: '#fff', 'stroke-width': 1.5 }));
    // The callout goes where the falling lines are not: below-left of the dot, or above-right
    // near the left edge; two lines, kept inside the plot.
    const lines = current.label;
    const textW = Math.max(...lines.map((t) => t.length)) * 6.6;
    const below = cx - m.left > textW + 10 || cx - m.left > iw * 0.5;
    const tx = below ? Math.max(cx - 8, m.left + textW + 4) : Math.min(cx + 8, m.left + iw - textW - 4);
    const ty = below ? Math.min(y(current.gpus) + 20, m.top + ih - 22) : Math.max(y(current.serverCost / gpuPrice) - 26, m.top + 14);
    g.append(svg('text', { x: tx, y: ty, 'text-anchor': below ? 'end' : 'start', class: 'callout' },
      lines.map((t, i) => svg('tspan', { x: tx, dy: i ? 15 : 0 }, t))));

    const first = points[0], last = points.at(-1);
    const root = svg('svg', {
      width: W, height: H, viewBox: `0 0 ${W} ${H}`, role: 'img', class: 'chart-svg',
      'aria-label': `GPUs needed against the deadline: ${compact(first.gpus)} GPUs at ${compact(first.days)} days, ${compact(last.gpus)} at ${compact(last.days)} days; ${current.label.join(': ')}.`,
    }, g);
    const legend = document.createElement('div');
    legend.className = 'chart-legend';
    legend.innerHTML = `<span><i style="background:${COLOURS.gpus}"></i>GPUs (left) = GPU cost ÷ ${compactUsd(gpuPrice)} (right)</span>
      <span><i class="dashed" style="border-color:${COLOURS.servers}"></i>server cost (right)</span>`;
    this.container.replaceChildren(root, legend);
  }
}
