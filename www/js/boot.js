// Starts the playground's model worker as early as the page allows: an async module of its own
// (engine.js and nothing else), so the worker loads its wasm build and downloads the model while
// the page's larger module graph (playground.js and its widgets) is still loading.
// playground.js takes the engine from `globalThis.glassgptBoot`, or starts one itself when this
// did not run.
import { Engine } from './engine.js';

const backend = new URLSearchParams(location.hash.slice(1)).get('backend');
globalThis.glassgptBoot = Engine.start({
  gpu: ['auto', 'webgpu', 'cpu'].includes(backend) ? backend : 'auto',
  prefetch: new URL('models/shakespeare.safetensors', location.href).href,
});
