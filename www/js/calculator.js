// The sizing calculator page. Every number comes from the wasm core's estimate() (src/sizing),
// with its formula; this file only reads the form, keeps the scenario in the URL hash and lays
// the results out. The sizing functions are pure and take well under a millisecond, so they run
// on the main thread from the single-thread build: no worker here.
//
// State: three presets (model, GPU, server) give a base scenario; each form field overrides one
// number of it. The hash holds the presets and the fields that differ from their base, so
// `#preset=gpt3-6.7b&days=15` is a scenario, and an empty hash is the seed report's.
import init, * as wasm from '../pkg-sizing/glassgpt.js';
import { renderChrome, setBackend, showMessage, clearMessage } from './site.js';
import { simdAvailable } from './load.js';
import { DeadlineChart } from './widgets/calculator-chart.js';
import { MemoryChart } from './widgets/memory-chart.js';
import { addEmbedButton, attr } from './embed-dialog.js';
import { scientific, superscripts } from './numbers.js';

renderChrome('calculator');

/** Where the Train page leaves its model's shape: {n_layer, n_head, n_embd, block_size, vocab_size, tokens_trained}. */
const TRAINED_KEY = 'glassgpt.trainedModel';
const DEFAULTS = { preset: 'seed', gpu: 'a100-pcie', server: 'dgx-a100' };
const PRECISIONS = [['fp32', 'FP32'], ['tf32', 'TF32 tensor'], ['fp16', 'FP16/BF16 tensor'], ['int8', 'INT8 tensor']];

// ---- the fields ---------------------------------------------------------------------------

/** get/set/err for the value at `path` in an Inputs object. */
const at = (...path) => ({
  get: (s) => path.reduce((o, k) => o[k], s),
  set: (s, v) => { path.slice(0, -1).reduce((o, k) => o[k], s)[path.at(-1)] = v; },
  err: path.join('.'),
});

/**
 * Every input. kind: num (text box taking 300B, 3e11, 300,000,000,000), check, select.
 * optional: what a blank number box means. get(s, ctx) reads the field's value from an Inputs
 * object (ctx: the form's parsed values so far), set(s, v) writes it, err is the path of the
 * core's error messages that belong beside it. Order matters: set runs in this order.
 */
const FIELDS = [
  { key: 'n_layer', group: 'model', label: 'Layers', sym: 'n_layer', kind: 'num', ...at('model', 'arch', 'n_layer') },
  { key: 'n_embd', group: 'model', label: 'Width', sym: 'd_model', kind: 'num', ...at('model', 'arch', 'n_embd') },
  { key: 'n_head', group: 'model', label: 'Heads', sym: 'n_head', kind: 'num', ...at('model', 'arch', 'n_head') },
  {
    key: 'd_ff', group: 'model', label: 'MLP width', sym: 'd_ff', kind: 'num', optional: '4 × d_model',
    get: (s) => (s.model.arch.d_ff === 4 * s.model.arch.n_embd ? null : s.model.arch.d_ff),
    set: (s, v) => { s.model.arch.d_ff = v ?? 4 * s.model.arch.n_embd; },
    err: 'model.arch.d_ff',
  },
  { key: 'vocab_size', group: 'model', label: 'Vocabulary', sym: 'vocab_size', kind: 'num', ...at('model', 'arch', 'vocab_size') },
  { key: 'block_size', group: 'model', label: 'Context', sym: 'n_ctx', kind: 'num', ...at('model', 'arch', 'block_size') },
  { key: 'tied', group: 'model', label: 'LM head shares the token embedding (tied)', kind: 'check', ...at('model', 'arch', 'tied_head') },
  { key: 'bias', group: 'model', label: 'Biases in linear layers and norms', kind: 'check', ...at('model', 'arch', 'bias') },
  { key: 'params', group: 'model', label: 'N, as stated', sym: 'params', kind: 'num', optional: 'counted from the shape', wide: true,
    note: 'A report’s own figure (the seed: 175B). Blank: N is counted from the shape above.', ...at('model', 'params') },

  { key: 'tokens', group: 'data', label: 'Training tokens', sym: 'D', kind: 'num', ...at('training', 'tokens') },
  { key: 'days', group: 'data', label: 'Deadline, days', kind: 'num', ...at('training', 'days') },
  { key: 'gpus', group: 'data', label: 'GPUs you have', kind: 'num', optional: 'what the deadline needs', wide: true, ...at('training', 'gpus') },
  { key: 'attn', group: 'data', label: 'Count attention FLOPs too (2·n_layer·n_ctx·d_model a token)', kind: 'check', ...at('training', 'attention') },

  {
    key: 'precision', group: 'hardware', label: 'Precision', kind: 'select', options: PRECISIONS, ...at('hardware', 'precision'),
  },
  {
    key: 'peak', group: 'hardware', label: 'Peak, TFLOP/s', kind: 'num',
    get: (s, ctx) => s.hardware.gpu.peak_tflops[ctx?.precision ?? s.hardware.precision] ?? null,
    set: (s, v) => { s.hardware.gpu.peak_tflops[s.hardware.precision] = v; },
    err: 'hardware.gpu.peak_tflops',
  },
  { key: 'util', group: 'hardware', label: 'Utilisation, 0–1', kind: 'num', ...at('hardware', 'utilisation') },
  { key: 'mem_gb', group: 'hardware', label: 'GPU memory, GB', kind: 'num', ...at('hardware', 'gpu', 'memory_gb') },
  { key: 'tdp', group: 'hardware', label: 'Board power, W', kind: 'num', ...at('hardware', 'gpu', 'tdp_w') },
  { key: 'pue', group: 'hardware', label: 'PUE', kind: 'num', ...at('hardware', 'pue') },
  { key: 'per_server', group: 'hardware', label: 'GPUs per server', kind: 'num', ...at('hardware', 'server', 'gpus_per_server') },

  { key: 'gpu_price', group: 'prices', label: 'GPU, $', kind: 'num', ...at('hardware', 'gpu', 'price_usd') },
  { key: 'server_price', group: 'prices', label: 'Server, $', kind: 'num', ...at('hardware', 'server', 'price_usd') },

  { key: 'qpd', group: 'inference', label: 'Queries per day', kind: 'num', ...at('inference', 'queries_per_day') },
  { key: 'tpq', group: 'inference', label: 'Tokens per query', kind: 'num', ...at('inference', 'tokens_per_query') },
  { key: 'stated', group: 'inference', label: 'FLOPs per day, as a report states', kind: 'num', optional: 'none: the 2N formula only', wide: true,
    note: 'The seed’s 4.76e24, shown beside the 2N formula. Blank: the formula only.', ...at('inference', 'stated_flops_per_day') },
  { key: 'iattn', group: 'inference', label: 'Count attention FLOPs too (2N + 2·n_layer·n_ctx·d_model a token)', kind: 'check', ...at('inference', 'attention') },

  {
    key: 'train_prec', group: 'memory', label: 'Training state', kind: 'select',
    options: [['fp32', 'fp32 + AdamW'], ['mixed', 'mixed + AdamW']], ...at('memory', 'training_precision'),
  },
  {
    key: 'infer_prec', group: 'memory', label: 'Inference weights', kind: 'select',
    options: [['fp32', 'fp32'], ['fp16', 'fp16/bf16'], ['int8', 'int8']], ...at('memory', 'inference_precision'),
  },
  { key: 'batch', group: 'memory', label: 'Batch, sequences', kind: 'num', ...at('memory', 'batch_size') },
  { key: 'context', group: 'memory', label: 'KV-cache context', kind: 'num', optional: 'the model’s n_ctx', ...at('memory', 'context') },
];
const BY_KEY = Object.fromEntries(FIELDS.map((f) => [f.key, f]));

