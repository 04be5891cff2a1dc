// Numbers as the pages print them: powers of ten with superscript exponents.

const SUP = { '-': '⁻', 0: '⁰', 1: '¹', 2: '²', 3: '³', 4: '⁴', 5: '⁵', 6: '⁶', 7: '⁷', 8: '⁸', 9: '⁹' };

/** "3.15 × 10^23 FLOPs" → "3.15 × 10²³ FLOPs" (formulas keep their e-notation: 6 × 1.75e11 × 3e11). */
export function superscripts(s) {
  return String(s).replace(/10\^(-?\d+)/g, (_, e) => `10${[...e].map((c) => SUP[c]).join('')}`);
}

/**
 * A value for reading: superscripts, and the core's e-notation as a power of ten too,
 * "1.4065e-7 GPU-hours" → "1.4065 × 10⁻⁷ GPU-hours" (a number's own e only, not an e in a word).
 */
export function scientific(s) {
  return superscripts(String(s).replace(/(?<![\w.])(\d+(?:\.\d+)?)e([+-]?\d+)(?![\w.])/g, (_, m, e) => `${m} × 10^${Number(e)}`));
}
