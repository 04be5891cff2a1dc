// The playground (index.html): loads the shipped model in the worker, generates text, and shows
// the model's attention, positional encodings and embeddings. All model work happens in the worker
// (engine.js); this file wires controls to calls and results to widgets. The page state (prompt,
// sampling settings, selected layer/head, zoom, sinusoidal d and length) lives in the URL hash.
import { renderChrome, setBackend, showMessage, clearMessage, cpuPill, sentence, pastedInto } from './site.js';
import { Engine } from './engine.js';
import { readHash, writeHash } from './hashstate.js';
import { NextChar } from './widgets/nextchar.js';
import { AttentionView } from './widgets/attention.js';
import { PositionsView } from './widgets/positions.js';
import { EmbeddingScatter } from './widgets/scatter.js';
import { showChar, nameChar, charColor } from './widgets/chars.js';
import { addEmbedButton, attr } from './embed-dialog.js';

renderChrome('playground');

const MODEL_URL = new URL('models/shakespeare.safetensors', location.href).href;
// The attention views show at most this many characters (the newest): a model with a long
// context (nanoGPT's is 1024) would otherwise send L × NH × T × T floats, 150 MB for 6 × 6 heads.
const INSPECT_MAX = 256;

// ---- state -------------------------------------------------------------------------------------

const DEFAULTS = {
  prompt: 'ROMEO:\n', temp: 0.8, topk: 0, topp: 1, seed: 42, len: 300,
  layer: 0, head: 0, zoom: 0, stretch: true, d: 0, plen: 0, // d, plen 0: the model's C and block_size
  backend: 'auto', // auto | webgpu | cpu: where the attention maps' forward pass runs
  threads: 'auto', // auto | one: the threaded build's pool, or one thread (the same results)
};
const state = readHash(DEFAULTS);
addEmbedButton(() => `<glassgpt-attention${attr('prompt', $('prompt').value.slice(-200))}${attr('layer', state.layer ?? 0)}${attr('head', state.head ?? 0)}></glassgpt-attention>`, { flush: () => flushState() });

const $ = (id) => document.getElementById(id);
const el = {
  prompt: $('prompt'), temperature: $('temperature'), top_k: $('top_k'), top_p: $('top_p'), length: $('length'),
  seed: $('seed'), seedRoll: $('seed-roll'), form: $('gen-form'), generate: $('generate-btn'), stop: $('stop-btn'),
  textPrompt: $('text-prompt'), textGen: $('text-gen'), textout: $('textout'), stats: $('gen-stats'), note: $('gen-note'),
  layer: $('layer'), head: $('head'), zoom: $('zoom'), peD: $('pe-d'), peLen: $('pe-len'),
  embChar: $('emb-char'), neighbours: $('emb-neighbours'), variance: $('emb-variance'),
  file: $('ckpt-file'), fileStatus: $('ckpt-status'), backToDefault: $('ckpt-default'),
  status: $('model-status'), progress: $('load-progress'), facts: $('model-facts'), card: $('model-card'),
};

const nextChar = new NextChar($('nextchar'), { top: 10, onPick: (ch) => appendToPrompt(ch) });
const attention = new AttentionView({
  grid: $('att-grid'), large: $('att-large'), legend: $('att-legend'), readout: $('att-readout'),
  onSelect: (layer, head) => {
    Object.assign(state, { layer, head });
    el.layer.value = layer;
    el.head.value = head;
    saveState();
  },
});
const positions = new PositionsView({
  sinTable: $('pe-sin-table'), sinSim: $('pe-sin-sim'), sinLines: $('pe-sin-lines'),
  wpeTable: $('pe-wpe-table'), wpeSim: $('pe-wpe-sim'), wpeLines: $('pe-wpe-lines'),
});
const scatter = new EmbeddingScatter($('emb-scatter'), { onPick: (ch) => showNeighbours(ch) });

let engine = null;
let model = null; // { name, ...config } of the current model
let modelEpoch = 0; // bumped on each model switch, so late answers about the old one are dropped
let embeddings = null; // { wte (V, C), config }
let running = false; // a generation is in flight
let generated = '';

// The prompt box keeps at most this many characters, the last ones: the model reads only its
// last block_size (128 for the shipped model) and the attention views the last INSPECT_MAX. A
// megabyte pasted into the box held the page still for 42 s here (the box and the text view laid
// out, a 1.5 MB link written), and 3 MB closed the browser (with the link write off too).
const PROMPT_MAX = 10_000;
// The link carries at most this many of the prompt's last characters.
const LINK_PROMPT_MAX = 2_000;