// ---- numbers in fields and links ----------------------------------------------------------

const SUFFIX = { k: 1e3, K: 1e3, M: 1e6, B: 1e9, G: 1e9, T: 1e12 };

/** Reads "300B", "3e11", "300,000,000,000", "0.5" as a number; NaN when it is not one. */
function parseNumber(text) {
  const t = text.replace(/[\s,_]/g, '');
  const m = /^([-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?)([kKMBGT]?)$/.exec(t);
  if (!m) return NaN;
  return Number(m[1]) * (m[2] ? SUFFIX[m[2]] : 1);
}

/** A number as a field shows it, exactly: 96, 0.5, 175B, 3.5B, 4.76e24, 2257.142857142857. */
function formatNumber(v) {
  if (v === null || v === undefined) return '';
  const a = Math.abs(v);
  if (a < 1e6) return String(v);
  for (const [scale, s] of [[1e12, 'T'], [1e9, 'B'], [1e6, 'M']]) {
    const m = v / scale;
    if (Math.abs(m) >= 1 && Math.abs(m) < 1000) {
      const text = `${m}${s}`;
      if (text.length <= 7 && parseNumber(text) === v) return text;
    }
  }
  return v.toExponential().replace('e+', 'e');
}

const fmtValue = (f, v) => (f.kind === 'num' ? formatNumber(v) : f.kind === 'check' ? (v ? '1' : '0') : String(v));

// ---- presets ------------------------------------------------------------------------------

let P; // presets(): { models, gpus, servers }

/** The Train page's model, or null (absent, unreadable, or storage off). */
function readTrained() {
  let raw;
  try {
    raw = localStorage.getItem(TRAINED_KEY);
  } catch {
    return null;
  }
  if (!raw) return null;
  try {
    const t = JSON.parse(raw);
    const keys = ['n_layer', 'n_head', 'n_embd', 'block_size', 'vocab_size', 'tokens_trained'];
    return keys.every((k) => typeof t[k] === 'number' && Number.isFinite(t[k])) ? t : null;
  } catch {
    return null;
  }
}

/** The seed's hardware, deadline and query volume with the Train page's model. */
function trainedScenario(t) {
  const s = wasm.scenario('seed');
  s.model = {
    name: 'your in-page model',
    arch: {
      n_layer: t.n_layer, n_head: t.n_head, n_embd: t.n_embd, d_ff: 4 * t.n_embd,
      block_size: t.block_size, vocab_size: t.vocab_size, bias: true, tied_head: true,
      pos_encoding: t.pos_encoding === 'sinusoidal' ? 'sinusoidal' : 'learned',
    },
    params: null,
  };
  s.training.tokens = t.tokens_trained;
  s.inference.stated_flops_per_day = null;
  return s;
}

/** The precision to use on `gpu`: `want` when it has that peak, else FP16, else FP32. */
function availablePrecision(gpu, want) {
  const p = gpu.peak_tflops;
  return p[want] != null ? want : p.fp16 != null ? 'fp16' : 'fp32';
}

/** The scenario the presets give before any field is edited. */
function baseInputs({ preset, gpu, server }) {
  const trained = preset === 'trained' ? readTrained() : null;
  const s = trained ? trainedScenario(trained) : wasm.scenario(preset === 'trained' ? 'seed' : preset);
  const g = P.gpus.find((x) => x.id === gpu);
  if (g) s.hardware.gpu = structuredClone(g);
  s.hardware.precision = availablePrecision(s.hardware.gpu, s.hardware.precision);
  const sv = P.servers.find((x) => x.id === server);
  if (sv) s.hardware.server = structuredClone(sv);
  return s;
}

// ---- the form -----------------------------------------------------------------------------

const state = { ...DEFAULTS };
addEmbedButton(() => (state.preset === 'trained' ? '' : `<glassgpt-calculator${attr('preset', state.preset)}></glassgpt-calculator>`), { flush: () => syncHash() });
let lastGood = null; // { inputs, estimate, values, base }: what the outputs show (values: the fields, base: the presets')
let seedEstimate = null;

const $ = (sel, root = document) => root.querySelector(sel);
const inputOf = (f) => document.getElementById(`f-${f.key}`);

function fieldHtml(f) {
  const id = `f-${f.key}`;
  const describedBy = `err-${f.key}${f.optional ? ` hint-${f.key}` : ''}`;
  const sym = f.sym ? ` <code>${f.sym}</code>` : '';
  if (f.kind === 'check') {
    return `<div class="field check${f.wide ? ' wide' : ''}">
      <input type="checkbox" id="${id}" aria-describedby="${describedBy}"><label for="${id}">${f.label}</label>
      <p class="field-error" id="err-${f.key}" aria-live="polite"></p></div>`;
  }
  const control = f.kind === 'select'
    ? `<select id="${id}" aria-describedby="${describedBy}">${f.options.map(([v, l]) => `<option value="${v}">${l}</option>`).join('')}</select>`
    : `<input type="text" inputmode="decimal" autocomplete="off" spellcheck="false" id="${id}" aria-describedby="${describedBy}"${f.optional ? ` placeholder="${f.optional}"` : ''}>`;
  const hint = f.note ? `<p class="hint" id="hint-${f.key}">${f.note}</p>`
    : f.optional ? `<p class="sr-only" id="hint-${f.key}">Leave blank for ${f.optional}.</p>` : '';
  return `<div class="field${f.wide ? ' wide' : ''}"><label for="${id}">${f.label}${sym}</label>${control}${hint}
    <p class="field-error" id="err-${f.key}" aria-live="polite"></p></div>`;
}

function presetSelectHtml(key, label, options) {
  return `<div class="field wide"><label for="f-${key}">${label}</label><select id="f-${key}">${options}</select>
    <p class="hint" id="${key}-note"></p></div>`;
}

function buildForm() {
  const groups = {};
  for (const f of FIELDS) (groups[f.group] ??= []).push(fieldHtml(f));
  const trained = readTrained();
  const models = P.models.map((m) => `<option value="${m.id}">${m.name}</option>`).join('');
  const mine = trained
    ? `<option value="trained">Your in-page model (${trained.n_layer} layers, d_model ${trained.n_embd})</option>`
    : '<option value="trained" disabled>Your in-page model: train a model on the Train page first</option>';
  const presetOptions = `<option value="seed">GPT-3 175B, as the seed report states</option>
    <optgroup label="Published models">${models}</optgroup>${mine}`;
  const gpuOptions = P.gpus.map((g) => `<option value="${g.id}">${g.name}</option>`).join('');
  const serverOptions = P.servers.map((s) => `<option value="${s.id}">${s.name} (${s.gpus_per_server} GPUs)</option>`).join('');
  const fill = (group, html) => { $(`#group-${group} .field-row`).innerHTML = html; };
  fill('model', presetSelectHtml('preset', 'Preset', presetOptions) + groups.model.join(''));
  fill('data', groups.data.join(''));
  fill('hardware', presetSelectHtml('gpu', 'GPU', gpuOptions) + groups.hardware.join('') + presetSelectHtml('server', 'Server', serverOptions));
  fill('prices', groups.prices.join(''));
  fill('inference', groups.inference.join(''));
  fill('memory', groups.memory.join(''));
}

/** Writes the fields `keys` (default: all) from the Inputs object `s`. */
function fillFields(s, keys = FIELDS.map((f) => f.key)) {
  for (const key of keys) {
    const f = BY_KEY[key];
    const el = inputOf(f);
    const v = f.get(s, { precision: $('#f-precision').value || s.hardware.precision });
    if (f.kind === 'check') el.checked = Boolean(v);
    else el.value = f.kind === 'num' ? formatNumber(v) : v;
  }
}

/** Writes a field from link text. */
function setFieldText(f, text) {
  const el = inputOf(f);
  if (f.kind === 'check') el.checked = text === '1' || text === 'true';
  else if (f.kind === 'select') {
    if ([...el.options].some((o) => o.value === text)) el.value = text;
  } else el.value = text;
}

/** The field's value, or { error }. */
function readField(f) {
  const el = inputOf(f);
  if (f.kind === 'check') return { value: el.checked };
  if (f.kind === 'select') return { value: el.value };
  const text = el.value.trim();
  if (text === '') return f.optional ? { value: null } : { error: 'enter a number' };
  const v = parseNumber(text);
  if (Number.isNaN(v)) return { error: `“${text}” is not a number (e.g. 300B, 3e11, 0.5)` };
  return { value: v };
}

/** The field whose error path `path` is, if any. */
function fieldForPath(path) {
  return FIELDS.find((f) => path === f.err || path.startsWith(`${f.err}.`)) ?? null;
}

/** Splits the core's "hardware.utilisation: must be in (0, 1], got 1.5". */
function splitError(e) {
  const msg = String(e?.message ?? e);
  const i = msg.indexOf(': ');
  return i > 0 ? { path: msg.slice(0, i), message: msg.slice(i + 2) } : { path: '', message: msg };
}

function showFieldErrors(errors) {
  for (const f of FIELDS) {
    const msg = errors.get(f.key) ?? '';
    const el = inputOf(f);
    $(`#err-${f.key}`).textContent = msg;
    if (msg) el.setAttribute('aria-invalid', 'true');
    else el.removeAttribute('aria-invalid');
  }
}

function updatePrecisionOptions() {
  const gpu = P.gpus.find((g) => g.id === state.gpu) ?? baseInputs(state).hardware.gpu;
  for (const o of $('#f-precision').options) {
    o.disabled = gpu.peak_tflops[o.value] == null;
  }
}

function updateNotes() {
  const m = P.models.find((x) => x.id === state.preset);
  const trained = readTrained();
  $('#preset-note').textContent = state.preset === 'seed'
    ? 'Guosen Securities, 2023: N = 175B as stated, 300B tokens, 30 days on A100s at 50%.'
    : state.preset === 'trained'
      ? (trained ? `From the Train page: ${formatNumber(trained.tokens_trained)} tokens trained.` : 'No model from the Train page in this browser: showing the seed.')
      : m?.source ?? '';
  const g = P.gpus.find((x) => x.id === state.gpu);
  $('#gpu-note').textContent = g ? `${g.memory_gb} GB, ${g.tdp_w} W; peaks FP32 ${g.peak_tflops.fp32}, TF32 ${g.peak_tflops.tf32 ?? '–'}, FP16 ${g.peak_tflops.fp16 ?? '–'}, INT8 ${g.peak_tflops.int8 ?? '–'} (dense).` : '';
  const sv = P.servers.find((x) => x.id === state.server);
  $('#server-note').textContent = sv ? `${sv.name}: ${sv.gpus_per_server} GPUs, list price $${sv.price_usd.toLocaleString('en-US')}.` : '';
}

// ---- computing ----------------------------------------------------------------------------

/**
 * Reads the form and estimates. Every invalid field gets its message: the core names the first
 * bad field; that one is put back to its last valid value and the estimate retried, to find the
 * next. While any field is invalid the outputs keep showing the last valid scenario.
 */
function compute() {
  const base = baseInputs(state);
  const parsed = {};
  const errors = new Map();
  for (const f of FIELDS) {
    const r = readField(f);
    if ('error' in r) errors.set(f.key, r.error);
    else parsed[f.key] = r.value;
  }
  const lastValues = lastGood?.values ?? {};
  const apply = () => {
    const s = structuredClone(base);
    for (const f of FIELDS) {
      const v = !errors.has(f.key) ? parsed[f.key] : f.key in lastValues ? lastValues[f.key] : f.get(base, parsed);
      f.set(s, v);
    }
    return s;
  };
  let estimate = null, inputs = null, stray = '';
  for (let tries = 0; tries <= FIELDS.length; tries++) {
    inputs = apply();
    try {
      estimate = wasm.estimate(inputs);
      break;
    } catch (e) {
      const { path, message } = splitError(e);
      const f = fieldForPath(path);
      if (!f) { stray = String(e?.message ?? e); break; }
      if (errors.has(f.key)) break; // it depends on another field; its message is shown already
      errors.set(f.key, message);
    }
  }
  showFieldErrors(errors);
  if (stray) showMessage(stray);
  const ok = errors.size === 0 && !stray && estimate;
  $('#stale').hidden = Boolean(ok);
  $('#outputs').classList.toggle('stale', !ok);
  if (!ok) return;
  if (!stray) clearMessage();
  lastGood = { inputs, estimate, values: parsed, base };
  render(inputs, estimate);
  saveHash();
}

// ---- the URL hash -------------------------------------------------------------------------

// The link is written 150 ms after the last change, in a task of its own: history.replaceState
// makes Chromium save the scroll position, which lays the page out, and in the input handler,
// right after the outputs changed, that was a whole extra layout (30-70 ms) per keystroke.
// `data-hash-pending` is on the body while a write waits (the tests wait for it to go).
let hashTimer = 0; // a write waiting, or 0
function saveHash() {
  clearTimeout(hashTimer);
  document.body.dataset.hashPending = 'true';
  hashTimer = setTimeout(syncHash, 150);
}

/** Writes a waiting link now (before the page goes). */
function flushHash() {
  if (hashTimer) syncHash();
}

/**
 * Makes the link say the scenario on the page (`lastGood`), whatever happened to it: a write
 * waiting, or one made as the page went into the back-forward cache, which the browser may not keep.
 */
function syncHash() {
  clearTimeout(hashTimer);
  hashTimer = 0;
  delete document.body.dataset.hashPending;
  if (lastGood) writeHash(lastGood.base, lastGood.values);
}

/** The presets that differ from the defaults, then every field that differs from its preset. */
function writeHash(base, parsed) {
  const q = new URLSearchParams();
  const embed = /(^#|&)embed(=1)?(&|$)/.test(location.hash);
  if (embed) q.set('embed', '1');
  for (const k of ['preset', 'gpu', 'server']) if (state[k] !== DEFAULTS[k]) q.set(k, state[k]);
  for (const f of FIELDS) {
    const text = fmtValue(f, parsed[f.key]);
    if (text !== fmtValue(f, f.get(base, parsed))) q.set(f.key, text);
  }
  const hash = q.toString();
  const url = `${location.pathname}${location.search}${hash ? `#${hash}` : ''}`;
  if (url !== `${location.pathname}${location.search}${location.hash}`) {
    history.replaceState(null, '', url); // replaceState fires no hashchange
  }
}

/** Sets presets and fields from the hash; returns the keys it did not know. */
function readHash() {
  const q = new URLSearchParams(location.hash.slice(1));
  const unknown = [];
  for (const k of ['preset', 'gpu', 'server']) state[k] = DEFAULTS[k];
  const valid = {
    preset: (v) => v === 'seed' || v === 'trained' || P.models.some((m) => m.id === v),
    gpu: (v) => P.gpus.some((g) => g.id === v),
    server: (v) => P.servers.some((s) => s.id === v),
  };
  for (const k of ['preset', 'gpu', 'server']) {
    const v = q.get(k);
    if (v === null) continue;
    if (valid[k](v)) state[k] = v;
    else unknown.push(`${k}=${v}`);
  }
  if (state.preset === 'trained' && !readTrained()) {
    unknown.push('preset=trained (no model from the Train page in this browser)');
    state.preset = DEFAULTS.preset;
  }
  for (const el of ['preset', 'gpu', 'server']) $(`#f-${el}`).value = state[el];
  const base = baseInputs(state);
  fillFields(base);
  if (q.has('precision')) setFieldText(BY_KEY.precision, q.get('precision'));
  fillFields(base, ['peak']); // the peak at the linked precision
  for (const [k, v] of q) {
    if (k === 'embed' || k in DEFAULTS) continue;
    if (BY_KEY[k]) setFieldText(BY_KEY[k], v);
    else unknown.push(k);
  }
  updatePrecisionOptions();
  updateNotes();
  return unknown;
}

// ---- rendering ----------------------------------------------------------------------------


function el(tag, attrs = {}, ...children) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, v);
  e.append(...children.filter((c) => c !== null && c !== undefined));
  return e;
}

