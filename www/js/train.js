// The Train page: a text, a config, and a live view of a GPT learning it. The model lives in
// the worker (train-worker.js); this file reads the form, keeps the config in the URL hash,
// and draws what the worker reports. Every check of the config is the core's (trainPlan names
// the bad field); the page only turns "n_head: ..." into a message beside that field.
import { renderChrome, setBackend, showMessage, clearMessage, cpuPill, sentence, pastedInto } from './site.js';
import { Engine } from './engine.js';
import { LossChart } from './widgets/loss-chart.js';
import { PRESETS } from './train-presets.js';
import { AttentionGrid } from './widgets/attention-grid.js';
import { NextChars } from './widgets/next-chars.js';
import { renderTextStats, fmtBytes } from './widgets/vocab-view.js';
import { FlopsScale } from './widgets/flops-scale.js';
import { Heatmap, legend } from './widgets/heatmap.js';
import { showChar } from './widgets/chars.js';

renderChrome('train');

/** Where the calculator page looks for the model trained here. */
const TRAINED_KEY = 'glassgpt.trainedModel';
const CORPUS_URL = new URL('data/shakespeare.txt', location.href).href;

const PRESET_NOTES = {
  tiny: 'Two layers of 64 channels reading 32 characters, at a high learning rate: on Shakespeare its validation loss passes 2.0 after about 700 steps (0.7M characters), a minute or so on one core.',
  small: 'The shape of the playground’s model (4 layers, 4 heads, 128 channels, 128 characters): minutes to tens of minutes here.',
  custom: 'Your own shape and schedule.',
};

const FIELDS = [
  { key: 'n_layer', group: 'model', label: 'Layers', sym: 'n_layer', kind: 'int' },
  { key: 'n_head', group: 'model', label: 'Heads', sym: 'n_head', kind: 'int' },
  { key: 'n_embd', group: 'model', label: 'Width', sym: 'n_embd', kind: 'int' },
  { key: 'block_size', group: 'model', label: 'Context', sym: 'block_size', kind: 'int' },
  {
    key: 'pos_encoding', group: 'model', label: 'Positions', kind: 'select', wide: true,
    options: [['learned', 'learned: wpe is trained'], ['sinusoidal', 'sinusoidal: the fixed sin/cos table']],
  },
  { key: 'batch_size', group: 'train', label: 'Batch', sym: 'batch_size', kind: 'int' },
  { key: 'steps', group: 'train', label: 'Steps', kind: 'int' },
  { key: 'lr', group: 'train', label: 'Learning rate', sym: 'lr', kind: 'float' },
  { key: 'min_lr', group: 'train', label: 'Final rate', sym: 'min_lr', kind: 'float' },
  { key: 'warmup_steps', group: 'train', label: 'Warmup steps', kind: 'int' },
  {
    key: 'schedule', group: 'train', label: 'After warmup', kind: 'select',
    options: [['cosine', 'cosine decay'], ['constant', 'constant']],
  },
  { key: 'seed', group: 'train', label: 'Seed', kind: 'int', wide: true },
  { key: 'evalEvery', group: 'live', label: 'Evaluate every … steps', kind: 'int', live: true },
  { key: 'evalIters', group: 'live', label: 'Evaluation batches', kind: 'int', live: true },
  { key: 'sampleEvery', group: 'live', label: 'Sample every … steps', kind: 'int', live: true },
  { key: 'snapshotEvery', group: 'live', label: 'Attention every … steps', kind: 'int', live: true },
  { key: 'sampleLength', group: 'live', label: 'Sample length', kind: 'int', live: true },
  { key: 'temperature', group: 'live', label: 'Sample temperature', kind: 'float', live: true },
];
const MODEL_KEYS = ['n_layer', 'n_head', 'n_embd', 'block_size', 'pos_encoding'];

const $ = (sel, root = document) => root.querySelector(sel);
const inputOf = (key) => document.getElementById(`f-${key}`);

// ---- page state ----------------------------------------------------------------------------

const ui = {
  engine: null,
  limits: null, // trainLimits(): max_text_bytes, defaults, live defaults, kernels
  base: 'tiny', // the preset the fields start from
  source: 'corpus',
  heldPaste: null, // a paste too long for the box (see PASTE_IN_BOX), else null
  textOk: false,
  stats: null, // textStats of the worker's text
  plan: null,
  formOk: false,
  state: 'idle', // idle | running | paused | done | error
  run: null, // trainStart's info
  trainBackend: null, // the run's last 'trainBackend' report
  checkpoint: null, // a loaded checkpoint's info
  lastStep: 0,
  lastEval: null,
  emaLoss: null,
  hiddenPause: false,
};

// ---- the form ------------------------------------------------------------------------------

function fieldHtml(f) {
  const id = `f-${f.key}`;
  const sym = f.sym ? ` <code>${f.sym}</code>` : '';
  const control = f.kind === 'select'
    ? `<select id="${id}" aria-describedby="err-${f.key}">${f.options.map(([v, l]) => `<option value="${v}">${l}</option>`).join('')}</select>`
    : `<input type="text" inputmode="${f.kind === 'int' ? 'numeric' : 'decimal'}" autocomplete="off" spellcheck="false" id="${id}" aria-describedby="err-${f.key}">`;
  return `<div class="field${f.wide ? ' wide' : ''}"><label for="${id}">${f.label}${sym}</label>${control}
    <p class="field-error" id="err-${f.key}" aria-live="polite"></p></div>`;
}

