// The bench page: asks the worker for every measurement in turn and fills the tables. With
// `#auto=1` it runs at once and leaves the results in `window.benchResult` (for
// tests/bench/run.mjs, which drives it in headless Chromium). `#quick=1` runs the same steps on
// small sizes with few samples (seconds, not minutes: for the end-to-end test; its figures are
// not comparable).
import { renderChrome, setBackend, showMessage, cpuPill } from './site.js';
import { Engine } from './engine.js';

renderChrome('bench');

const QUICK = /(^#|&)quick=1/.test(location.hash);
const SQUARE = QUICK ? [64, 128] : [64, 128, 256, 512, 1024];
const BT = QUICK ? 64 : 16 * 128, C = 128, V = 65;
// A quick run's sizes in the page's explanations (each `data-quick` span holds its own wording).
if (QUICK) for (const span of document.querySelectorAll('[data-quick]')) span.textContent = span.dataset.quick;
const SHAPES = [
  ['attn.c_attn (BT,C)·(3C,C)ᵀ', BT, C, 3 * C],
  ['attn.c_proj (BT,C)·(C,C)ᵀ', BT, C, C],
  ['mlp.c_fc (BT,C)·(4C,C)ᵀ', BT, C, 4 * C],
  ['mlp.c_proj (BT,4C)·(C,4C)ᵀ', BT, 4 * C, C],
  ['lm_head (BT,C)·(V,C)ᵀ', BT, C, V],
];
// Sizes past which a backend takes too long to be worth a row: the scalar reference, and WebGPU
// round trips on a software adapter (SwiftShader); a hardware adapter runs every size.
const MAX_FLOPS = { scalar: 2 * 256 ** 3, softwareWebgpu: 2 * 256 ** 3 };
// The shipped model, which the WebGPU rows of the model table run resident on the GPU.
const MODEL_URL = new URL('models/shakespeare.safetensors', location.href).href;

const $ = (id) => document.getElementById(id);
const fact = (name, text) => { document.querySelector(`[data-fact="${name}"]`).textContent = text; };
const fmt = (x, d = 1) => (x >= 100 ? x.toFixed(0) : x.toFixed(d));

let engine;
let backends;
try {
  // `#relaxed=0` measures the plain simd128 kernels where relaxed SIMD is available.
  // `gpu: 'cpu'`: the worker keeps no GPU mirror of the model it loads for the WebGPU rows (they
  // make and free their own).
  engine = await Engine.start({ relaxed: /(^#|&)relaxed=0/.test(location.hash) ? 'off' : 'auto', gpu: 'cpu' });
  showBackends(await engine.call('backends'));
  // A threaded build's pool that comes up after the page gave up waiting: its kernels join the
  // next run (a run in progress keeps the columns it started with).
  engine.on('backend', async (b) => {
    if (b.why === 'pool' && b.pool === 'up' && $('run').disabled === false) showBackends(await engine.call('backends'));
  });
  $('run').addEventListener('click', () => run());
  if (/(^#|&)auto=1/.test(location.hash)) run();
} catch (e) {
  setBackend('no core', 'error');
  showMessage(e.message);
}

/** The page's facts and pill for the worker's `backends` answer (kept for the next run). */
function showBackends(b) {
  backends = b;
  // The threaded build's kernels are benchmarked only with its pool up (else the page says why).
  const pooled = b.cpu.includes('threads');
  const threads = pooled ? b.threads : 1;
  fact('build', `${b.build}${b.relaxed ? ' + relaxed SIMD' : ''} (${threads} thread${threads > 1 ? 's' : ''}; kernel ${engine.info.isa})${b.poolNote ? `: ${b.poolNote}` : ''}`);
  fact('cpu', b.cpu.join(', '));
  fact('webgpu', b.webgpu ? `${b.webgpu}${b.webgpuSoftware ? ' (a software adapter: its figures say nothing of a GPU\'s)' : ''}` : 'no adapter in this browser');
  setBackend(cpuPill({ pooled, threads, why: b.build === 'threads' ? ' (no pool)' : '', relaxed: b.relaxed }), 'ready', b.poolNote);
}

async function run() {
  $('run').disabled = true;
  const cols = [...backends.cpu, ...(backends.webgpu ? ['webgpu'] : [])];
  const result = { build: backends.build, threads: backends.threads, relaxed: backends.relaxed, isa: engine.info.isa, webgpu: backends.webgpu, webgpuSoftware: backends.webgpuSoftware, userAgent: navigator.userAgent, matmul: [], model: [] };
  const head = $('mm-table').tHead;
  head.innerHTML = `<tr><th>shape (M × K × N)</th><th>op</th>${cols.map((c) => `<th>${c}</th>`).join('')}</tr>`;
  const body = $('mm-table').tBodies[0];
  body.replaceChildren();
  try {
    const rows = [
      ...SQUARE.map((n) => [`n = ${n}`, n, n, n, 'forward']),
      ...SHAPES.map(([label, m, k, n]) => [label, m, k, n, 'forward']),
      ...SHAPES.slice(0, 1).map(([label, m, k, n]) => [label, m, k, n, 'backward']),
    ];
    for (const [label, m, k, n, op] of rows) {
      const tr = body.insertRow();
      tr.innerHTML = `<td>${label} <span class="explain">(${m}×${k}×${n})</span></td><td>${op}</td>`;
      for (const backend of cols) {
        const td = tr.insertCell();
        const flops = (op === 'forward' ? 2 : 4) * m * k * n;
        const cap = backend === 'webgpu' ? (backends.webgpuSoftware ? MAX_FLOPS.softwareWebgpu : Infinity) : MAX_FLOPS[backend] ?? Infinity;
        if (flops > cap || (backend === 'webgpu' && op !== 'forward')) {
          td.textContent = '–';
          continue;
        }
        $('status').textContent = `${label} ${op} on ${backend}…`;
        const samples = QUICK ? 2 : backend === 'webgpu' ? 3 : 9;
        const r = await engine.call('bench', { kind: 'matmul', backend, op, m, k, n, samples, minSampleMs: QUICK ? 1 : 20 });
        result.matmul.push({ label, ...r });
        td.textContent = fmt(r.gflops);
        td.title = `median ${r.median_ms.toFixed(3)} ms; ${fmt(r.gflops_worst)}–${fmt(r.gflops_best)} GFLOPS`;
      }
    }
    if (backends.cpu.includes('threads')) result.scaling = await scaling();
    const mbody = $('model-table').tBodies[0];
    mbody.replaceChildren();
    const modelRow = async (kind, backend, args) => {
      $('status').textContent = `${kind} on ${backend}…`;
      const r = await engine.call('bench', { kind, backend, ...args });
      result.model.push({ kind, ...r });
      const tr = mbody.insertRow();
      const per = kind === 'generate' ? 'ms/token' : 'ms';
      tr.innerHTML = `<td>${r.what}</td><td>${backend}</td><td>${r.median_ms.toFixed(2)} ${per}</td>
        <td>${r.min_ms.toFixed(2)} – ${r.max_ms.toFixed(2)}</td><td>${Math.round(r.tokens_per_s).toLocaleString('en-US')} tok/s</td>`;
    };
    for (const backend of backends.cpu.filter((b) => b !== 'scalar')) {
      await modelRow('train', backend, { batch: QUICK ? 2 : 16, samples: QUICK ? 1 : 5 });
      await modelRow('forward', backend, { samples: QUICK ? 2 : 20 });
      await modelRow('generate', backend, { tokens: QUICK ? 20 : 120, samples: QUICK ? 1 : 5 });
    }
    // WebGPU: the shipped model resident on the GPU, trained and run forward as the pages use it
    // (its generation runs on the CPU: a KV-cached character is microseconds there). Last, and on
    // their own: a model that cannot be fetched or a GPU that fails costs only these rows. On a
    // software adapter a step takes seconds (SwiftShader: ~12 s at B = 2), so there it runs at
    // B = 2, once.
    if (backends.webgpu) {
      try {
        $('status').textContent = 'loading the shipped model for the WebGPU rows…';
        await engine.call('loadModel', { url: MODEL_URL });
        const slow = QUICK || backends.webgpuSoftware;
        await modelRow('train', 'webgpu', { batch: slow ? 2 : 16, samples: slow ? 1 : 5 });
        await modelRow('forward', 'webgpu', { samples: slow ? 2 : 20 });
      } catch (e) {
        showMessage(`The WebGPU model rows could not run: ${e.message}`, 'warn');
        result.webgpuModelError = e.message;
      }
    }
    $('status').textContent = QUICK ? 'done (a quick run: small sizes, few samples; the figures are not comparable)' : 'done';
  } catch (e) {
    showMessage(`The benchmark stopped: ${e.message}`);
    $('status').textContent = 'stopped';
    result.error = e.message;
  }
  $('run').disabled = false;
  window.benchResult = result;
  document.body.dataset.benchDone = 'true';
}

/**
 * The threaded matmul against the single-thread one, measured so that the machine's drift from
 * minute to minute cancels: for each size, rounds that time the two back to back (each in turn
 * first), and the ratio of each round's two GFLOPS. Returns every round's figures and the median
 * ratio per size; fills the scaling table.
 */
async function scaling(sizes = QUICK ? [64, 128] : [256, 512, 1024], rounds = QUICK ? 3 : 7) {
  const median = (xs) => [...xs].sort((a, b) => a - b)[xs.length >> 1];
  const args = QUICK ? { samples: 2, minSampleMs: 1 } : { samples: 5, minSampleMs: 40 };
  const gflops = async (backend, n) => (await engine.call('bench', { kind: 'matmul', backend, op: 'forward', m: n, k: n, n, ...args })).gflops;
  const body = $('scaling-table').tBodies[0];
  body.replaceChildren();
  $('scaling-h').textContent = `${backends.threads} threads ÷ one`;
  $('scaling').hidden = false;
  const out = [];
  for (const n of sizes) {
    const row = { n, one: [], threads: [], ratio: [] };
    for (let r = 0; r < rounds; r++) {
      $('status').textContent = `${backends.threads} threads ÷ one at n = ${n}, round ${r + 1} of ${rounds}…`;
      const g = {};
      for (const backend of r % 2 ? ['threads', 'simd128'] : ['simd128', 'threads']) g[backend] = await gflops(backend, n);
      row.one.push(g.simd128);
      row.threads.push(g.threads);
      row.ratio.push(g.threads / g.simd128);
    }
    row.ratio_median = median(row.ratio);
    out.push(row);
    const tr = body.insertRow();
    tr.innerHTML = `<td>n = ${n}</td><td>${fmt(median(row.one))}</td><td>${fmt(median(row.threads))}</td>
      <td><strong>${row.ratio_median.toFixed(2)}×</strong></td><td>${fmt(Math.min(...row.ratio), 2)} – ${fmt(Math.max(...row.ratio), 2)}</td>`;
  }
  return out;
}