/** Keeps the box's text to its last PROMPT_MAX characters; says so when it cut. */
function capPrompt(text, what) {
  if (text.length <= PROMPT_MAX) return text;
  el.note.hidden = false;
  el.note.className = 'note';
  el.note.textContent = `The prompt keeps the last ${PROMPT_MAX.toLocaleString('en-US')} of the ${text.length.toLocaleString('en-US')} characters ${what}: the model reads only its last ${model?.block_size ?? 128}.`;
  return text.slice(-PROMPT_MAX);
}

/** The state as the link holds it: the prompt's last LINK_PROMPT_MAX characters. */
const linkState = () => ({ ...state, prompt: state.prompt.slice(-LINK_PROMPT_MAX) });

/** Puts the page state in the URL (debounced: typing a prompt writes once per pause). */
let saveTimer = 0;
function saveState() {
  clearTimeout(saveTimer);
  saveTimer = setTimeout(flushState, 150);
}

/** Writes a waiting state now (before the page goes, or before the Embed dialog reads the link). */
function flushState() {
  if (!saveTimer) return; // nothing waits: the link is as the page last wrote or was given it
  clearTimeout(saveTimer);
  saveTimer = 0;
  writeHash(linkState());
}
window.addEventListener('pagehide', flushState);

// ---- controls ------------------------------------------------------------------------------------

function applyStateToControls() {
  el.prompt.value = state.prompt = capPrompt(state.prompt, 'in the link');
  el.temperature.value = state.temp;
  el.top_k.value = state.topk;
  el.top_p.value = state.topp;
  el.length.value = state.len;
  el.seed.value = state.seed;
  el.zoom.value = state.zoom || el.zoom.value;
  showOutputs();
}

function showOutputs() {
  $('temperature-out').textContent = Number(el.temperature.value).toFixed(2);
  $('top_k-out').textContent = Number(el.top_k.value) === 0 ? 'off' : el.top_k.value;
  $('top_p-out').textContent = Number(el.top_p.value) >= 1 ? 'off' : Number(el.top_p.value).toFixed(2);
  $('length-out').textContent = el.length.value;
}

function readControls() {
  state.temp = Number(el.temperature.value);
  state.topk = Number(el.top_k.value);
  state.topp = Number(el.top_p.value);
  state.len = Number(el.length.value);
  const seed = Number(el.seed.value);
  const okSeed = el.seed.value !== '' && Number.isInteger(seed) && seed >= 0 && seed <= Number.MAX_SAFE_INTEGER;
  el.seed.setAttribute('aria-invalid', String(!okSeed));
  if (okSeed) state.seed = seed;
  showOutputs();
  saveState();
  return okSeed;
}

for (const input of [el.temperature, el.top_k, el.top_p, el.length, el.seed]) input.addEventListener('input', readControls);
el.seedRoll.addEventListener('click', () => {
  el.seed.value = Math.floor(Math.random() * 2 ** 31);
  readControls();
});

// A paste or a drop that would make the prompt longer than PROMPT_MAX: its last characters go in.
const takeLongText = (e) => {
  const taken = el.prompt.readOnly ? null : pastedInto(el.prompt, e);
  if (!taken || taken.whole.length <= PROMPT_MAX) return; // the browser puts it in
  e.preventDefault();
  el.prompt.value = capPrompt(taken.whole, e.type === 'drop' ? 'dropped' : 'pasted');
  el.prompt.dispatchEvent(new Event('input'));
};
el.prompt.addEventListener('paste', takeLongText);
el.prompt.addEventListener('drop', takeLongText);

el.prompt.addEventListener('input', () => {
  state.prompt = el.prompt.value;
  saveState();
  if (!running) {
    generated = '';
    renderText();
    scheduleInspect();
  }
});
el.prompt.addEventListener('keydown', (e) => {
  if (e.key === 'Enter' && (e.ctrlKey || e.metaKey)) {
    e.preventDefault();
    el.form.requestSubmit();
  }
});
el.form.addEventListener('submit', (e) => {
  e.preventDefault();
  generate();
});
el.stop.addEventListener('click', () => engine?.call('stop'));
$('continue-btn').addEventListener('click', () => {
  el.prompt.value = capPrompt(el.prompt.value + generated, 'of the text so far');
  generated = '';
  el.prompt.dispatchEvent(new Event('input'));
  el.prompt.focus();
});

