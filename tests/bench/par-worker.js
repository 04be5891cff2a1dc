// One glassgpt build in a worker, for par.html: answers { n, backend } with that backend's matmul
// GFLOPS. A threaded build (?build=pkg-threads…) starts its pool of ?threads= workers first.
const q = new URL(location.href).searchParams;
const build = q.get('build') ?? 'pkg';
try {
  const gg = await import(new URL(`../${build}/glassgpt.js`, location.href).href);
  await gg.default();
  if (build.startsWith('pkg-threads')) {
    await gg.initThreadPool(Number(q.get('threads') ?? 2));
    gg.poolStarted();
  }
  onmessage = ({ data: { n, backend } }) => {
    try {
      postMessage({ gflops: gg.benchMatmul(backend, 'forward', n, n, n, 5, 40).gflops });
    } catch (e) {
      postMessage({ error: String(e.message ?? e) });
    }
  };
  postMessage({ ready: true });
} catch (e) {
  postMessage({ error: `${build}: ${e.message ?? e}` });
}
