// One glassgpt build in a worker, for par.html: answers { n, backend, samples } by running that many
// (n × n) · (n × n)ᵀ products (and the bench's warm-up and calibration call: samples + 2 in all)
// on that backend, then { done: true }. par.html times it from outside. A threaded build
// (?build=pkg-threads…) starts its pool of ?threads= workers first.
const q = new URL(location.href).searchParams;
const build = q.get('build') ?? 'pkg';
try {
  const gg = await import(new URL(`../${build}/glassgpt.js`, location.href).href);
  await gg.default();
  if (build.startsWith('pkg-threads')) {
    await gg.initThreadPool(Number(q.get('threads') ?? 2));
    gg.poolStarted();
  }
  onmessage = ({ data: { n, backend, samples } }) => {
    try {
      gg.benchMatmul(backend, 'forward', n, n, n, samples, 0); // min 0 ms: one product per sample
      postMessage({ done: true });
    } catch (e) {
      postMessage({ error: String(e.message ?? e) });
    }
  };
  postMessage({ ready: true });
} catch (e) {
  postMessage({ error: `${build}: ${e.message ?? e}` });
}