/** One output: label, value, and the formula with its numbers. `path` names it for tests and links. */
function qrow(path, label, q, cls = '') {
  return el('div', { class: `q ${cls}`.trim(), 'data-q': path },
    el('span', { class: 'q-label' }, label),
    el('span', { class: 'q-value' }, scientific(q.display)),
    el('code', { class: 'q-formula' }, superscripts(q.formula)));
}

function sub(text) {
  return el('h3', { class: 'q-sub' }, text);
}

/** GPUs, servers and their costs; with `reported`, also the counts as the report prints them. */
function deploymentRows(prefix, d, reported) {
  const rows = [
    qrow(`${prefix}.gpus_exact`, 'GPUs (exact)', d.gpus_exact),
    qrow(`${prefix}.gpus`, 'GPUs', d.gpus, 'key'),
  ];
  if (reported && d.gpus_reported.value !== d.gpus.value) rows.push(qrow(`${prefix}.gpus_reported`, 'GPUs, as the report prints', d.gpus_reported, 'key'));
  rows.push(qrow(`${prefix}.gpu_cost`, 'GPU cost', d.gpu_cost, 'key'));
  rows.push(qrow(`${prefix}.servers`, 'servers', d.servers));
  rows.push(qrow(`${prefix}.server_cost`, 'server cost', d.server_cost));
  if (reported && d.servers_reported.value !== d.servers.value) {
    rows.push(qrow(`${prefix}.servers_reported`, 'servers, as the report prints', d.servers_reported, 'key'));
    rows.push(qrow(`${prefix}.server_cost_reported`, 'server cost, as the report prices it', d.server_cost_reported, 'key'));
  }
  return rows;
}

