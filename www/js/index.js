// The landing page: starts the engine and shows what the core reports.
import { renderChrome, setBackend, showMessage } from './site.js';
import { Engine } from './engine.js';

renderChrome('playground');

const fact = (name, text, cls) => {
  const el = document.querySelector(`[data-fact="${name}"]`);
  el.textContent = text;
  if (cls) el.className = cls;
};

try {
  const engine = await Engine.start();
  const { version, build, threads, note } = engine.info;
  fact('version', version);
  fact('build', build);
  fact('threads', String(threads));
  fact('coi', String(globalThis.crossOriginIsolated === true));
  document.getElementById('core-note').textContent = note;
  setBackend(build === 'threads' ? `threads · ${threads} workers` : 'simd128 · 1 thread', 'ready', note);
  const mm = await engine.call('matmulCheck', { m: 7, k: 13, n: 5 });
  fact('mm-shape', `(${mm.m}, ${mm.k}) · (${mm.n}, ${mm.k})ᵀ`);
  fact('mm-diff', mm.maxDiff.toExponential(2));
  const ok = mm.maxDiff < 1e-5;
  fact('mm-verdict', ok ? 'agrees' : 'DISAGREES', ok ? 'ok' : 'fail');
  document.body.dataset.ready = 'true';
} catch (e) {
  setBackend('no core', 'error');
  showMessage(e.message);
}
