// Live inbox badge for console pages (served at /console/scripts/notifications.js; no inline
// script, CSP default-src 'self'). Listens to GET /console/events (server-sent events) and keeps
// the element #inbox-badge in step with the unread count; new notifications are announced in a
// polite live region (#live-announcer) so screen-reader users hear them without losing focus.
(function () {
  'use strict';
  if (typeof window.EventSource !== 'function') return;

  function announcer() {
    var region = document.getElementById('live-announcer');
    if (region) return region;
    region = document.createElement('div');
    region.id = 'live-announcer';
    region.setAttribute('role', 'status');
    region.setAttribute('aria-live', 'polite');
    region.className = 'visually-hidden';
    document.body.appendChild(region);
    return region;
  }

  function setBadge(count) {
    var badge = document.getElementById('inbox-badge');
    if (!badge || typeof count !== 'number') return;
    badge.textContent = String(count);
    badge.hidden = count === 0;
    badge.setAttribute('aria-label', count === 1 ? '1 unread notification' : count + ' unread notifications');
  }

  function parse(event) {
    try {
      return JSON.parse(event.data);
    } catch (error) {
      return null;
    }
  }

  var source = new EventSource('/console/events');
  source.addEventListener('unread', function (event) {
    var data = parse(event);
    if (data) setBadge(data.unread);
  });
  source.addEventListener('notification', function (event) {
    var data = parse(event);
    if (!data) return;
    setBadge(data.unread);
    // textContent, never innerHTML: the text names ids that came from agents.
    announcer().textContent = data.text || 'New notification';
  });
  window.addEventListener('pagehide', function () {
    source.close();
  });
})();
