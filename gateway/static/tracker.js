/*! Beckon tracker: clickstream beacons and proactive chat invitations.
 *
 *   <script src="https://beckon.example/v1/tracker.js" data-widget="shop"
 *           data-endpoint="https://beckon.example"></script>
 *
 * data-widget   the widget id (required)
 * data-endpoint base URL of ingest (/v1/events, /v1/token); default: the
 *               script's own origin
 * data-gateway  base URL of the gateway (/v1/invitations); default: endpoint
 *
 * window.beckon.track(name)      records a custom event
 * window.beckon.onInvitation     set it to a function(invitation) to render
 *                                invitations yourself; otherwise a small
 *                                pop-up is shown
 * window.beckon.visitorId        the anonymous visitor id
 *
 * No dependencies, no cookies of its own: the visitor id lives in
 * localStorage.
 */
(function () {
  'use strict';
  if (window.beckon && window.beckon.loaded) return;

  var script = document.currentScript ||
    document.querySelector('script[data-widget][src*="tracker.js"]');
  if (!script) return;
  var widget = script.getAttribute('data-widget') || '';
  var ID = /^[A-Za-z0-9_-]{1,128}$/;
  if (!ID.test(widget)) {
    if (window.console) console.warn('beckon: data-widget must be 1-128 of A-Z a-z 0-9 _ -');
    return;
  }
  var origin = script.src ? new URL(script.src, location.href).origin : location.origin;
  var endpoint = (script.getAttribute('data-endpoint') || origin).replace(/\/+$/, '');
  var gateway = (script.getAttribute('data-gateway') || endpoint).replace(/\/+$/, '');

  var HEARTBEAT_MS = 5000;
  var MAX_QUEUE = 500;         // events kept while ingest is unreachable
  var MAX_BATCH = 50;          // events per request (ingest takes 100)
  var MAX_BATCH_BYTES = 16384; // well under the 64 KiB keepalive budget
  var MAX_FIELD = 2048;        // long URLs and titles are cut, not rejected

  // --- ids -----------------------------------------------------------
  var ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';
  function randomID(n) {
    var out = '', bytes = new Uint8Array(n);
    if (window.crypto && crypto.getRandomValues) crypto.getRandomValues(bytes);
    else for (var i = 0; i < n; i++) bytes[i] = Math.floor(Math.random() * 256);
    for (var j = 0; j < n; j++) out += ALPHABET[bytes[j] % ALPHABET.length];
    return out;
  }
  function stored(key, make) {
    try {
      var v = localStorage.getItem(key);
      if (v && ID.test(v)) return v;
      v = make();
      localStorage.setItem(key, v);
      return v;
    } catch (e) { // storage disabled: an id for this page only
      return make();
    }
  }
  var visitor = stored('beckon_vid', function () { return randomID(22); });
  var pageKey = randomID(10); // event ids: unique per page load and counter
  var counter = 0;
  function eventID() { return pageKey + '-' + (counter++).toString(36); }

  // --- the queue and sending -----------------------------------------
  var queue = [];
  var inFlight = false, retryTimer = null, flushTimer = null, backoff = 1000;

  function cut(s) { return s && s.length > MAX_FIELD ? s.slice(0, MAX_FIELD) : s; }
  function enqueue(type, extra) {
    var ev = {
      id: eventID(), type: type, widget_id: widget, visitor_id: visitor,
      url: cut(location.href), client_ts: new Date().toISOString()
    };
    for (var k in extra) if (extra[k]) ev[k] = cut(extra[k]);
    queue.push(ev);
    if (queue.length > MAX_QUEUE) queue.splice(0, queue.length - MAX_QUEUE);
    if (!flushTimer && !retryTimer) flushTimer = setTimeout(flush, 50); // batch a burst
  }

  // takeBatch returns the JSON of the next batch and how many events it holds.
  function takeBatch() {
    var parts = [], bytes = 2, sent = new Date().toISOString();
    for (var i = 0; i < queue.length && i < MAX_BATCH; i++) {
      queue[i].sent_ts = sent;
      var s = JSON.stringify(queue[i]);
      if (parts.length && bytes + s.length + 1 > MAX_BATCH_BYTES) break;
      parts.push(s);
      bytes += s.length + 1;
    }
    return { body: '[' + parts.join(',') + ']', n: parts.length };
  }

  function flush() {
    flushTimer = null;
    if (inFlight || retryTimer || !queue.length) return;
    var b = takeBatch();
    inFlight = true;
    // text/plain keeps it a simple request: no CORS preflight.
    fetch(endpoint + '/v1/events', {
      method: 'POST', body: b.body, keepalive: true, credentials: 'include',
      headers: { 'Content-Type': 'text/plain;charset=UTF-8' }
    }).then(function (r) {
      inFlight = false;
      if (r.status === 503 || r.status === 429 || r.status >= 500) {
        retry(parseInt(r.headers.get('Retry-After'), 10) * 1000);
        return;
      }
      // Stored, or rejected for good (400, 413): either way not again.
      if (!r.ok && window.console) console.warn('beckon: ingest answered ' + r.status);
      queue.splice(0, b.n);
      backoff = 1000;
      if (queue.length) flush();
    }, function () { // network error: the same ids are resent, so no duplicates
      inFlight = false;
      retry(0);
    });
  }

  function retry(hint) {
    var wait = Math.max(hint || 0, backoff * (0.5 + Math.random() / 2));
    backoff = Math.min(backoff * 2, 60000);
    retryTimer = setTimeout(function () { retryTimer = null; flush(); }, wait);
  }

  // beaconAll hands the queue to the browser as the page goes away: a
  // fetch might not finish, sendBeacon does.
  function beaconAll() {
    if (!navigator.sendBeacon) { flush(); return; }
    while (queue.length) {
      var b = takeBatch();
      var blob = new Blob([b.body], { type: 'text/plain;charset=UTF-8' });
      if (!navigator.sendBeacon(endpoint + '/v1/events', blob)) return; // over quota: keep them
      queue.splice(0, b.n);
    }
  }

  // --- page lifecycle ------------------------------------------------
  var currentURL = location.href, left = false;
  function pageView(referrer) {
    currentURL = location.href;
    enqueue('page_view', { referrer: referrer, title: document.title });
  }
  function maybeNavigated() {
    // After the router has run, so that the new title is in place.
    setTimeout(function () {
      if (location.href !== currentURL) pageView(currentURL);
    }, 0);
  }
  ['pushState', 'replaceState'].forEach(function (m) {
    var orig = history[m];
    if (typeof orig !== 'function') return;
    history[m] = function () {
      var r = orig.apply(this, arguments);
      maybeNavigated();
      return r;
    };
  });
  window.addEventListener('popstate', maybeNavigated);
  window.addEventListener('hashchange', maybeNavigated);

  setInterval(function () {
    if (document.visibilityState === 'visible') enqueue('heartbeat', {});
  }, HEARTBEAT_MS);

  function leave() {
    if (left) return;
    left = true;
    enqueue('leave', {});
    beaconAll();
  }
  document.addEventListener('visibilitychange', function () {
    if (document.visibilityState === 'hidden') {
      leave();
    } else if (left) {
      left = false;
      enqueue('heartbeat', {}); // present again
    }
  });
  window.addEventListener('pagehide', leave);

  // --- invitations -----------------------------------------------------
  var SEEN_KEY = 'beckon_seen';
  function seenList() {
    try { return JSON.parse(sessionStorage.getItem(SEEN_KEY)) || []; } catch (e) { return []; }
  }
  function markSeen(id) {
    var list = seenList();
    list.push(id);
    try { sessionStorage.setItem(SEEN_KEY, JSON.stringify(list.slice(-50))); } catch (e) {}
  }

  var lastEventId = '', es = null, streamBackoff = 1000;
  function connect() {
    fetch(endpoint + '/v1/token?widget_id=' + encodeURIComponent(widget) +
      '&visitor_id=' + encodeURIComponent(visitor), { credentials: 'include' })
      .then(function (r) {
        if (!r.ok) throw new Error('token: ' + r.status);
        return r.json();
      })
      .then(function (t) {
        var url = gateway + '/v1/invitations?token=' + encodeURIComponent(t.token);
        if (lastEventId) url += '&lastEventId=' + encodeURIComponent(lastEventId);
        es = new EventSource(url);
        es.onopen = function () { streamBackoff = 1000; };
        es.addEventListener('invitation', onInvitation);
        es.onerror = function () {
          // EventSource retries network drops itself (with Last-Event-ID);
          // an HTTP error (expired token, 503) closes it for good.
          if (es.readyState === EventSource.CLOSED) reconnect();
        };
      })
      .catch(reconnect);
  }
  function reconnect() {
    if (es) { es.close(); es = null; }
    var wait = streamBackoff * (0.5 + Math.random() / 2);
    streamBackoff = Math.min(streamBackoff * 2, 60000);
    setTimeout(connect, wait);
  }

  function onInvitation(e) {
    if (e.lastEventId) lastEventId = e.lastEventId;
    var inv;
    try { inv = JSON.parse(e.data); } catch (err) { return; }
    if (seenList().indexOf(inv.invitation_id) >= 0) return; // shown on an earlier page
    markSeen(inv.invitation_id);
    var hook = api.onInvitation;
    if (typeof hook === 'function') {
      try { hook(inv); } catch (err) { if (window.console) console.error(err); }
      return;
    }
    show(inv);
  }

  // show renders the default pop-up. Text goes in with textContent: an
  // invitation's fields are data, never markup.
  function show(inv) {
    var old = document.getElementById('beckon-invitation');
    if (old) old.remove();
    var box = el('div', 'beckon-invitation', null);
    box.id = 'beckon-invitation';
    box.setAttribute('role', 'dialog');
    box.setAttribute('aria-live', 'polite');
    box.setAttribute('data-invitation-id', inv.invitation_id || '');
    box.setAttribute('data-department', inv.department || '');
    box.style.cssText = 'position:fixed;right:20px;bottom:20px;z-index:2147483647;' +
      'max-width:320px;padding:16px;border-radius:12px;background:#fff;color:#222;' +
      'font:14px/1.4 system-ui,sans-serif;box-shadow:0 8px 30px rgba(0,0,0,.25)';
    // An absolute http(s) URL, or a path on the gateway's own origin.
    var src = /^https?:\/\//.test(inv.image_url || '') ? inv.image_url :
      /^\/[^\/]/.test(inv.image_url || '') ? gateway + inv.image_url : '';
    if (src) {
      var img = el('img', 'beckon-image', null);
      img.src = src;
      img.alt = '';
      img.style.cssText = 'width:48px;height:48px;border-radius:50%;float:left;margin:0 12px 8px 0';
      box.appendChild(img);
    }
    if (inv.title) box.appendChild(el('div', 'beckon-title', inv.title, 'font-weight:600;font-size:16px'));
    box.appendChild(el('div', 'beckon-prompt', inv.prompt, 'margin:4px 0 8px'));
    box.appendChild(el('div', 'beckon-department', inv.department, 'clear:both;font-size:12px;color:#666;text-transform:capitalize'));
    var buttons = el('div', null, null, 'margin-top:12px;display:flex;gap:8px;justify-content:flex-end');
    buttons.appendChild(button('beckon-dismiss', 'Dismiss', '#eee', '#222', function () {
      box.remove();
      api.track('invitation_dismissed');
    }));
    buttons.appendChild(button('beckon-accept', 'Accept', '#2563eb', '#fff', function () {
      box.remove();
      api.track('invitation_accepted');
      if (typeof api.onAccept === 'function') api.onAccept(inv);
    }));
    box.appendChild(buttons);
    (document.body || document.documentElement).appendChild(box);
  }
  function el(tag, cls, text, css) {
    var e = document.createElement(tag);
    if (cls) e.className = cls;
    if (text) e.textContent = text;
    if (css) e.style.cssText = css;
    return e;
  }
  function button(cls, label, bg, fg, onclick) {
    var b = el('button', cls, label, 'border:0;border-radius:6px;padding:6px 14px;cursor:pointer;' +
      'background:' + bg + ';color:' + fg);
    b.type = 'button';
    b.onclick = onclick;
    return b;
  }

  // --- the API ---------------------------------------------------------
  var api = window.beckon || {}; // keep an onInvitation set before we loaded
  api.loaded = true;
  api.widgetId = widget;
  api.visitorId = visitor;
  api.track = function (name) {
    if (typeof name !== 'string' || !name) return;
    enqueue('event', { name: name.slice(0, 256) });
  };
  api.page = function () { pageView(currentURL); };
  api.show = show;
  window.beckon = api;

  pageView(document.referrer);
  if (window.EventSource && window.fetch) connect();
})();