function tile(id, label, value, note) {
  return el('div', { class: 'tile', 'data-glance': id },
    el('span', { class: 'tile-label' }, label),
    el('span', { class: 'tile-value' }, scientific(value)),
    note ? el('span', { class: 'tile-note' }, superscripts(note)) : null);
}

/** "1,558 GPUs" → "1,558" for a tile whose label names the unit. */
const strip = (display) => display.replace(/ (GPUs?|servers?|FLOPs)$/, '');

function render(s, e) {
  const tr = e.training, inf = e.inference, d = tr.deployment;
  const reading = inf.stated ?? inf.formula;
  const rd = reading.deployment;
  const hw = e.hardware;
  const server = s.hardware.server.name || 'servers';

  // At a glance.
  const reportedGpus = rd.gpus_reported.value !== rd.gpus.value;
  const reportedServers = rd.servers_reported.value !== rd.servers.value;
  $('#glance').replaceChildren(
    el('h3', { class: 'glance-h' }, `Training ${e.model.name || 'the model'} in ${formatNumber(s.training.days)} days`),
    tile('train-flops', 'FLOPs', strip(tr.flops.display), '6 × N × D'),
    tile('train-flops-per-s', 'for the deadline', tr.flop_per_s.display, `${formatNumber(s.training.days)} days`),
    tile('train-gpus', 'GPUs', strip(d.gpus.display), `${hw.gpu} at ${hw.effective.display}`),
    tile('train-gpu-cost', 'GPU cost', d.gpu_cost.display, `at $${s.hardware.gpu.price_usd.toLocaleString('en-US')} each`),
    tile('train-servers', 'servers', strip(d.servers.display), `${server}, ${s.hardware.server.gpus_per_server} GPUs each`),
    tile('train-server-cost', 'server cost', d.server_cost.display, `at $${s.hardware.server.price_usd.toLocaleString('en-US')} each`),
    el('h3', { class: 'glance-h' }, `Serving ${formatNumber(s.inference.queries_per_day)} queries a day${inf.stated ? ', as the report states' : ', 2N per token'}`),
    tile('infer-flops', 'FLOPs a day', strip(reading.flops_per_day.display), `for ${inf.tokens_per_day.display}${inf.stated ? ', as stated' : ''}`),
    tile('infer-flops-per-s', 'compute', reading.flop_per_s.display, 'FLOPs a day ÷ 86,400 s'),
    tile('infer-gpus', 'GPUs', strip((reportedGpus ? rd.gpus_reported : rd.gpus).display), reportedGpus ? `${rd.gpus.display} exact` : ''),
    tile('infer-gpu-cost', 'GPU cost', rd.gpu_cost.display, ''),
    tile('infer-servers', 'servers', strip((reportedServers ? rd.servers_reported : rd.servers).display), reportedServers ? `${rd.servers.display} exact` : ''),
    tile('infer-server-cost', 'server cost', (reportedServers ? rd.server_cost_reported : rd.server_cost).display, reportedServers ? `${rd.server_cost.display} for the exact count` : ''),
  );

  // Training.
  $('#out-training').replaceChildren(
    qrow('training.tokens', 'tokens D', tr.tokens),
    qrow('training.forward', 'forward FLOPs', tr.forward),
    qrow('training.backward', 'backward FLOPs', tr.backward),
    qrow('training.flops', 'training FLOPs', tr.flops, 'key'),
    qrow('training.attention_per_token', 'attention term per token', tr.attention_per_token),
    qrow('training.flop_per_s', 'compute for the deadline', tr.flop_per_s, 'key'),
    qrow('hardware.peak', 'peak per GPU', hw.peak),
    qrow('hardware.effective', 'effective per GPU', hw.effective),
    ...deploymentRows('training.deployment', d, false),
    qrow('training.gpu_hours', 'GPU-hours', tr.gpu_hours),
    qrow('training.energy', 'energy', tr.energy),
    qrow('training.inverse_days', `days with ${tr.inverse_gpus.display}`, tr.inverse_days),
    qrow('training.tokens_per_param', 'tokens per parameter', tr.tokens_per_param),
    qrow('training.chinchilla_tokens', 'compute-optimal tokens', tr.chinchilla_tokens),
  );

  // Inference: the report's figure beside the formula's.
  $('#out-inference-common').replaceChildren(qrow('inference.tokens_per_day', 'tokens per day', inf.tokens_per_day, 'key'));
  if (inf.stated) {
    const st = inf.stated;
    $('#out-inference-stated').replaceChildren(
      qrow('inference.stated.flops_per_day', 'FLOPs per day', st.flops_per_day, 'key'),
      qrow('inference.stated.flops_per_token', 'implied FLOPs per token', st.flops_per_token),
      qrow('inference.stated.flop_per_s', 'compute', st.flop_per_s, 'key'),
      ...deploymentRows('inference.stated.deployment', st.deployment, true),
    );
  } else {
    $('#out-inference-stated').replaceChildren(el('p', { class: 'explain' },
      'No stated figure. Enter “FLOPs per day, as a report states” to set a report’s number beside the formula’s.'));
  }
  const f = inf.formula;
  $('#out-inference-formula').replaceChildren(
    qrow('inference.formula.flops_per_token', 'FLOPs per token', f.flops_per_token),
    qrow('inference.formula.flops_per_day', 'FLOPs per day', f.flops_per_day, 'key'),
    qrow('inference.formula.flop_per_s', 'compute', f.flop_per_s, 'key'),
    ...deploymentRows('inference.formula.deployment', f.deployment, false),
  );
  $('#inference-note').hidden = !inf.note;
  $('#inference-note').textContent = inf.note ?? '';

  // Memory.
  const mem = e.memory, mt = mem.training, mi = mem.inference;
  const trainLabel = mt.precision === 'mixed' ? 'mixed precision + AdamW' : 'fp32 + AdamW';
  const group = (title, ...rows) => el('div', { class: 'memgroup' }, sub(title), ...rows);
  $('#out-memory').replaceChildren(
    group('Weights alone',
      qrow('memory.gpu_memory', 'one GPU holds', mem.gpu_memory),
      qrow('memory.weights_fp32', 'fp32', mem.weights_fp32),
      qrow('memory.weights_fp16', 'fp16/bf16', mem.weights_fp16),
      qrow('memory.weights_int8', 'int8', mem.weights_int8)),
    group(`Training state, ${trainLabel}`,
      qrow('memory.training.weights', 'weights', mt.weights),
      qrow('memory.training.gradients', 'gradients', mt.gradients),
      qrow('memory.training.optimizer', 'optimiser state', mt.optimizer),
      qrow('memory.training.total', 'total', mt.total, 'key'),
      qrow('memory.training.gpus_to_hold', 'GPUs just to hold it', mt.gpus_to_hold, 'key')),
    group(`Inference, ${mi.precision} weights`,
      qrow('memory.inference.weights', 'weights', mi.weights),
      qrow('memory.inference.overhead', 'overhead', mi.overhead),
      qrow('memory.inference.kv_cache', 'KV cache', mi.kv_cache),
      qrow('memory.inference.total', 'total', mi.total, 'key'),
      qrow('memory.inference.gpus_to_hold', 'GPUs just to hold it', mi.gpus_to_hold, 'key')),
  );
  memoryChart.update({
    gpuMemory: mem.gpu_memory.value,
    gpuLabel: mem.gpu_memory.display,
    bars: [
      {
        label: `Training state, ${trainLabel}: ${mt.total.display}, ${mt.gpus_to_hold.display} to hold it`,
        parts: [['weights', mt.weights], ['gradients', mt.gradients], ['optimiser', mt.optimizer]].map(([name, q]) => ({ name, bytes: q.value, display: q.display })),
      },
      {
        label: `Inference, ${mi.precision}: ${mi.total.display}, ${mi.gpus_to_hold.display} to hold it`,
        parts: [['weights', mi.weights], ['overhead', mi.overhead], ['KV cache', mi.kv_cache]].map(([name, q]) => ({ name, bytes: q.value, display: q.display })),
      },
    ],
  });

  // Parameters.
  const c = e.model.count;
  $('#out-params').replaceChildren(
    qrow('model.params', 'N, used by every formula', e.model.params, 'key'),
    qrow('model.count.wte', 'wte, token embedding', c.wte),
    qrow('model.count.wpe', 'wpe, position embedding', c.wpe),
    qrow('model.count.block', 'one block', c.block),
    qrow('model.count.attention', 'attention, all layers', c.attention),
    qrow('model.count.mlp', 'MLP, all layers', c.mlp),
    qrow('model.count.layer_norms', 'layer norms', c.layer_norms),
    qrow('model.count.biases', 'biases (within the above)', c.biases),
    qrow('model.count.lm_head', 'lm_head', c.lm_head),
    qrow('model.count.total', 'total from the shape', c.total, 'key'),
    qrow('model.count.kaplan', 'Kaplan’s 12·L·d²', c.kaplan),
  );
  $('#out-notes').replaceChildren(...e.notes.map((n) => el('li', {}, superscripts(n))));

  renderTrainedComparison(e);
  scheduleDeadlineChart(s, e);
  document.body.dataset.ready = 'true';
}