el.layer.addEventListener('change', () => selectHead(Number(el.layer.value), state.head));
el.head.addEventListener('change', () => selectHead(state.layer, Number(el.head.value)));
el.zoom.addEventListener('input', () => {
  state.zoom = Number(el.zoom.value);
  attention.setZoom(state.zoom);
  saveState();
});
$('att-stretch')?.addEventListener('change', (e) => {
  state.stretch = e.target.checked;
  attention.setStretch(state.stretch);
  saveState();
});
el.peD.addEventListener('change', () => { state.d = Number(el.peD.value); saveState(); drawSinusoidal(); });
el.peLen.addEventListener('change', () => { state.plen = Number(el.peLen.value); saveState(); drawSinusoidal(); });
el.embChar.addEventListener('change', () => showNeighbours(el.embChar.value));

/** The state's layer and head, kept within the model's, in the selects and the large view. */
function showHead() {
  state.layer = Math.max(0, Math.min(Math.trunc(state.layer) || 0, model.n_layer - 1));
  state.head = Math.max(0, Math.min(Math.trunc(state.head) || 0, model.n_head - 1));
  el.layer.value = state.layer;
  el.head.value = state.head;
  attention.select(state.layer, state.head);
}

/** The state's zoom (0: fit the width, else kept within the slider's range) and stretch, shown. */
function showZoom() {
  state.zoom = state.zoom ? Math.max(Number(el.zoom.min), Math.min(Number(el.zoom.max), Math.round(state.zoom))) : 0;
  attention.setZoom(state.zoom);
  if (state.zoom) el.zoom.value = state.zoom;
  else if (attention.data) el.zoom.value = attention.cellSize;
  attention.setStretch(state.stretch);
  const stretch = $('att-stretch');
  if (stretch) stretch.checked = state.stretch;
}

function selectHead(layer, head) {
  Object.assign(state, { layer, head });
  attention.select(layer, head);
  saveState();
}

function appendToPrompt(ch) {
  if (running) return;
  const base = el.prompt.value + generated;
  el.prompt.value = base + ch;
  el.prompt.dispatchEvent(new Event('input'));
}

// ---- text and generation -------------------------------------------------------------------------

let scrollFrame = 0; // a scroll of the text waiting for the next frame

function renderText() {
  el.textPrompt.textContent = el.prompt.value;
  el.textGen.textContent = generated;
  $('text-placeholder').hidden = generated !== '' || running;
  $('continue-btn').hidden = generated === '' || running;
  // Scrolled in the next frame, once per frame: reading scrollHeight right after the text
  // changed laid the page out again for every batch of streamed characters.
  scrollFrame ||= requestAnimationFrame(() => {
    scrollFrame = 0;
    el.textout.scrollTop = el.textout.scrollHeight;
  });
}

function setRunning(on) {
  running = on;
  el.generate.disabled = on || !model;
  el.stop.disabled = !on;
  el.prompt.readOnly = on; // the prompt the model is continuing stays what is shown
  el.textout.classList.toggle('running', on);
  $('text-placeholder').hidden = on || generated !== '';
  $('continue-btn').hidden = on || generated === '';
  document.body.dataset.generating = String(on);
}

async function generate() {
  if (running || !model) return;
  if (!readControls()) {
    el.note.hidden = false;
    el.note.className = 'note error';
    el.note.textContent = 'The seed must be a whole number from 0 to 9007199254740991 (2^53 − 1).';
    el.seed.focus();
    return;
  }
  const epoch = modelEpoch;
  generated = '';
  renderText();
  el.note.hidden = true;
  setRunning(true);
  el.stats.textContent = 'starting…';
  const off = engine.on('token', ({ text, total, tokensPerSec }) => {
    if (epoch !== modelEpoch) return;
    generated += text;
    renderText();
    if (!performance.getEntriesByName('glassgpt:first-char').length) performance.mark('glassgpt:first-char'); // the page's first
    el.stats.textContent = `${total} chars · ${tokensPerSec.toFixed(0)} chars/s`;
    scheduleInspect(250);
  });
  try {
    const r = await engine.call('generate', {
      prompt: el.prompt.value, temperature: state.temp, top_k: state.topk, top_p: state.topp, seed: state.seed, length: state.len,
    });
    if (epoch !== modelEpoch) return;
    generated = r.text;
    renderText();
    el.stats.textContent = `${r.text.length} chars in ${r.seconds.toFixed(2)} s · ${r.tokensPerSec.toFixed(0)} chars/s · seed ${r.report.seed}${r.stopped ? ' · stopped' : ''}`;
    el.textout.dataset.done = String(Number(el.textout.dataset.done ?? 0) + 1);
    noteReport(r.report);
  } catch (e) {
    el.stats.textContent = '';
    el.note.hidden = false;
    el.note.className = 'note error';
    el.note.textContent = `Could not generate: ${e.message}`;
  } finally {
    off();
    setRunning(false);
    scheduleInspect(0);
  }
}

