// The embedding guide (embed.html): its chrome, and the snippets written for the URL it is served from.
import { renderChrome, setBackend } from './site.js';

renderChrome('embed');
const base = new URL('../', import.meta.url).href;
const fill = (name, text) => { for (const el of document.querySelectorAll(`[data-snippet="${name}"]`)) el.textContent = text; };
fill('script', `<script type="module" src="${base}embed.js"></script>`);
fill('iframe', `<iframe src="${base}index.html#embed=1" width="100%" height="720" style="border:0" title="glassgpt playground" loading="lazy"></iframe>`);
setBackend('widgets below', 'ready');
document.body.dataset.ready = 'true';