// The deadline chart (49 more estimates) is drawn in a task of its own after the outputs, so a
// keystroke's task stays short, and a keystroke that comes first replaces it.
// `data-chart-pending` is on the body while it waits.
let chartTimer = 0;
function scheduleDeadlineChart(s, e) {
  clearTimeout(chartTimer);
  document.body.dataset.chartPending = 'true';
  chartTimer = setTimeout(() => {
    delete document.body.dataset.chartPending;
    renderDeadlineChart(s, e);
  }, 0);
}

/** GPUs and costs at deadlines from 1 to 365 days (wider if the deadline is outside). */
function renderDeadlineChart(s, e) {
  const days = s.training.days;
  const lo = Math.min(1, days), hi = Math.max(365, days);
  const n = 48;
  const points = [];
  for (let i = 0; i <= n; i++) {
    const t = { ...s, training: { ...s.training, days: lo * (hi / lo) ** (i / n) } };
    try {
      const d = wasm.estimate(t).training.deployment;
      points.push({ days: t.training.days, gpus: d.gpus.value, serverCost: d.server_cost.value });
    } catch {
      // A deadline outside the supported range (under 0.001 days): leave the point out.
    }
  }
  const d = e.training.deployment;
  deadlineChart.update({
    points,
    gpuPrice: s.hardware.gpu.price_usd,
    current: {
      days, gpus: d.gpus.value, serverCost: d.server_cost.value,
      label: [`${formatNumber(days)} days`, `${d.gpus.display}, ${d.gpu_cost.display}`],
    },
  });
}