/** Says what the model did to the prompt: characters it does not know, text beyond its context. */
function noteReport(report) {
  const parts = [];
  if (report.replaced.length) {
    const list = [...new Set(report.replaced.map((r) => showChar(r.ch)))].slice(0, 8).join(' ');
    parts.push(`${report.replaced.length} character${report.replaced.length > 1 ? 's' : ''} the model does not know (${list}) became ${nameChar(report.replacement)}.`);
  }
  if (report.cropped) parts.push(`The prompt is longer than the model's context: it saw only its last ${report.t} characters.`);
  el.note.hidden = parts.length === 0;
  el.note.className = 'note';
  el.note.textContent = parts.join(' ');
}

// ---- inspection: attention and the next-character distribution ----------------------------------

let inspectTimer = 0;
let inspecting = false;
let inspectAgain = false;
let lastInspect = 0;

/** Re-inspects the current text soon: at most one call in flight, at most one per `gap` ms. */
function scheduleInspect(gap = 120) {
  if (!model) return;
  if (inspecting) {
    inspectAgain = true;
    return;
  }
  clearTimeout(inspectTimer);
  const wait = Math.max(0, lastInspect + gap - performance.now());
  inspectTimer = setTimeout(inspectNow, wait);
}

async function inspectNow() {
  if (!model) return;
  inspecting = true;
  inspectAgain = false;
  lastInspect = performance.now();
  const epoch = modelEpoch;
  try {
    const r = await engine.call('inspect', { text: Array.from(el.prompt.value + generated).slice(-INSPECT_MAX).join('') });
    if (epoch !== modelEpoch) return;
    const chars = [...r.report.text];
    const T = chars.length;
    const ms = attention.setData({ attention: r.attention, nLayer: model.n_layer, nHead: model.n_head, T, chars });
    recordRedraw(ms, T);
    if (!state.zoom) el.zoom.value = attention.cellSize;
    nextChar.draw(r.probs, model.vocab);
    $('attention').dataset.backend = r.backend;
    document.body.dataset.inspected = String(Number(document.body.dataset.inspected ?? 0) + 1);
  } catch (e) {
    showMessage(`Could not inspect the text: ${e.message}`);
  } finally {
    inspecting = false;
    if (inspectAgain) scheduleInspect(running ? 250 : 0);
  }
}

function recordRedraw(ms, T) {
  const sec = $('attention');
  sec.dataset.redrawMs = ms.toFixed(2);
  sec.dataset.redrawT = T;
  const f = document.querySelector('[data-fact="redraw"]');
  if (f) f.textContent = `${ms.toFixed(1)} ms for ${model.n_layer * model.n_head + 1} maps of ${T}×${T}`;
}

// ---- positions and embeddings: the views below the fold -----------------------------------------
// The positional encodings and the embeddings sit screens below the first one. They are drawn
// when either comes within a screen of the viewport, and again for a new model, not while the
// page loads: drawing them took ~150 ms of the main thread between the model loading and the
// page being ready (2 cores, Chromium), in front of the first generated character. Each section
// says `data-drawn="true"` once it shows the current model; a draw that fails is tried again the
// next time a section comes near. (In a cross-origin iframe the browser ignores the margin: they
// are drawn once visible.)
const POSITIONS = $('positions'), EMBEDDINGS = $('embeddings'), LOWER = [POSITIONS, EMBEDDINGS];
const near = new Set(); // the lower sections now within a screen of the viewport
let lowerEpoch = -1; // the model (modelEpoch) the lower views were last asked to draw
let lowerDrawing = Promise.resolve();

/** Draws the lower views for the current model, unless that is done or under way. */
function drawLower() {
  if (!model || lowerEpoch === modelEpoch) return lowerDrawing;
  const epoch = (lowerEpoch = modelEpoch);
  const embedded = drawEmbeddings().then(() => true, (e) => {
    if (epoch === modelEpoch) showMessage(`Could not draw the embeddings: ${e.message}`);
    return false;
  });
  lowerDrawing = Promise.all([embedded, drawSinusoidal()]).then(([emb, sin]) => {
    if (epoch !== modelEpoch) return;
    // The positions view shows the model's wpe (from the embeddings call) beside the sinusoids.
    if (emb) EMBEDDINGS.dataset.drawn = 'true';
    if (emb && sin) POSITIONS.dataset.drawn = 'true';
    if (!(emb && sin)) lowerEpoch = -1;
  });
  return lowerDrawing;
}

