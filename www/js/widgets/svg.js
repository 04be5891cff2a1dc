// Small helpers the chart widgets share: SVG elements, logarithmic ticks, compact numbers.
import { WidthWatch } from './width.js';

const NS = 'http://www.w3.org/2000/svg';

/** An SVG element with attributes and children (strings become text). */
export function svg(tag, attrs = {}, ...children) {
  const el = document.createElementNS(NS, tag);
  for (const [k, v] of Object.entries(attrs)) if (v !== undefined && v !== null) el.setAttribute(k, String(v));
  for (const c of children.flat()) if (c !== null && c !== undefined) el.append(typeof c === 'string' ? document.createTextNode(c) : c);
  return el;
}

/** Tick values for a log axis over [lo, hi]: powers of ten, with 2 and 5 between when the range is short. */
export function logTicks(lo, hi) {
  const ticks = [];
  const k0 = Math.floor(Math.log10(lo)), k1 = Math.ceil(Math.log10(hi));
  const steps = k1 - k0 <= 2 ? [1, 2, 5] : [1];
  for (let k = k0; k <= k1; k++) {
    for (const m of steps) {
      const v = m * 10 ** k;
      if (v >= lo * (1 - 1e-9) && v <= hi * (1 + 1e-9)) ticks.push(v);
    }
  }
  return ticks;
}

/** A compact number for an axis: 1, 20, 1.5k, 30M, 2B, 4e15. */
export function compact(x) {
  const a = Math.abs(x);
  if (a >= 1e15) return x.toExponential(0).replace('e+', 'e');
  for (const [scale, s] of [[1e12, 'T'], [1e9, 'B'], [1e6, 'M'], [1e3, 'k']]) {
    if (a >= scale) return `${trim(x / scale)}${s}`;
  }
  return trim(x);
}

/** Dollars for an axis: $15k, $2.5M, $1B. */
export function compactUsd(x) {
  return `$${compact(x)}`;
}

/** Bytes for an axis, decimal units as GPU memory is sold: 40 GB, 2.8 TB. */
export function compactBytes(x) {
  for (const [scale, s] of [[1e15, 'PB'], [1e12, 'TB'], [1e9, 'GB'], [1e6, 'MB'], [1e3, 'kB']]) {
    if (Math.abs(x) >= scale) return `${trim(x / scale)} ${s}`;
  }
  return `${trim(x)} B`;
}

function trim(x) {
  return String(Number(x.toPrecision(3)));
}

/**
 * A chart drawn at its container's width. Subclasses implement `draw()` (reading `this.data`
 * and `this.containerWidth()`); `update(data)` stores the data and draws, and a change of the
 * container's width redraws.
 */
export class ResponsiveChart {
  /** Draws into `container` (an empty element). */
  constructor(container) {
    this.container = container;
    this.data = null;
    this.width = 0; // the width last drawn at
    this.watch = new WidthWatch(container, (w) => {
      if (this.data && w !== this.width) this.draw();
    });
  }

  /** The container's width, without a layout (see WidthWatch); the draw records it in `width`. */
  containerWidth() {
    this.width = this.watch.width();
    return this.width;
  }

  update(data) {
    this.data = data;
    this.draw();
  }
}
