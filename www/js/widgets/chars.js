// How a character is shown in labels: whitespace and control characters get visible stand-ins,
// and each character gets a class (vowel, consonant, capital, digit, punctuation, space) that the
// views colour consistently.

const SHOWN = { ' ': '␣', '\n': '↵', '\t': '⇥', '\r': '␍' };

/** A visible label for one character: ␣ for a space, ↵ for a newline, ... */
export function showChar(ch) {
  if (SHOWN[ch]) return SHOWN[ch];
  const code = ch.codePointAt(0);
  if (code < 32 || code === 127) return `\\x${code.toString(16).padStart(2, '0')}`;
  return ch;
}

/** A description of one character for screen readers and readouts: "space", "newline", "'e'". */
export function nameChar(ch) {
  if (ch === ' ') return 'space';
  if (ch === '\n') return 'newline';
  if (ch === '\t') return 'tab';
  return `‘${showChar(ch)}’`;
}

/** The classes, in legend order, with their colours. */
export const CHAR_CLASSES = [
  { id: 'vowel', label: 'vowels', color: '#d1495b' },
  { id: 'consonant', label: 'consonants', color: '#2a6fdb' },
  { id: 'capital', label: 'capitals', color: '#7b3fb5' },
  { id: 'digit', label: 'digits', color: '#b7791f' },
  { id: 'punct', label: 'punctuation', color: '#1f8a4c' },
  { id: 'space', label: 'space & newline', color: '#5b6475' },
];

const COLOR = Object.fromEntries(CHAR_CLASSES.map((c) => [c.id, c.color]));

/** The class of one character. */
export function charClass(ch) {
  const base = ch.normalize('NFD')[0] ?? ch; // é -> e
  if (/^[aeiou]$/.test(base)) return 'vowel';
  if (/^\p{Lu}$/u.test(ch)) return 'capital';
  if (/^\p{L}$/u.test(ch)) return 'consonant';
  if (/^\p{N}$/u.test(ch)) return 'digit';
  if (/^\s$/u.test(ch)) return 'space';
  return 'punct';
}

/** The colour of one character's class. */
export function charColor(ch) {
  return COLOR[charClass(ch)];
}