const lowerObserver = new IntersectionObserver((entries) => {
  for (const e of entries) {
    if (e.isIntersecting) near.add(e.target);
    else near.delete(e.target);
  }
  if (near.size) drawLower();
}, { rootMargin: '100% 0px' });
for (const sec of LOWER) lowerObserver.observe(sec);

/** Draws the sinusoidal table for the chosen size; false (and a message) if it could not. */
async function drawSinusoidal() {
  if (!model) return false;
  const d = state.d || model.n_embd;
  const length = state.plen || model.block_size;
  try {
    const r = await engine.call('sinusoidal', { length, d });
    positions.setSinusoidal(r);
    return true;
  } catch (e) {
    showMessage(`Could not compute the sinusoidal table: ${e.message}`);
    return false;
  }
}

function fillPositionControls() {
  // A hand-edited link may ask for a table the core refuses: fall back to the model's own size.
  if (!(Number.isInteger(state.d) && state.d >= 2 && state.d <= 4096 && state.d % 2 === 0)) state.d = 0;
  if (!(Number.isInteger(state.plen) && state.plen >= 1 && state.plen <= 8192)) state.plen = 0;
  const fill = (select, values, current) => {
    select.replaceChildren(...[...new Set(values)].sort((a, b) => a - b).map((v) => new Option(String(v), String(v))));
    select.value = String(current);
  };
  const d = state.d || model.n_embd;
  const len = state.plen || model.block_size;
  fill(el.peD, [16, 32, 64, 128, 256, 512, model.n_embd, d], d);
  fill(el.peLen, [32, 64, 128, 256, 512, model.block_size, len], len);
}

/** Lets the page handle input and paint before the next figure (each is tens of ms here). */
const nextTask = () => globalThis.scheduler?.yield?.() ?? new Promise((resolve) => setTimeout(resolve, 0));

async function drawEmbeddings() {
  const epoch = modelEpoch;
  const r = await engine.call('embeddings');
  if (epoch !== modelEpoch) return;
  const C = r.config.n_embd, T = r.config.block_size, V = r.config.vocab_size;
  embeddings = { wte: r.wte, V, C, vocab: [...r.config.vocab] };
  positions.setLearned({ wpe: r.wpe, similarity: r.similarity, T, C });
  await nextTask();
  if (epoch !== modelEpoch) return;
  scatter.draw(r.pca, r.config.vocab);
  const [v1, v2] = r.variance.variance;
  const total = r.variance.total_variance || 1;
  el.variance.textContent = `The two directions shown hold ${((v1 / total) * 100).toFixed(0)}% and ${((v2 / total) * 100).toFixed(0)}% of the embeddings' variance; the other ${C - 2} dimensions hold the rest.`;
  const chars = embeddings.vocab;
  el.embChar.replaceChildren(...chars.map((ch) => new Option(`${showChar(ch)}  ${ch === ' ' || ch === '\n' ? `(${nameChar(ch)})` : ''}`, ch)));
  showNeighbours(chars.includes('e') ? 'e' : chars[0]);
}

/** Lists the characters whose embeddings point most nearly the same way as `ch`'s (cosine). */
function showNeighbours(ch) {
  if (!embeddings) return;
  const { wte, V, C, vocab } = embeddings;
  const i = vocab.indexOf(ch);
  if (i < 0) return;
  el.embChar.value = ch;
  scatter.mark(ch);
  const norm = (r) => Math.hypot(...wte.subarray(r * C, (r + 1) * C)) || 1;
  const ni = norm(i);
  const sims = [];
  for (let j = 0; j < V; j++) {
    if (j === i) continue;
    let dot = 0;
    for (let k = 0; k < C; k++) dot += wte[i * C + k] * wte[j * C + k];
    sims.push([j, dot / (ni * norm(j))]);
  }
  sims.sort((a, b) => b[1] - a[1]);
  el.neighbours.replaceChildren(...sims.slice(0, 8).map(([j, s]) => {
    const li = document.createElement('li');
    const c = document.createElement('span');
    c.className = 'nb-char';
    c.textContent = showChar(vocab[j]);
    c.style.color = charColor(vocab[j]);
    const v = document.createElement('span');
    v.className = 'nb-sim';
    v.textContent = s.toFixed(2);
    li.append(c, v);
    li.title = `${nameChar(vocab[j])}: cosine similarity ${s.toFixed(3)}`;
    return li;
  }));
}

