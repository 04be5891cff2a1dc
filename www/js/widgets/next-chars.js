// The next-character distribution as horizontal bars, most likely first. Each row carries the
// exact probability in `data-p` (and its character in `data-char`), so the numbers can be read
// back as well as seen.
import { showChar } from './chars.js';

export class NextChars {
  /** Draws into `container` (an empty element); shows the `top` most likely characters. */
  constructor(container, { top = 10 } = {}) {
    this.container = container;
    this.top = top;
    container.classList.add('next-chars');
  }

  /** `probs` (V) over `vocab` (a string, id order). */
  update(probs, vocab) {
    const chars = [...vocab];
    const order = [...probs.keys()].sort((a, b) => probs[b] - probs[a] || a - b).slice(0, this.top);
    const rows = order.map((i) => {
      const p = probs[i];
      const row = document.createElement('div');
      row.className = 'nc-row';
      row.dataset.char = chars[i];
      row.dataset.p = String(p);
      row.innerHTML = `<span class="nc-char"></span><span class="nc-bar"><i style="width:${(p * 100).toFixed(2)}%"></i></span><span class="nc-p">${(p * 100).toFixed(1)}%</span>`;
      row.querySelector('.nc-char').textContent = showChar(chars[i]);
      return row;
    });
    this.container.replaceChildren(...rows);
  }
}