function buildForm() {
  for (const group of ['model', 'train', 'live']) {
    $(`#group-${group} .field-row`).innerHTML = FIELDS.filter((f) => f.group === group).map(fieldHtml).join('');
  }
}

const defaultsOf = (base) => ({ ...PRESETS[base], ...ui.limits.live });

function fillFields(values) {
  for (const f of FIELDS) {
    if (values[f.key] === undefined) continue;
    inputOf(f.key).value = String(values[f.key]);
  }
}

/** The form's values: { options, live, errors: Map(key → message) }. */
function readForm() {
  const options = {}, live = {}, errors = new Map();
  for (const f of FIELDS) {
    const text = inputOf(f.key).value.trim();
    let v = text;
    if (f.kind !== 'select') {
      v = Number(text.replace(/[,_\s]/g, ''));
      if (text === '') errors.set(f.key, 'enter a number');
      else if (!Number.isFinite(v)) errors.set(f.key, `“${text}” is not a number`);
      else if (f.kind === 'int' && (!Number.isInteger(v) || v < 0)) errors.set(f.key, `${text} must be a whole number, 0 or more`);
    }
    (f.live ? live : options)[f.key] = v;
  }
  for (const k of ['evalEvery', 'evalIters', 'sampleEvery', 'snapshotEvery']) {
    if (!errors.has(k) && live[k] < 1) errors.set(k, 'must be at least 1');
  }
  // What the core takes (trainLimits), said here before Start rather than after it.
  const most = { evalIters: ui.limits?.max_eval_iters, sampleLength: ui.limits?.max_sample_length };
  for (const [k, max] of Object.entries(most)) {
    if (!errors.has(k) && max && live[k] > max) errors.set(k, `at most ${max.toLocaleString('en-US')}`);
  }
  if (!errors.has('temperature') && live.temperature < 0) errors.set('temperature', 'must be 0 (greedy) or more');
  return { options, live, errors };
}

function showFieldErrors(errors) {
  for (const f of FIELDS) {
    const msg = errors.get(f.key) ?? '';
    $(`#err-${f.key}`).textContent = msg;
    if (msg) inputOf(f.key).setAttribute('aria-invalid', 'true');
    else inputOf(f.key).removeAttribute('aria-invalid');
  }
}

/** Splits the core's "n_head: message" into the field and the message. */
function splitError(e) {
  const msg = String(e?.message ?? e);
  const m = /^([a-z_.]+): (.*)$/s.exec(msg);
  return m ? { field: m[1].replace(/^options\./, ''), message: m[2] } : { field: '', message: msg };
}

/** Reads the form, asks the core for the plan, shows errors beside their fields. */
async function checkForm() {
  const { options, live, errors } = readForm();
  let plan = null;
  if (![...errors.keys()].some((k) => !FIELDS.find((f) => f.key === k).live)) {
    try {
      plan = await ui.engine.call('trainPlan', { options, vocabSize: ui.checkpoint?.vocab_size ?? ui.stats?.vocab_size });
    } catch (e) {
      const { field, message } = splitError(e);
      if (FIELDS.some((f) => f.key === field)) errors.set(field, message);
      else errors.set('', String(e.message ?? e)); // not one field's: shown in the plan's place
    }
  }
  showFieldErrors(errors);
  ui.planError = errors.get('') ?? '';
  ui.formOk = errors.size === 0;
  ui.plan = plan;
  ui.options = options;
  ui.live = live;
  renderPlan();
  writeHash();
  updateButtons();
  if (ui.formOk && ui.state !== 'idle') ui.engine.call('trainLive', { live: liveForWorker() });
  return ui.formOk;
}

function liveForWorker() {
  return { ...ui.live, probe: $('#probe').value };
}

/** The preset the fields match exactly, or 'custom'. */
function matchingPreset() {
  const { options } = readForm();
  for (const [name, p] of Object.entries(PRESETS)) {
    if (Object.keys(p).every((k) => String(p[k]) === String(options[k]))) return name;
  }
  return 'custom';
}

function renderPlan() {
  const el = $('#plan');
  const p = ui.plan;
  if (!p) {
    el.innerHTML = '<p class="field-error"></p><p class="explain">Fix the fields marked above to see what this run amounts to.</p>';
    el.firstChild.textContent = ui.planError;
    return;
  }
  const v = ui.checkpoint?.vocab_size ?? ui.stats?.vocab_size;
  el.innerHTML = `
    <div class="plan-tiles">
      <div class="tile"><span class="tile-label">parameters, N</span><span class="tile-value" data-plan="params">${p.params.display.replace(' params', '')}</span>
        <span class="tile-note">${p.num_parameters.toLocaleString('en-US')} floats${v ? ` for a vocabulary of ${v}` : ''}</span></div>
      <div class="tile"><span class="tile-label">characters seen, D</span><span class="tile-value">${fmtCount(p.tokens)}</span>
        <span class="tile-note">steps × ${p.tokens_per_step.toLocaleString('en-US')} a step (B·T)</span></div>
      <div class="tile"><span class="tile-label">training compute, 6ND</span><span class="tile-value" data-plan="flops">${pretty(p.flops.display)}</span>
        <span class="tile-note">${p.flops.formula}</span></div>
      <div class="tile"><span class="tile-label">memory</span><span class="tile-value">${fmtBytes(p.memory_bytes)}</span>
        <span class="tile-note">weights, gradients, AdamW moments, activations</span></div>
    </div>
    <div id="flops-scale" class="chart"></div>
    <p class="explain">GPT-3 took ${pretty(p.gpt3_flops.display)} (${p.gpt3_flops.formula.split(' = ').slice(0, 2).join(' = ')}): this run is
      ${fmtRatio(p.fraction_of_gpt3)} of that. <a href="calculator.html">The calculator</a> works out what GPT-3 takes in GPUs and money.</p>`;
  new FlopsScale($('#flops-scale')).update({ run: p.flops.value, gpt3: p.gpt3_flops.value, runLabel: pretty(p.flops.display), gpt3Label: pretty(p.gpt3_flops.display) });
}