// ---- models ---------------------------------------------------------------------------------------

/**
 * Makes `info` (what loadModel answered) the page's model and redraws the views on or near the
 * screen for it (the others when they come near: drawLower).
 */
async function useModel(info) {
  modelEpoch++;
  model = info;
  embeddings = null;
  for (const [k, v] of Object.entries(info)) {
    for (const dd of document.querySelectorAll(`[data-cfg="${k}"]`)) dd.textContent = k === 'num_parameters' ? fmtCount(v) : String(v);
  }
  el.facts.hidden = false;
  el.progress.hidden = true;
  el.status.replaceChildren(Object.assign(document.createElement('strong'), { textContent: info.name }), ' is loaded');
  el.card.dataset.state = 'ready';
  if (info.backend) showBackend(info.backend);
  // Top-k up to the vocabulary: the browser clamps the slider to its new max; the state and the
  // label follow (a link's topk=9999 reads as the vocabulary's size, and is sent as that).
  el.top_k.max = info.vocab_size;
  if (state.topk !== Number(el.top_k.value)) {
    state.topk = Number(el.top_k.value);
    saveState();
  }
  showOutputs();
  const opts = (n, label) => Array.from({ length: n }, (_, i) => new Option(`${label} ${i}`, String(i)));
  el.layer.replaceChildren(...opts(info.n_layer, 'layer'));
  el.head.replaceChildren(...opts(info.n_head, 'head'));
  showHead();
  fillPositionControls();
  $('wpe-h').innerHTML = info.pos_encoding === 'sinusoidal'
    ? 'This model’s <code>wpe</code> (sinusoidal, not learned)'
    : 'Learned <code>wpe</code> (this model)';
  setRunning(false);
  for (const sec of LOWER) delete sec.dataset.drawn;
  await Promise.all([inspectNow(), near.size ? drawLower() : null]);
  performance.mark('glassgpt:model-ready'); // every view in or near the viewport drawn
  document.body.dataset.model = 'ready';
  document.body.dataset.modelName = info.name;
}

async function loadShipped() {
  el.progress.hidden = false;
  el.progress.value = 0;
  el.card.dataset.state = 'loading';
  const off = engine.on('loadProgress', ({ loaded, total }) => {
    if (total) el.progress.value = loaded / total;
    el.status.textContent = `Loading the model: ${fmtBytes(loaded)}${total ? ` of ${fmtBytes(total)}` : ''}`;
  });
  try {
    const info = await engine.call('loadModel', { url: MODEL_URL });
    performance.mark('glassgpt:model-loaded'); // fetched and parsed in the worker
    await useModel(info);
  } finally {
    off();
  }
}

el.file.addEventListener('change', async () => {
  await loadOwnCheckpoint(el.file.files?.[0]);
  el.file.value = '';
});

// A file dropped anywhere on the page is a checkpoint to load: the browser's own answer to a drop
// is to leave the page for the file. (Text dropped into the prompt goes in as usual.)
document.addEventListener('dragover', (e) => {
  if (e.dataTransfer?.types.includes('Files')) e.preventDefault();
});
document.addEventListener('drop', async (e) => {
  const file = e.dataTransfer?.files?.[0];
  if (!file) return;
  e.preventDefault();
  if (!engine) showMessage(`The page is still starting, so ${file.name} was not opened: drop it again once the model has loaded.`, 'warn');
  else if (!(await loadOwnCheckpoint(file))) showMessage(el.fileStatus.textContent);
});

/** Loads a checkpoint the reader chose or dropped; false (and why, beside the file input) if it could not. */
async function loadOwnCheckpoint(file) {
  if (!file || !engine) return false;
  if (running) await engine.call('stop');
  el.fileStatus.className = 'own-status';
  el.fileStatus.textContent = `Reading ${file.name}…`;
  try {
    const bytes = await file.arrayBuffer();
    const info = await engine.call('loadModelBytes', { bytes, name: file.name }, [bytes]);
    generated = '';
    renderText();
    await useModel(info);
    el.fileStatus.textContent = `Loaded ${file.name}: ${info.n_layer} layers, ${info.n_head} heads, C = ${info.n_embd}, context ${info.block_size}, ${info.vocab_size} characters.`;
    el.backToDefault.hidden = false;
    return true;
  } catch (e) {
    el.fileStatus.className = 'own-status error';
    el.fileStatus.setAttribute('role', 'alert');
    el.fileStatus.textContent = `Could not load ${file.name}: ${e.message}. ${model ? `The current model (${model.name}) is still loaded.` : ''}`;
    return false;
  }
}