function renderTrainedComparison(e) {
  const box = $('#trained-compare');
  box.hidden = state.preset !== 'trained' || !readTrained() || !seedEstimate;
  if (box.hidden) return;
  const g = seedEstimate;
  const row = (label, mine, theirs) => el('tr', {},
    el('td', {}, label), el('td', {}, scientific(mine.display)), el('td', {}, scientific(theirs.display)),
    el('td', {}, `${formatRatio(theirs.value / mine.value)}×`));
  $('#trained-rows').replaceChildren(el('table', { class: 'data' },
    el('thead', {}, el('tr', {}, el('th', {}, ''), el('th', {}, 'your model'), el('th', {}, 'GPT-3 175B'), el('th', {}, 'GPT-3 is'))),
    el('tbody', {},
      row('parameters', e.model.params, g.model.params),
      row('training tokens', e.training.tokens, g.training.tokens),
      row('training FLOPs', e.training.flops, g.training.flops),
      row('GPU-hours on the hardware above', e.training.gpu_hours, g.training.gpu_hours))));
}

function formatRatio(r) {
  if (!Number.isFinite(r)) return '–';
  if (r >= 1e6 || r < 1e-3) return superscripts(r.toExponential(2).replace(/e\+?(-?\d+)/, ' × 10^$1'));
  return r.toLocaleString('en-US', { maximumSignificantDigits: 4 });
}

