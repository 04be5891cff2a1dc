// Positional encodings side by side: the fixed sinusoidal table and a model's own position table
// (`wpe`), each as a (position, dimension) heatmap, its position-by-position cosine similarity,
// and a line plot of a few of its dimensions over position.
import { MatrixFigure } from './matrix.js';
import { LinePlot } from './lineplot.js';

const f2 = (v) => v.toFixed(2);

export class PositionsView {
  /** Each argument is the element that hosts one figure. */
  constructor({ sinTable, sinSim, sinLines, wpeTable, wpeSim, wpeLines }) {
    const table = (title) => ({
      title,
      xLabel: 'dimension →',
      yLabel: 'position →',
      valueLabel: 'value',
      describe: (r, c, v) => `pos ${r}, dim ${c}: ${f2(v)}`,
    });
    const sim = (title) => ({
      title,
      xLabel: 'position →',
      yLabel: 'position →',
      valueLabel: 'cosine',
      square: true,
      describe: (r, c, v) => `pos ${r} vs pos ${c}: cos ${f2(v)}`,
    });
    this.sin = {
      table: new MatrixFigure(sinTable, table('The table PE(pos, i)')),
      sim: new MatrixFigure(sinSim, sim('Cosine similarity of positions')),
      lines: new LinePlot(sinLines, { title: 'A few dimensions over position' }),
    };
    this.wpe = {
      table: new MatrixFigure(wpeTable, table('The table wpe(pos, i)')),
      sim: new MatrixFigure(wpeSim, sim('Cosine similarity of positions')),
      lines: new LinePlot(wpeLines, { title: 'Its most varying dimensions over position' }),
    };
  }

  /** The sinusoidal table (length, d) and its similarity (length, length). */
  setSinusoidal({ table, similarity, length, d }) {
    this.sin.table.draw(table, length, d, { min: -1, max: 1, label: `Sinusoidal table, ${length} positions by ${d} dimensions` });
    this.sin.sim.draw(similarity, length, length, { min: -1, max: 1, label: `Cosine similarity of ${length} sinusoidal positions` });
    // Dimensions from the fastest clock hand to slower ones: 0 and 1 are one sin/cos pair.
    const dims = [...new Set([0, 1, 2 * Math.floor(d / 16), 2 * Math.floor(d / 4)])].filter((i) => i < d);
    this.sin.lines.draw(dims.map((i) => ({ label: `dim ${i}`, values: column(table, length, d, i) })),
      { label: `Sinusoidal dimensions ${dims.join(', ')} over position` });
  }

  /** The model's position table `wpe` (T, C) and its similarity (T, T). */
  setLearned({ wpe, similarity, T, C }) {
    this.wpe.table.draw(wpe, T, C, { label: `The model's position table wpe, ${T} positions by ${C} dimensions` });
    this.wpe.sim.draw(similarity, T, T, { min: -1, max: 1, label: `Cosine similarity of the model's ${T} positions` });
    // The four dimensions that change most with position.
    const variance = Array.from({ length: C }, (_, i) => {
      const col = column(wpe, T, C, i);
      const mean = col.reduce((a, b) => a + b, 0) / T;
      return [i, col.reduce((a, v) => a + (v - mean) ** 2, 0)];
    }).sort((a, b) => b[1] - a[1]).slice(0, 4).map(([i]) => i).sort((a, b) => a - b);
    this.wpe.lines.draw(variance.map((i) => ({ label: `dim ${i}`, values: column(wpe, T, C, i) })),
      { label: `Learned position dimensions ${variance.join(', ')} over position` });
  }
}

function column(m, rows, cols, c) {
  const out = new Float32Array(rows);
  for (let r = 0; r < rows; r++) out[r] = m[r * cols + c];
  return out;
}