el.backToDefault.addEventListener('click', async () => {
  if (running) await engine.call('stop');
  el.fileStatus.className = 'own-status';
  el.fileStatus.textContent = '';
  generated = '';
  renderText();
  try {
    await loadShipped();
    el.backToDefault.hidden = true;
  } catch (e) {
    el.fileStatus.className = 'own-status error';
    el.fileStatus.textContent = `Could not load the Shakespeare model: ${e.message}`;
  }
});

// ---- start ----------------------------------------------------------------------------------------

const fmtBytes = (n) => (n >= 1 << 20 ? `${(n / (1 << 20)).toFixed(1)} MB` : `${Math.round(n / 1024)} KB`);
const fmtCount = (n) => (n >= 1e6 ? `${(n / 1e6).toFixed(2)} M` : n >= 1e3 ? `${(n / 1e3).toFixed(1)} k` : String(n));

function fact(name, text, cls) {
  const f = document.querySelector(`[data-fact="${name}"]`);
  f.textContent = text;
  if (cls) f.className = cls;
}

/** The backend pill and facts: which backend computes the maps and which generates, and why. */
function showBackend(b) {
  const threaded = engine.info.build === 'threads';
  // Why a threaded build runs on one thread: the reader's choice, or its pool (starting, late, failed).
  const why = b.oneThread ? ' (chosen)' : !threaded ? '' : b.pool === 'starting' ? ' (pool starting)' : b.pool === 'up' ? '' : ' (no pool)';
  const cpu = cpuPill({ pooled: b.generate === 'threads', threads: b.threads, why, relaxed: engine.info.relaxed });
  const note = threaded ? b.poolNote : engine.info.note;
  fact('threads', String(b.pool === 'up' ? b.threads : 1)); // what the model can run on now
  $('core-note').textContent = note;
  setBackend(b.forward === 'webgpu' ? `WebGPU + ${cpu}` : cpu, 'ready', [note, b.note].filter(Boolean).join('; '));
  fact('forward', b.forward === 'webgpu' ? `WebGPU (${b.adapter})` : `CPU, ${cpu}`);
  fact('generate', `CPU, ${cpu}`);
  $('gpu-note').textContent = b.forward === 'webgpu'
    ? 'The full-sequence forward pass behind the attention maps and the next-character bars runs on the GPU, with the weights resident there; generation stays on the CPU, where the KV cache makes each character a few microseconds.'
    : b.note ? `WebGPU is not in use: ${b.note}.` : '';
  const sel = $('backend-select');
  if (sel && b.wanted) sel.value = b.wanted;
  // One thread is the only choice in the single-thread build (a page that is not cross-origin
  // isolated) and where the threaded build's pool failed to start.
  const pooled = threaded && b.pool !== 'failed';
  const threadsSel = $('threads-select');
  threadsSel.value = b.oneThread || !pooled ? 'one' : 'auto';
  threadsSel.disabled = !pooled;
  threadsSel.title = !threaded ? 'This page is not cross-origin isolated, so its build has no thread pool: one thread.'
    : !pooled ? `The ${b.poolNote}.` : '';
  document.body.dataset.backend = b.forward;
}

/** A thread pool given up on is a warning; one that comes up after all takes its warning away. */
let poolWarning = ''; // the banner's text while it is the pool's
function warnOfPool(b) {
  if (b.pool === 'failed' || b.pool === 'late') {
    poolWarning = sentence(b.poolNote);
    showMessage(poolWarning, 'warn');
  } else if (b.pool === 'up' && poolWarning) {
    if (document.getElementById('banner')?.textContent.includes(poolWarning)) clearMessage();
    poolWarning = '';
  }
}

async function coreFacts() {
  const { version, build } = engine.info;
  fact('version', version);
  fact('build', `${build} (kernel: ${engine.info.isa})`);
  fact('coi', String(globalThis.crossOriginIsolated === true));
  const b = await engine.call('backend');
  showBackend(b);
  warnOfPool(b); // the pool may have failed before this page listened to the worker (boot.js)
  const mm = await engine.call('matmulCheck', { m: 7, k: 13, n: 5 });
  fact('mm-shape', `(${mm.m}, ${mm.k}) · (${mm.n}, ${mm.k})ᵀ`);
  fact('mm-diff', mm.maxDiff.toExponential(2));
  const ok = mm.maxDiff < 1e-5;
  fact('mm-verdict', ok ? 'agrees' : 'DISAGREES', ok ? 'ok' : 'fail');
  document.body.dataset.ready = 'true';
}

