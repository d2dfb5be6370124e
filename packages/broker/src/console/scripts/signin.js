// Usernameless passkey sign-in: options from the server, assertion by the authenticator, verified by the server.
(function () {
  'use strict';
  var button = document.getElementById('passkey-signin');
  if (!button) return;
  window.MandateCeremony.run(button, async function () {
    var optionsJSON = await window.MandateCeremony.post('/console/signin/options');
    var response = await window.SimpleWebAuthnBrowser.startAuthentication({ optionsJSON: optionsJSON });
    return window.MandateCeremony.post('/console/signin', { response: response, next: button.dataset.next });
  });
})();
