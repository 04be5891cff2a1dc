// The next-character distribution as horizontal bars: the top candidates, likeliest first, each
// with its character, a bar as long as its probability and the percentage. Each bar is a button
// (so it is keyboard reachable) that reports the character it stands for.
import { showChar, nameChar, charColor } from './chars.js';

export class NextChar {
  /**
   * @param {HTMLElement} root
   * @param {{ top?: number, onPick?: (ch: string) => void }} opts
   */
  constructor(root, { top = 10, onPick } = {}) {
    this.root = root;
    this.top = top;
    this.onPick = onPick;
    root.classList.add('nextchar');
    this.list = document.createElement('ol');
    this.list.className = 'nextchar-list';
    this.list.setAttribute('aria-label', 'Likeliest next characters');
    root.replaceChildren(this.list);
  }

  /** Shows `probs` (V) over `vocab` (a string of V characters, in id order). */
  draw(probs, vocab) {
    const chars = [...vocab];
    const order = Array.from(probs.keys()).sort((a, b) => probs[b] - probs[a]).slice(0, this.top);
    const max = probs[order[0]] || 1;
    const items = order.map((id) => {
      const ch = chars[id] ?? '?';
      const p = probs[id];
      const li = document.createElement('li');
      const b = document.createElement('button');
      b.type = 'button';
      b.className = 'bar-row';
      b.setAttribute('aria-label', `${nameChar(ch)}: ${(p * 100).toFixed(1)} percent. Append it.`);
      b.innerHTML = `<span class="bar-char"></span><span class="bar-track"><span class="bar-fill"></span></span><span class="bar-pct"></span>`;
      b.querySelector('.bar-char').textContent = showChar(ch);
      b.querySelector('.bar-char').style.color = charColor(ch);
      const fill = b.querySelector('.bar-fill');
      fill.style.width = `${Math.max(0.5, (p / max) * 100)}%`;
      fill.style.background = charColor(ch);
      b.querySelector('.bar-pct').textContent = pct(p);
      b.addEventListener('click', () => this.onPick?.(ch));
      li.append(b);
      return li;
    });
    this.list.replaceChildren(...items);
    this.shown = order.map((id) => ({ ch: chars[id], p: probs[id] }));
  }

  /** Empties the list (no model, or nothing inspected yet). */
  clear(text = '') {
    const li = document.createElement('li');
    li.className = 'empty';
    li.textContent = text;
    this.list.replaceChildren(li);
  }
}

const pct = (p) => (p >= 0.995 ? '100%' : p >= 0.1 ? `${(p * 100).toFixed(0)}%` : p >= 0.001 ? `${(p * 100).toFixed(1)}%` : '<0.1%');