applyStateToControls();
renderText();
setRunning(false);
showZoom();
// A link to another view followed on this page, or the hash edited in the address bar (the page's
// own writes use replaceState, which fires no hashchange): show the view it names. A section
// anchor (#attention) names none of the state's keys and leaves the view as it is.
window.addEventListener('hashchange', () => {
  const keys = new URLSearchParams(location.hash.slice(1));
  if (!Object.keys(DEFAULTS).some((k) => keys.has(k))) return;
  const was = { ...state };
  Object.assign(state, readHash(DEFAULTS));
  if (running) state.prompt = was.prompt; // the prompt being continued stays what is shown
  applyStateToControls();
  state.topk = Number(el.top_k.value); // the range input clamps to the vocabulary
  showZoom();
  if (model) {
    showHead();
    if (state.d !== was.d || state.plen !== was.plen) {
      fillPositionControls();
      drawSinusoidal();
    }
  }
  // Where the model runs: the selects' own handlers ask the worker (once the engine is up).
  for (const [key, id] of [['backend', 'backend-select'], ['threads', 'threads-select']]) {
    const select = $(id);
    if (state[key] === was[key] || !select || select.disabled) continue;
    if (![...select.options].some((o) => o.value === state[key])) {
      state[key] = was[key];
      continue;
    }
    select.value = state[key];
    select.dispatchEvent(new Event('change'));
  }
  if (state.prompt !== was.prompt) {
    generated = '';
    renderText();
    scheduleInspect(0);
  }
  writeHash(linkState());
});

// For the browser console and the end-to-end tests.
globalThis.glassgpt = { attention, positions, scatter, nextChar, get engine() { return engine; } };

try {
  // js/boot.js started the worker with the same choice (the hash's backend) before this module loaded.
  engine = await (globalThis.glassgptBootWorker ? Engine.adopt(globalThis.glassgptBootWorker) : Engine.start({ gpu: state.backend, prefetch: MODEL_URL }));
  performance.mark('glassgpt:engine'); // the worker and its wasm build are up
  // Its matmul self-check runs in the worker while the model loads, not before; if it cannot
  // run, the page says so and keeps the model.
  const facts = coreFacts().catch((e) => {
    fact('mm-verdict', 'could not run', 'fail');
    showMessage(`The core's matmul self-check could not run: ${e.message}`);
  });
  engine.on('error', ({ message }) => showMessage(message));
  // The worker's news: the GPU failed and the model is back on the CPU (why 'gpu'), or the thread
  // pool came up or was given up on (why 'pool'). Only a loss is a warning; the pill says the rest.
  engine.on('backend', (b) => {
    showBackend(b);
    if (b.why === 'gpu') {
      if (b.note) showMessage(sentence(b.note), 'warn');
      scheduleInspect(0); // the maps now come from the CPU
    } else warnOfPool(b); // the pool's kernels give the same results: nothing to recompute
  });
  // The reader's CPU choice from the hash (the pool stays up: "auto" takes it back at once).
  if (state.threads === 'one' && engine.info.build === 'threads') showBackend(await engine.call('setThreads', { on: false }));
  $('threads-select').addEventListener('change', async (e) => {
    state.threads = e.target.value;
    writeHash(linkState());
    showBackend(await engine.call('setThreads', { on: state.threads !== 'one' }));
    scheduleInspect(0);
  });
  $('backend-select').addEventListener('change', async (e) => {
    state.backend = e.target.value;
    writeHash(linkState());
    showBackend(await engine.call('setBackend', { want: state.backend }));
    scheduleInspect(0);
  });
  try {
    await loadShipped();
  } catch (e) {
    el.card.dataset.state = 'error';
    el.progress.hidden = true;
    el.status.textContent = `The Shakespeare model could not be loaded (${e.message}). You can load your own checkpoint below.`;
    document.body.dataset.model = 'error';
  }
  await facts;
} catch (e) {
  setBackend('no core', 'error');
  showMessage(e.message);
  el.status.textContent = 'The model cannot run without the core.';
  el.card.dataset.state = 'error';
}
