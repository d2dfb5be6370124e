// Shared by the console's WebAuthn pages (loaded with `defer`; no inline script anywhere, CSP 'self').
// Exposes window.MandateCeremony = { post, run }.
(function () {
  'use strict';
  function csrf() {
    var meta = document.querySelector('meta[name="csrf-token"]');
    return meta ? meta.getAttribute('content') : null;
  }
  /** POSTs JSON to a console endpoint; rejects with the server's detail on an error status. */
  async function post(url, body) {
    var headers = { 'content-type': 'application/json' };
    var token = csrf();
    if (token) headers['x-csrf-token'] = token;
    var res = await fetch(url, { method: 'POST', headers: headers, body: JSON.stringify(body || {}), credentials: 'same-origin' });
    var data = await res.json().catch(function () { return {}; });
    if (!res.ok) throw new Error((data.detail || 'request failed') + (data.code ? ' (' + data.code + ')' : ''));
    return data;
  }
  /** Runs `work` when `button` is pressed, reporting progress in the page's live region. */
  function run(button, work) {
    var status = document.getElementById('ceremony-status');
    button.addEventListener('click', async function () {
      button.disabled = true;
      status.textContent = 'Waiting for your passkey…';
      try {
        var result = await work();
        status.textContent = 'Done.';
        if (result && result.redirect) window.location.assign(result.redirect);
      } catch (error) {
        status.textContent = 'Failed: ' + (error && error.message ? error.message : String(error));
        button.disabled = false;
      }
    });
  }
  window.MandateCeremony = { post: post, run: run };
})();
