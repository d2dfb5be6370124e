// Passkey enrolment from a one-time invite link.
(function () {
  'use strict';
  var button = document.getElementById('passkey-enroll');
  if (!button) return;
  var base = '/console/enroll/' + encodeURIComponent(button.dataset.token);
  window.MandateCeremony.run(button, async function () {
    var optionsJSON = await window.MandateCeremony.post(base + '/options');
    var response = await window.SimpleWebAuthnBrowser.startRegistration({ optionsJSON: optionsJSON });
    return window.MandateCeremony.post(base, { response: response });
  });
})();
