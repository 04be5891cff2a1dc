// The "Embed" button in the header: a dialog with copy-paste snippets for putting what the page
// shows now into another page, as a custom element (embed.js) and as an iframe of this page with
// its current state in the hash and `embed=1` (which hides the site's chrome).

const esc = (s) => String(s).replace(/&/g, '&amp;').replace(/"/g, '&quot;').replace(/</g, '&lt;');

/**
 * Adds the button. `element()` returns the custom element's markup for the current state (or
 * '' when the page has none).
 */
export function addEmbedButton(element, { flush } = {}) {
  const header = document.getElementById('site-header');
  if (!header) return;
  const button = document.createElement('button');
  button.type = 'button';
  button.className = 'embed-button';
  button.id = 'embed-button';
  button.textContent = 'Embed';
  button.setAttribute('aria-haspopup', 'dialog');
  header.querySelector('nav')?.after(button);

  const dialog = document.createElement('dialog');
  dialog.className = 'embed-dialog';
  dialog.id = 'embed-dialog';
  dialog.setAttribute('aria-labelledby', 'embed-dialog-h');
  dialog.innerHTML = `<form method="dialog">
    <h2 id="embed-dialog-h">Embed this in your page</h2>
    <p>As a widget (one script tag, then the element anywhere in the article):</p>
    <textarea id="embed-snippet-element" rows="4" readonly spellcheck="false"></textarea>
    <p>Or the whole page, as it is now, in an iframe:</p>
    <textarea id="embed-snippet-iframe" rows="3" readonly spellcheck="false"></textarea>
    <p class="note">The widgets load everything from this site, nothing from anywhere else. See <a href="embed.html">embed.html</a>.</p>
    <div class="actions"><button type="button" id="embed-copy">Copy the widget</button>
    <button type="button" id="embed-copy-iframe">Copy the iframe</button><button value="close">Close</button></div>
  </form>`;
  document.body.append(dialog);
  const base = new URL('../', import.meta.url);
  const $ = (id) => dialog.querySelector(`#${id}`);

  button.addEventListener('click', () => {
    flush?.(); // a link write the page still holds back goes into the iframe's address
    const el = element();
    $('embed-snippet-element').value = el
      ? `<script type="module" src="${base.href}embed.js"></script>\n${el}`
      : 'This page has no widget form; use the iframe.';
    const hash = location.hash.replace(/^#/, '').split('&').filter((p) => p && !/^embed(=|$)/.test(p));
    const page = location.pathname.split('/').pop() || 'index.html';
    const src = `${new URL(page, base).href}#${['embed=1', ...hash].join('&')}`;
    $('embed-snippet-iframe').value = `<iframe src="${esc(src)}" width="100%" height="720" style="border:0" title="glassgpt" loading="lazy"></iframe>`;
    dialog.showModal();
  });
  const copy = (id, btn) => async () => {
    try {
      await navigator.clipboard.writeText($(id).value);
      $(btn).textContent = 'Copied';
    } catch {
      $(id).select(); // the reader copies it by hand
    }
  };
  $('embed-copy').addEventListener('click', copy('embed-snippet-element', 'embed-copy'));
  $('embed-copy-iframe').addEventListener('click', copy('embed-snippet-iframe', 'embed-copy-iframe'));
}

/** An attribute list for a snippet: attr('prompt', 'To be') → ` prompt="To be"`. */
export function attr(name, value) {
  return ` ${name}="${esc(value)}"`;
}