// ---- start --------------------------------------------------------------------------------

let deadlineChart, memoryChart;

async function start() {
  if (!simdAvailable()) {
    throw new Error('This browser does not run WebAssembly SIMD, which glassgpt needs (Chrome 91+, Firefox 89+, Safari 16.4+).');
  }
  await init();
  P = wasm.presets();
  seedEstimate = wasm.estimate(wasm.seedScenario());
  setBackend('simd128 · main thread', 'ready', 'the sizing functions are pure and cheap: they run on the page’s thread');
  buildForm();
  deadlineChart = new DeadlineChart($('#deadline-chart'));
  memoryChart = new MemoryChart($('#memory-chart'));

  const unknown = readHash();
  compute();
  if (unknown.length) showMessage(`This link has parts the calculator does not know, ignored: ${unknown.join(', ')}.`, 'warn');

  const form = $('#inputs');
  // Text boxes recompute as you type; selects and checkboxes when they change.
  form.addEventListener('input', (ev) => {
    if (ev.target.type === 'text') compute();
  });
  form.addEventListener('change', (ev) => {
    const t = ev.target;
    if (t.type === 'text') return;
    if (t.id === 'f-preset') {
      state.preset = t.value;
      fillFields(baseInputs(state), ['n_layer', 'n_embd', 'n_head', 'd_ff', 'vocab_size', 'block_size', 'tied', 'bias', 'params', 'tokens', 'stated']);
      updateNotes();
    } else if (t.id === 'f-gpu') {
      state.gpu = t.value;
      const base = baseInputs(state);
      const precision = $('#f-precision');
      precision.value = availablePrecision(base.hardware.gpu, precision.value);
      fillFields(base, ['peak', 'mem_gb', 'tdp', 'gpu_price']);
      updatePrecisionOptions();
      updateNotes();
    } else if (t.id === 'f-server') {
      state.server = t.value;
      fillFields(baseInputs(state), ['per_server', 'server_price']);
      updateNotes();
    } else if (t.id === 'f-precision') {
      fillFields(baseInputs(state), ['peak']); // a peak belongs to a precision
    }
    compute();
  });
  form.addEventListener('submit', (ev) => ev.preventDefault());
  $('#reset').addEventListener('click', () => {
    fillFields(baseInputs(state));
    compute();
    $('#action-status').textContent = 'Every field is back to the preset.';
  });
  window.addEventListener('pagehide', flushHash);
  window.addEventListener('pageshow', (e) => { if (e.persisted) syncHash(); });
  $('#copy-link').addEventListener('click', async () => {
    syncHash();
    try {
      await navigator.clipboard.writeText(location.href);
      $('#action-status').textContent = 'Link copied.';
    } catch {
      $('#action-status').textContent = `Copy this link: ${location.href}`;
    }
  });
  // A link pasted into this tab's address bar.
  window.addEventListener('hashchange', () => {
    const unknownNow = readHash();
    compute();
    if (unknownNow.length) showMessage(`This link has parts the calculator does not know, ignored: ${unknownNow.join(', ')}.`, 'warn');
  });
}

try {
  await start();
} catch (e) {
  setBackend('no core', 'error');
  showMessage(e.message ?? String(e));
}
