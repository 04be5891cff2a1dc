// Colour scales for heatmaps, as 256-entry RGBA lookup tables (one table lookup per pixel).

function lerpStops(stops, t) {
  const x = Math.min(1, Math.max(0, t)) * (stops.length - 1);
  const i = Math.min(stops.length - 2, Math.floor(x));
  const f = x - i;
  return stops[i].map((c, k) => Math.round(c + (stops[i + 1][k] - c) * f));
}

function table(stops) {
  const lut = new Uint8ClampedArray(256 * 4);
  for (let i = 0; i < 256; i++) {
    const [r, g, b] = lerpStops(stops, i / 255);
    lut.set([r, g, b, 255], i * 4);
  }
  return lut;
}

/** Sequential, white to deep blue: probabilities in [0, 1]. */
export const SEQUENTIAL = table([[255, 255, 255], [198, 219, 239], [107, 174, 214], [33, 113, 181], [8, 48, 107]]);
/** Diverging, red – white – blue: signed values in [-1, 1]. */
export const DIVERGING = table([[178, 24, 43], [239, 138, 98], [247, 247, 247], [103, 169, 207], [33, 102, 172]]);

/** CSS colour for t in [0, 1] on a lookup table. */
export function cssColor(lut, t) {
  const i = Math.round(Math.min(1, Math.max(0, t)) * 255) * 4;
  return `rgb(${lut[i]},${lut[i + 1]},${lut[i + 2]})`;
}

/**
 * The same colours with the input warped by t ↦ t^gamma: gamma 0.5 (a square-root scale) gives
 * small values more of the scale, so faint attention stays visible next to a few strong weights.
 */
export function warp(lut, gamma) {
  const out = new Uint8ClampedArray(256 * 4);
  for (let i = 0; i < 256; i++) {
    const j = Math.round(Math.pow(i / 255, gamma) * 255) * 4;
    out.set(lut.subarray(j, j + 4), i * 4);
  }
  return out;
}
