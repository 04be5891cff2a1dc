// Page state in the URL hash (`#prompt=ROMEO%3A&temp=0.8&layer=1`), so any view is a link.
// Each page declares its keys with defaults; the defaults' types say how to parse the values.
// Unknown keys (such as `embed`) are kept as they are.

/** Reads the hash into an object shaped like `defaults`; a missing or unreadable value keeps its default. */
export function readHash(defaults) {
  const params = new URLSearchParams(location.hash.slice(1));
  const state = { ...defaults };
  for (const [key, def] of Object.entries(defaults)) {
    if (!params.has(key)) continue;
    const raw = params.get(key);
    if (typeof def === 'number') {
      const v = Number(raw);
      if (raw !== '' && Number.isFinite(v)) state[key] = v;
    } else if (typeof def === 'boolean') {
      state[key] = raw === '1' || raw === 'true';
    } else {
      state[key] = raw;
    }
  }
  return state;
}

/** Writes `state` into the hash without adding a history entry. */
export function writeHash(state) {
  const params = new URLSearchParams(location.hash.slice(1));
  for (const [key, v] of Object.entries(state)) {
    params.set(key, typeof v === 'boolean' ? (v ? '1' : '0') : String(v));
  }
  // URLSearchParams writes spaces as '+'; %20 reads the same and is clearer in a shared link.
  // A bare flag (`#embed`) stays bare.
  const hash = `#${params.toString().replace(/\+/g, '%20').replace(/(^|&)([^=&]+)=(?=&|$)/g, '$1$2')}`;
  if (hash !== location.hash) history.replaceState(null, '', hash);
}
