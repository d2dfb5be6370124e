// Approve or resume a mandate: the server derives the WebAuthn challenge from the task digest, the
// mandate id, the decision and a single-use nonce; the passkey signs it; the server checks it.
(function () {
  'use strict';
  [['passkey-approve', '/console/approve/'], ['passkey-resume', '/console/resume/']].forEach(function (pair) {
    var button = document.getElementById(pair[0]);
    if (!button) return;
    var base = pair[1] + encodeURIComponent(button.dataset.mandate);
    window.MandateCeremony.run(button, async function () {
      var ceremony = await window.MandateCeremony.post(base + '/options');
      var response = await window.SimpleWebAuthnBrowser.startAuthentication({ optionsJSON: ceremony.options });
      return window.MandateCeremony.post(base, { nonce: ceremony.nonce, response: response });
    });
  });
})();