const fmtCount = (x) => (x >= 1e6 ? `${(x / 1e6).toPrecision(3)}M` : x >= 1e3 ? `${(x / 1e3).toPrecision(3)}k` : String(x));
function fmtRatio(r) {
  const k = Math.floor(Math.log10(r));
  const m = r / 10 ** k;
  return `${m.toFixed(1)} × 10${sup(k)}`;
}
const SUP = { '-': '⁻', 0: '⁰', 1: '¹', 2: '²', 3: '³', 4: '⁴', 5: '⁵', 6: '⁶', 7: '⁷', 8: '⁸', 9: '⁹' };
const sup = (k) => [...String(k)].map((c) => SUP[c]).join('');
/** "3.15 × 10^23 FLOPs" (the core's spelling) → "3.15 × 10²³ FLOPs". */
const pretty = (s) => s.replace(/10\^(-?\d+)/g, (_, e) => `10${sup(e)}`);

// ---- the URL hash ---------------------------------------------------------------------------

/** `#preset=tiny&steps=2000&source=paste`: the base preset, every field that differs from it, the source. */
function writeHash() {
  const q = new URLSearchParams();
  q.set('preset', ui.base);
  const d = defaultsOf(ui.base);
  for (const f of FIELDS) {
    const text = inputOf(f.key).value.trim();
    if (text !== String(d[f.key])) q.set(f.key, text);
  }
  if (ui.source !== 'corpus') q.set('source', ui.source);
  if ($('#train-on').value !== 'auto') q.set('backend', $('#train-on').value);
  if (/(^#|&)embed(=1)?(&|$)/.test(location.hash)) q.set('embed', '1');
  const url = `${location.pathname}${location.search}#${q}`;
  if (url !== `${location.pathname}${location.search}${location.hash}`) history.replaceState(null, '', url);
}

function readHash() {
  const q = new URLSearchParams(location.hash.slice(1));
  const preset = q.get('preset');
  ui.base = PRESETS[preset] ? preset : 'tiny';
  fillFields(defaultsOf(ui.base));
  for (const f of FIELDS) {
    if (!q.has(f.key)) continue;
    const el = inputOf(f.key);
    const v = q.get(f.key);
    if (f.kind !== 'select' || [...el.options].some((o) => o.value === v)) el.value = v;
  }
  const source = q.get('source');
  ui.source = ['paste', 'file', 'corpus'].includes(source) ? source : 'corpus';
  const backend = q.get('backend');
  $('#train-on').value = ['auto', 'webgpu', 'cpu'].includes(backend) ? backend : 'auto';
}

// ---- the text -------------------------------------------------------------------------------

/** Switches to `source` and gives the worker its text (the file: the one chosen or dropped). */
function useSource(source) {
  showSource(source);
  if (source === 'corpus') useCorpus();
  else if (source === 'paste') usePaste({ now: true });
  else useFile($('#file').files[0]);
}

function showSource(source) {
  ui.source = source;
  $(`#src-${source}`).checked = true;
  for (const s of ['corpus', 'paste', 'file']) $(`#pane-${s}`).hidden = s !== source;
  writeHash();
}

async function useCorpus() {
  setTextState(null, 'loading the corpus…');
  try {
    const r = await ui.engine.call('trainFetchText', { url: CORPUS_URL });
    $('#corpus-preview').textContent = `${r.preview}…`;
    textReady(r, 'the bundled corpus');
  } catch (e) {
    setTextState(e);
  }
}

// A paste past this many characters is kept here, not in the box: a browser lays a textarea's
// whole text out, and a megabyte held the page still for 2.4 s here (and each keystroke in it
// after for 0.1-0.3 s). The box then shows the text's start, read-only, until Clear.
const PASTE_IN_BOX = 200_000;

/** A paste into the box, or text dropped on it (`e.dataTransfer`), held aside when it is long. */
function onPaste(e) {
  const box = $('#paste');
  const taken = pastedInto(box, e);
  if (!taken) return; // a file: the page's drop handler
  const { pasted, whole: text } = taken;
  if (ui.heldPaste !== null) {
    // The box shows a held text's start, read-only: a paste there replaces the whole text.
    e.preventDefault();
    holdPaste(pasted.length > PASTE_IN_BOX ? pasted : null);
    if (ui.heldPaste === null) box.value = pasted;
    usePaste({ now: true });
    return;
  }
  if (text.length <= PASTE_IN_BOX) return; // the browser pastes it
  e.preventDefault();
  holdPaste(text);
  usePaste({ now: true });
}

/** Keeps `text` out of the box (null: the box is the text again, empty). */
function holdPaste(text) {
  ui.heldPaste = text;
  const box = $('#paste');
  box.value = text === null ? '' : `${text.slice(0, 2000)}…`;
  box.readOnly = text !== null;
  const note = $('#paste-big');
  note.hidden = text === null;
  if (text !== null) {
    note.firstElementChild.textContent = `${text.length.toLocaleString('en-US')} characters pasted (${fmtBytes(new TextEncoder().encode(text).length)}). The box shows their start: a box holding them all would hold this page still while it is laid out.`;
  }
}

let pasteTimer = 0;
function usePaste({ now = false } = {}) {
  clearTimeout(pasteTimer);
  const go = async () => {
    const text = ui.heldPaste ?? $('#paste').value;
    try {
      textReady(await ui.engine.call('trainSetText', { text }), 'your text');
    } catch (e) {
      setTextState(e);
    }
  };
  if (now) return go();
  pasteTimer = setTimeout(go, 250);
  return null;
}

async function useFile(file) {
  const preview = $('#file-preview');
  preview.hidden = true;
  if (!file) return;
  const max = ui.limits.max_text_bytes;
  if (file.size > max) {
    setTextState(new Error(`text: “${file.name}” is ${fmtBytes(file.size)}; the page trains on up to ${fmtBytes(max)} of text. Use an excerpt of it.`));
    return;
  }
  let text;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(await file.arrayBuffer());
  } catch {
    setTextState(new Error(`text: “${file.name}” is not UTF-8 text. Save it as plain text (UTF-8) and try again.`));
    return;
  }
  if (text.includes('\0')) {
    setTextState(new Error(`text: “${file.name}” looks like a binary file (it has NUL bytes), not plain text.`));
    return;
  }
  try {
    const stats = await ui.engine.call('trainSetText', { text });
    preview.textContent = text.slice(0, 2000) + (text.length > 2000 ? '…' : '');
    preview.hidden = false;
    textReady(stats, `“${file.name}”`);
  } catch (e) {
    setTextState(e);
  }
}

function textReady(stats, what) {
  clearMessage(); // e.g. an earlier "could not start" about the text
  ui.stats = stats;
  ui.textOk = true;
  $('#err-text').textContent = '';
  $('#paste').removeAttribute('aria-invalid');
  const minChars = 10 * Number(inputOf('block_size').value) + 11;
  const note = stats.chars < minChars ? `At block_size ${inputOf('block_size').value} it needs at least ${minChars.toLocaleString('en-US')} characters.` : '';
  renderTextStats($('#text-stats'), stats, { note: `${note}`.trim() ? note : `Using ${what}.` });
  checkForm();
}

function setTextState(err, loading) {
  ui.textOk = false;
  ui.stats = null;
  if (loading) {
    $('#text-stats').innerHTML = `<p class="explain">${loading}</p>`;
  } else {
    const { message } = splitError(err);
    $('#err-text').textContent = message.startsWith('is ') ? `The text ${message}.` : message.charAt(0).toUpperCase() + message.slice(1);
    if (ui.source === 'paste') $('#paste').setAttribute('aria-invalid', 'true');
    $('#text-stats').replaceChildren();
  }
  updateButtons();
}

// ---- running --------------------------------------------------------------------------------

let chart, grid, nextChars, wpeMap, simMap;

/** A run is under way (training or paused): its config and text are fixed. */
const runActive = () => ui.state === 'running' || ui.state === 'paused';

function updateButtons() {
  const s = ui.state;
  const active = runActive();
  $('#start').disabled = active || !ui.textOk || !ui.formOk;
  $('#start').textContent = s === 'done' || s === 'error' ? 'Train again' : ui.checkpoint ? 'Continue training' : 'Start training';
  $('#pause').disabled = !active;
  $('#pause').textContent = s === 'paused' ? 'Resume' : 'Pause';
  $('#reset').disabled = s === 'idle' && !ui.checkpoint;
  $('#download').disabled = s === 'idle';
  $('#load-ckpt').disabled = active;
  $('#load-label').classList.toggle('disabled', active);
  for (const f of FIELDS) {
    if (f.live) continue;
    inputOf(f.key).disabled = active || (ui.checkpoint && MODEL_KEYS.includes(f.key));
  }
  $('#f-preset').disabled = active || Boolean(ui.checkpoint);
  for (const r of document.querySelectorAll('input[name="source"]')) r.disabled = active;
  $('#paste').disabled = active;
  $('#paste-clear').disabled = active;
  $('#file').disabled = active;
  stat('state', { idle: 'not started', running: 'training', paused: 'paused', done: 'done', error: 'stopped by an error' }[s]);
  document.body.dataset.trainState = s;
}

function stat(name, text) {
  $(`[data-stat="${name}"]`, $('#stats')).textContent = text;
}

async function start() {
  if (!(await checkForm()) || !ui.textOk) return;
  clearMessage();
  // The run's first evaluation, sample and snapshot arrive before trainStart's answer.
  ui.lastEval = null;
  ui.emaLoss = null;
  ui.lastStep = 0;
  chart.reset(ui.options.steps, 0);
  $('#samples').replaceChildren();
  $('#evals tbody').replaceChildren();
  try {
    const info = await ui.engine.call('trainStart', { options: ui.options, live: liveForWorker(), backend: $('#train-on').value });
    ui.run = info;
    if (info.replaced > 0) {
      showMessage(`${info.replaced.toLocaleString('en-US')} characters of your text are not in the checkpoint’s vocabulary; they were replaced by its ‘${showChar(info.vocab.includes(' ') ? ' ' : info.vocab[0])}’.`, 'warn');
    }
    // The state follows the worker's trainState events (a short run may be done already).
  } catch (e) {
    const { field, message } = splitError(e);
    if (FIELDS.some((f) => f.key === field)) showFieldErrors(new Map([[field, message]]));
    if (field === 'text') $('#err-text').textContent = message;
    // The worker dropped the run (and any run before it): nothing of it stays on the page either.
    clearRunView();
    ui.run = null;
    ui.trainBackend = null;
    setState('idle');
    showTrainBackend(null);
    showMessage(`Could not start: ${e.message ?? e}`);
  }
}

// ---- where training runs --------------------------------------------------------------------

/** The CPU build's pill text and its one-line description: of a run's kernels (`kernels`, fixed
 *  when it started), or before a run of what the next would take (trainLimits'). */
function cpuBackend(kernels = ui.limits.kernels) {
  const { build, threads, relaxed, isa } = ui.engine.info;
  // The threaded build trains on its pool once the pool is up, else on one thread.
  const pooled = kernels === 'threads';
  const note = build === 'threads' ? ui.limits.poolNote : ui.engine.info.note;
  // One thread in the threaded build: no pool yet, or a run that started before it came up.
  const why = build !== 'threads' ? '' : ui.limits.pool === 'up' ? ' (started before the pool)' : ' (no pool)';
  const pill = cpuPill({ pooled, threads, why, relaxed });
  const shards = pooled
    ? `, ${threads} workers; each step's batch is split into data-parallel shards (a model replica per worker, `
      + 'gradients averaged): as many as split the batch evenly, at most one per worker'
    : '';
  const text = `the ${kernels} kernels of the ${build} build${shards}${note ? ` (${note})` : ''}`;
  return { pill, title: [`training on the ${kernels} kernels (${isa})`, note].filter(Boolean).join('; '), text };
}

/**
 * Says where training runs: before a run, what the choice will do; after trainStart and on a
 * fallback, the worker's 'trainBackend' report ({ training, adapter, note, fellBack, kernels }).
 */
function showTrainBackend(b) {
  const cpu = cpuBackend(b?.kernels);
  if (b?.training === 'webgpu') {
    setBackend(`WebGPU · ${b.adapter}`, 'ready', `training on WebGPU (${b.adapter})`);
    $('#train-backend').textContent = `Training runs on WebGPU (${b.adapter}): each step's forward pass, loss, backward `
      + 'pass and AdamW update run in one submission with the weights, activations, gradients and optimiser state '
      + 'resident on the GPU; only the losses and the gradient norm come back. The parameters and AdamW\'s moments are brought '
      + 'back to the CPU model for each evaluation, sample and snapshot, and on pause; if the GPU fails, training '
      + 'goes on there from the last of these.';
    return;
  }
  setBackend(cpu.pill, 'ready', cpu.title);
  const why = b?.note ? ` WebGPU is not used: ${b.note}.` : ' Choose WebGPU above to train on the GPU (“auto” uses it on a hardware adapter).';
  $('#train-backend').textContent = `Training runs on the CPU: ${cpu.text}.${why}`;
  if (b?.fellBack) showMessage(sentence(b.note), 'warn');
}

function setState(s) {
  ui.state = s;
  updateButtons();
}

async function togglePause() {
  if (ui.state === 'running') {
    $('#pause').disabled = true;
    await ui.engine.call('trainPause');
  } else if (ui.state === 'paused') {
    ui.hiddenPause = false;
    await ui.engine.call('trainResume');
  }
}

async function reset() {
  await ui.engine.call('trainReset');
  showTrainBackend(null); // no run: say what the choice will do, not where the last run trained
  ui.run = null;
  ui.trainBackend = null;
  ui.checkpoint = null;
  $('#resume-note').hidden = true;
  $('#load-ckpt').value = '';
  clearRunView();
  $('#inside').dataset.empty = 'true';
  setState('idle');
  clearMessage();
  checkForm();
}

/** Takes the last run's figures off the page: the chart, samples, evaluations, stats, progress. */
function clearRunView() {
  chart.reset(0, 0);
  $('#samples').replaceChildren();
  $('#evals tbody').replaceChildren();
  for (const k of ['step', 'loss', 'val', 'tps', 'elapsed', 'eta', 'lr']) stat(k, '–');
  $('#overhead').textContent = '';
  setProgress(0, 1);
}

async function download() {
  try {
    const { bytes, step } = await ui.engine.call('trainCheckpoint');
    const c = ui.run ?? ui.checkpoint;
    const name = `glassgpt-${c.n_layer}L-${c.n_head}H-${c.n_embd}C-step${(c.steps_before ?? 0) + step}.safetensors`;
    const url = URL.createObjectURL(new Blob([bytes], { type: 'application/octet-stream' }));
    const a = Object.assign(document.createElement('a'), { href: url, download: name });
    document.body.append(a);
    a.click();
    a.remove();
    setTimeout(() => URL.revokeObjectURL(url), 10000);
  } catch (e) {
    showMessage(`Could not save the checkpoint: ${e.message ?? e}`);
  }
}

async function loadCheckpoint(file) {
  if (!file) return;
  try {
    const bytes = await file.arrayBuffer();
    $('#load-ckpt').value = ''; // read: choosing the same file again loads it again
    const { info, snapshot } = await ui.engine.call('trainLoadCheckpoint', { bytes, probe: $('#probe').value }, [bytes]);
    ui.checkpoint = info;
    ui.run = null;
    ui.trainBackend = null;
    clearRunView(); // the run before, if any, is gone in the worker
    setState('idle');
    fillFields(Object.fromEntries(MODEL_KEYS.map((k) => [k, info[k]])));
    const m = info.metadata;
    const note = $('#resume-note');
    note.hidden = false;
    note.innerHTML = '';
    const plural = (n, one, many) => `${n} ${n === 1 ? one : many}`;
    note.append(`Continuing “${file.name}”: ${plural(info.n_layer, 'layer', 'layers')}, ${plural(info.n_head, 'head', 'heads')}, ${info.n_embd} wide, context ${info.block_size}, `
      + `a vocabulary of ${info.vocab_size}; trained ${info.step ?? 0} steps${m.tokens_trained ? ` on ${Number(m.tokens_trained).toLocaleString('en-US')} characters` : ''}`
      + `${m.val_loss ? `, validation loss ${m.val_loss}` : ''}. Its shape stays; the optimiser starts afresh. `);
    const forget = Object.assign(document.createElement('button'), { type: 'button', className: 'linklike', textContent: 'Start from a fresh model instead' });
    forget.addEventListener('click', async () => {
      await ui.engine.call('trainForgetCheckpoint');
      ui.checkpoint = null;
      note.hidden = true;
      $('#load-ckpt').value = '';
      updateButtons();
      checkForm();
    });
    note.append(forget);
    showSnapshot(snapshot);
    clearMessage();
    updateButtons();
    checkForm();
  } catch (e) {
    showMessage(`That file is not a checkpoint glassgpt can continue: ${e.message ?? e}`);
    $('#load-ckpt').value = '';
  }
}

function setProgress(step, steps) {
  const pct = steps ? (100 * step) / steps : 0;
  const bar = $('#progress');
  bar.setAttribute('aria-valuenow', pct.toFixed(0));
  bar.querySelector('span').style.width = `${pct}%`;
}

function fmtTime(s) {
  if (!Number.isFinite(s)) return '–';
  s = Math.round(s);
  const h = Math.floor(s / 3600), m = Math.floor((s % 3600) / 60), sec = s % 60;
  return h ? `${h}:${String(m).padStart(2, '0')}:${String(sec).padStart(2, '0')}` : `${m}:${String(sec).padStart(2, '0')}`;
}

function onProgress(d) {
  const from = d.step - d.losses.length;
  chart.addSteps(from, d.losses);
  for (const l of d.losses) ui.emaLoss = ui.emaLoss === null ? l : ui.emaLoss + 0.1 * (l - ui.emaLoss);
  ui.lastStep = d.step;
  ui.tokensTrained = d.tokensTrained;
  stat('step', `${d.step.toLocaleString('en-US')} / ${d.steps.toLocaleString('en-US')}`);
  if (ui.emaLoss !== null) stat('loss', ui.emaLoss.toFixed(3));
  // Over the last few seconds of steps; none yet after a start or a fall back to the CPU.
  stat('tps', d.tokensPerSec > 0 ? Math.round(d.tokensPerSec).toLocaleString('en-US') : '–');
  stat('elapsed', fmtTime(d.elapsed));
  stat('eta', d.step >= d.steps ? 'done' : d.step > 0 ? fmtTime(d.eta) : '–');
  stat('lr', d.lr ? d.lr.toExponential(2) : '–');
  setProgress(d.step, d.steps);
  const o = d.overhead;
  const stepTime = o.stepMs < 60000 ? `${(o.stepMs / 1000).toFixed(1)} s` : fmtTime(o.stepMs / 1000);
  $('#overhead').textContent = `Besides the ${stepTime} spent in training steps, evaluations took ${pct(o.eval)} of that time, `
    + `samples ${pct(o.sample)}, attention snapshots ${pct(o.snapshot)}.`;
}
const pct = (f) => `${(100 * f).toFixed(f < 0.1 ? 1 : 0)}%`;

function onEval(e) {
  chart.addEval(e);
  ui.lastEval = e;
  stat('val', e.val.toFixed(3));
  const tr = document.createElement('tr');
  Object.assign(tr.dataset, { step: e.step, train: e.train, val: e.val, elapsed: e.elapsed });
  for (const t of [e.step.toLocaleString('en-US'), e.train.toFixed(4), e.val.toFixed(4), fmtTime(e.elapsed)]) {
    tr.append(Object.assign(document.createElement('td'), { textContent: t }));
  }
  $('#evals tbody').prepend(tr);
}

/** The run went back to an earlier step (the GPU failed; the worker's rewind): the chart and the
 *  average loss forget the undone steps, and the progress event that follows sets the counter. */
function onRewind(d) {
  chart.rewind(d.step, `${d.why} at step ${d.from}: the run went back to step ${d.step}, the last state brought back from the GPU`);
  ui.emaLoss = chart.ema.at(-1) ?? null;
}

function onSample(s) {
  const fig = document.createElement('figure');
  fig.className = 'sample';
  fig.dataset.step = String(s.step);
  const cap = document.createElement('figcaption');
  const ev = ui.lastEval && ui.lastEval.step === s.step ? ` · val loss ${ui.lastEval.val.toFixed(3)}` : '';
  cap.textContent = `step ${s.step}${ev} · temperature ${s.temperature}`;
  const pre = document.createElement('pre');
  pre.textContent = s.text;
  fig.append(cap, pre);
  const box = $('#samples');
  box.prepend(fig);
  while (box.children.length > 6) box.lastElementChild.remove();
}

/** Draws a snapshot: attention grid, next character, wpe and its similarity. */
function showSnapshot(snap) {
  const s = { ...snap, ...snap.shape };
  $('#inside').dataset.empty = 'false';
  const chars = [...s.probe.text];
  grid.update({ attention: s.attention, layers: s.layers, heads: s.heads, chars });
  nextChars.update(s.probs, s.vocab);
  $('#next-chars').dataset.step = s.step === null ? 'checkpoint' : String(s.step);
  $('#next-note').textContent = `After “…${chars.slice(-24).map(showChar).join('')}”${s.step === null ? ', as the loaded checkpoint predicts it' : ` at step ${s.step}`}.`;
  wpeMap.draw(s.wpe, s.blockSize, s.nEmbd, {});
  simMap.draw(s.similarity, s.blockSize, s.blockSize, { min: -1, max: 1 });
  $('#wpe-note').textContent = s.posEncoding === 'sinusoidal'
    ? `The fixed sinusoidal table (${s.blockSize} positions × ${s.nEmbd} channels): it never changes.`
    : `${s.blockSize} positions × ${s.nEmbd} channels, learned: it starts as noise and grows structure as the model learns where characters are.`;
}

function onState({ state, reason }) {
  if (state === 'stopped') return;
  if (state === 'error') showMessage(`Training stopped: ${reason}`);
  setState(state);
}

function onDone(d) {
  try {
    localStorage.setItem(TRAINED_KEY, JSON.stringify({
      n_layer: d.n_layer, n_head: d.n_head, n_embd: d.n_embd, block_size: d.block_size, vocab_size: d.vocab_size,
      tokens_trained: d.tokens_trained, pos_encoding: d.pos_encoding,
    }));
  } catch {
    // Storage off (private mode): the calculator just won't offer this model.
  }
  const val = d.val !== null ? `, validation loss ${d.val.toFixed(3)}` : '';
  showMessage(`Done: ${d.step.toLocaleString('en-US')} steps in ${fmtTime(d.elapsed)}${val}. Download the checkpoint to keep it (the playground and glassgpt sample load it); the calculator now offers this model beside GPT-3.`, 'info');
}

// ---- start-up -------------------------------------------------------------------------------

function wire() {
  // Where to train applies from the next Start; a running run keeps its backend.
  $('#train-on').addEventListener('change', () => writeHash());
  for (const r of document.querySelectorAll('input[name="source"]')) {
    r.addEventListener('change', () => useSource(r.value));
  }
  $('#paste').addEventListener('input', () => usePaste());
  $('#paste').addEventListener('paste', onPaste);
  $('#paste').addEventListener('drop', onPaste);
  // A file dropped anywhere on the page: a checkpoint (.safetensors) to continue, or a text to
  // train on. The browser's own answer to a drop is to leave the page for the file.
  document.addEventListener('dragover', (e) => {
    if (e.dataTransfer?.types.includes('Files')) e.preventDefault();
  });
  document.addEventListener('drop', (e) => {
    const file = e.dataTransfer?.files?.[0];
    if (!file) return;
    e.preventDefault();
    if (runActive()) {
      showMessage(`A run is in progress, so ${file.name} was not opened: Reset first.`, 'warn');
    } else if (/\.safetensors$/i.test(file.name)) {
      loadCheckpoint(file);
    } else {
      const files = new DataTransfer();
      files.items.add(file);
      $('#file').files = files.files; // as if chosen: switching sources and back keeps it
      useSource('file');
    }
  });
  $('#paste-clear').addEventListener('click', () => {
    holdPaste(null);
    usePaste({ now: true });
    $('#paste').focus();
  });
  $('#file').addEventListener('change', () => useFile($('#file').files[0]));
  $('#f-preset').addEventListener('change', () => {
    const v = $('#f-preset').value;
    if (PRESETS[v]) {
      ui.base = v;
      fillFields(PRESETS[v]);
    }
    $('#preset-note').textContent = PRESET_NOTES[v];
    checkForm();
  });
  let formTimer = 0;
  for (const f of FIELDS) {
    inputOf(f.key).addEventListener('input', () => {
      clearTimeout(formTimer);
      formTimer = setTimeout(() => {
        const p = matchingPreset();
        if (p !== 'custom') ui.base = p;
        $('#f-preset').value = p;
        $('#preset-note').textContent = PRESET_NOTES[p];
        checkForm();
        if (f.key === 'block_size' && ui.stats) textReady(ui.stats, 'this text');
      }, 150);
    });
  }
  // A link followed on this page or the hash edited in the address bar (writeHash uses
  // replaceState, which fires no hashchange). A run in progress, or a loaded checkpoint, fixes
  // the model's shape: the page keeps its form and says why.
  window.addEventListener('hashchange', () => {
    if (runActive() || ui.checkpoint) {
      writeHash();
      showMessage(`${runActive() ? 'A run is in progress' : 'A checkpoint is loaded'}, so the link’s settings were not applied: Reset, then follow the link again.`, 'warn');
      return;
    }
    const source = ui.source;
    readHash();
    const p = matchingPreset();
    $('#f-preset').value = p;
    $('#preset-note').textContent = PRESET_NOTES[p];
    if (ui.source !== source) useSource(ui.source);
    else if (ui.stats) textReady(ui.stats, 'this text'); // the context length may have changed
    writeHash();
    checkForm();
  });
  $('#start').addEventListener('click', start);
  $('#pause').addEventListener('click', togglePause);
  $('#reset').addEventListener('click', reset);
  $('#download').addEventListener('click', download);
  $('#load-ckpt').addEventListener('change', () => loadCheckpoint($('#load-ckpt').files[0]));
  $('#log-scale').addEventListener('change', () => chart.setLog($('#log-scale').checked));
  let probeTimer = 0;
  $('#probe').addEventListener('input', () => {
    clearTimeout(probeTimer);
    probeTimer = setTimeout(async () => {
      if (ui.state === 'idle' && !ui.checkpoint) return;
      ui.engine.call('trainLive', { live: liveForWorker() });
      if (ui.state !== 'running') {
        showSnapshot(await ui.engine.call('trainProbe', { probe: $('#probe').value }));
      }
    }, 200);
  });
  // A hidden tab: the worker trains on regardless (drawing waits for the tab to come back),
  // unless the reader asked to pause; then it resumes when the tab is visible again.
  document.addEventListener('visibilitychange', async () => {
    if (document.hidden && ui.state === 'running' && $('#pause-hidden').checked) {
      ui.hiddenPause = true;
      await ui.engine.call('trainPause');
    } else if (!document.hidden && ui.hiddenPause && ui.state === 'paused') {
      ui.hiddenPause = false;
      await ui.engine.call('trainResume');
    }
  });
  const e = ui.engine;
  e.on('trainProgress', onProgress);
  e.on('trainEval', onEval);
  e.on('trainSample', onSample);
  e.on('trainSnapshot', showSnapshot);
  e.on('trainState', onState);
  e.on('trainDone', onDone);
  e.on('trainBackend', (b) => {
    ui.trainBackend = b;
    showTrainBackend(b);
  });
  e.on('trainRewind', onRewind);
  e.on('error', (d) => showMessage(d.message));
}

try {
  buildForm();
  chart = new LossChart($('#loss-chart'));
  grid = new AttentionGrid($('#attention-grid'), $('#attention-big'), {
    onSelect: (l, h) => { $('#att-big-h').textContent = `Layer ${l + 1}, head ${h + 1}`; },
  });
  nextChars = new NextChars($('#next-chars'));
  wpeMap = new Heatmap(Object.assign(document.createElement('canvas'), { className: 'wpe-canvas' }), { scale: 'diverging' });
  simMap = new Heatmap(Object.assign(document.createElement('canvas'), { className: 'wpe-canvas' }), { scale: 'diverging' });
  $('#wpe').append(wpeMap.canvas, Object.assign(document.createElement('div'), { className: 'legend-row' }));
  $('#wpe-sim').append(simMap.canvas, Object.assign(document.createElement('div'), { className: 'legend-row' }));
  legend($('#wpe .legend-row'), { scale: 'diverging', lo: -1, hi: 1, label: 'value (scaled to the largest)' });
  legend($('#wpe-sim .legend-row'), { scale: 'diverging', lo: -1, hi: 1, label: 'cosine similarity' });

  ui.engine = await Engine.start();
  globalThis.glassgpt = { get engine() { return ui.engine; } }; // for the console and the tests
  ui.limits = await ui.engine.call('trainLimits');
  showTrainBackend(null);
  // A threaded build's pool that comes up (or is given up on) after this: what the next run uses
  // (a run keeps the kernels it started with).
  ui.engine.on('backend', async () => {
    ui.limits = await ui.engine.call('trainLimits');
    // Said again for the run as it stands (not its fallback warning a second time).
    showTrainBackend(ui.state === 'idle' || !ui.trainBackend ? null : { ...ui.trainBackend, fellBack: false });
  });
  $('[data-limit="text"]').textContent = fmtBytes(ui.limits.max_text_bytes);
  readHash();
  const p = matchingPreset();
  $('#f-preset').value = p;
  $('#preset-note').textContent = PRESET_NOTES[p];
  wire();
  showSource(ui.source);
  updateButtons();
  await checkForm();
  if (ui.source === 'corpus') await useCorpus();
  else if (ui.source === 'paste') setTextState(null, 'Paste some text above.');
  else setTextState(null, 'Choose a file above.');
  document.body.dataset.ready = 'true';
} catch (e) {
  setBackend('no core', 'error');
  showMessage(e.message ?? String(e));
}
