// A text's vocabulary as chips (newline, tab and space made visible) and its 90/10
// train/validation split as a bar with the character counts.
import { showChar } from './chars.js';

/** Shows `stats` ({ chars, bytes, vocab, vocab_size, train_chars, val_chars }) in `container`. */
export function renderTextStats(container, stats, { note = '' } = {}) {
  const n = (x) => x.toLocaleString('en-US');
  const trainPct = (100 * stats.train_chars) / stats.chars;
  container.innerHTML = `
    <p class="text-facts"><span><b data-stat="chars">${n(stats.chars)}</b> characters</span>
      <span>${fmtBytes(stats.bytes)}</span>
      <span>vocabulary: <b data-stat="vocab-size">${n(stats.vocab_size)} characters</b></span></p>
    <div class="split" role="img" aria-label="Training split ${n(stats.train_chars)} characters, validation split ${n(stats.val_chars)} characters">
      <span class="split-train" style="width:${trainPct}%">train · ${n(stats.train_chars)}</span>
      <span class="split-val" style="width:${100 - trainPct}%">val · ${n(stats.val_chars)}</span>
    </div>
    <p class="explain split-note">The model trains on the first 90% and is scored on the last 10%, which it never trains on. ${note}</p>
    <div class="vocab" aria-label="The vocabulary, in token id order"></div>`;
  const box = container.querySelector('.vocab');
  const chars = [...stats.vocab];
  const shown = chars.slice(0, 400);
  for (const [i, ch] of shown.entries()) {
    const s = document.createElement('span');
    s.className = ch === '\n' || ch === ' ' || ch === '\t' ? 'chip ws' : 'chip';
    s.textContent = showChar(ch);
    s.title = `id ${i}: U+${ch.codePointAt(0).toString(16).toUpperCase().padStart(4, '0')}`;
    box.append(s);
  }
  if (chars.length > shown.length) box.append(`… and ${n(chars.length - shown.length)} more`);
}

export function fmtBytes(b) {
  return b >= 1e6 ? `${(b / 1e6).toFixed(1)} MB` : b >= 1e3 ? `${(b / 1e3).toFixed(1)} kB` : `${b} B`;
}
