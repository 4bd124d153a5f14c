/* Live auction page: WebSocket updates of #bid-panel, resync over HTTP, countdown.
 * The page works without this file; it only keeps the panel fresh. */
(function () {
  "use strict";
  var root = document.getElementById("auction");
  if (!root) return;

  var live = document.getElementById("bid-live");
  var connectionNote = document.getElementById("bid-connection");
  var text = root.dataset;
  // Client clocks are often wrong: count down by the server's clock.
  var clockOffset = Date.parse(root.dataset.serverNow) - Date.now() || 0;
  var socket = null;
  var attempts = 0;
  var lastSeq = panel() ? Number(panel().dataset.seq) : 0;
  var endResyncDone = false;

  function panel() { return document.getElementById("bid-panel"); }
  function announce(message) { if (live) { live.textContent = message; } }

  function noticeFor(message) {
    if (message.type === "auction_extended") return text.textExtended;
    if (message.type === "auction_ended") return text.textAuctionEnded;
    return "price";
  }

  function swapPanel(html, notice) {
    var current = panel();
    if (!current || !html) return;
    var holder = document.createElement("div");
    holder.innerHTML = html.trim();
    var fresh = holder.querySelector("#bid-panel");
    if (!fresh) return;
    fresh.removeAttribute("hx-swap-oob");
    current.replaceWith(fresh);
    afterPanelChange();
    if (notice === "price") {
      var price = fresh.querySelector("#bid-panel-price");
      announce(text.textNewBid + " " + (price ? price.textContent : ""));
    } else if (notice) {
      announce(notice);
    }
  }

  // Per-viewer text is derived here from data attributes: the broadcast html is the same
  // for everyone.
  function afterPanelChange() {
    var p = panel();
    if (!p) return;
    lastSeq = Number(p.dataset.seq);
    if (p.dataset.viewerHasBid === "1") root.dataset.viewerHasBid = "1";
    var viewer = root.dataset.viewer;
    var ended = p.dataset.ended === "1";
    var leading = Boolean(viewer) && p.dataset.leader === viewer;
    var outbid = Boolean(viewer) && !leading && root.dataset.viewerHasBid === "1";
    toggle(p.querySelector('[data-viewer-note="leading"]'), leading && !ended);
    toggle(p.querySelector('[data-viewer-note="outbid"]'), outbid && !ended);
    toggle(p.querySelector('[data-viewer-note="won"]'), leading && p.dataset.status === "ended_sold");
    var amount = document.getElementById("id_amount");
    if (amount && p.dataset.minimum) amount.placeholder = p.dataset.minimum;
    if (p.dataset.ended === "1") showEnded(false);
    tick();
  }

  function toggle(element, show) { if (element) element.hidden = !show; }

  function showEnded(resync) {
    var p = panel();
    if (p) {
      p.querySelectorAll("[data-when-open]").forEach(function (el) { el.hidden = true; });
      toggle(p.querySelector("[data-ended-note]"), true);
      // Leading or outbid no longer means anything; "won" comes with the closed panel.
      toggle(p.querySelector('[data-viewer-note="leading"]'), false);
      toggle(p.querySelector('[data-viewer-note="outbid"]'), false);
    }
    // The bid form goes: its fields are removed and "Bidding is closed" takes their place.
    var form = document.getElementById("bid-form");
    if (form) {
      form.querySelectorAll("[data-bid-controls]").forEach(function (el) { el.remove(); });
      toggle(form.querySelector("[data-bid-closed]"), true);
    }
    if (resync && !endResyncDone) {
      endResyncDone = true;
      announce(text.textAuctionEnded);
      // Ask the server for the final state; if the closing job has not run yet the panel
      // still says "ended" because its end time has passed.
      window.setTimeout(resyncPanel, 1500);
    }
  }

  function formatRemaining(ms) {
    var s = Math.ceil(ms / 1000);
    var d = Math.floor(s / 86400); s -= d * 86400;
    var h = Math.floor(s / 3600); s -= h * 3600;
    var m = Math.floor(s / 60); s -= m * 60;
    var pad = function (n) { return String(n).padStart(2, "0"); };
    var days = (text.textDays || "%(days)sd").replace("%(days)s", String(d));
    return (d ? days + " " : "") + pad(h) + ":" + pad(m) + ":" + pad(s);
  }

  function tick() {
    var p = panel();
    if (!p) return;
    var counter = p.querySelector("[data-countdown]");
    var remaining = Date.parse(p.dataset.endsAt) - (Date.now() + clockOffset);
    if (p.dataset.ended === "1") return;
    if (remaining <= 0) {
      if (counter) counter.textContent = text.textEnded;
      showEnded(true);
      return;
    }
    if (counter) counter.textContent = formatRemaining(remaining);
  }

  function resyncPanel(notice) {
    fetch(root.dataset.panelUrl, { headers: { "HX-Request": "true" }, credentials: "same-origin" })
      .then(function (response) { return response.ok ? response.text() : null; })
      .then(function (html) { if (html) swapPanel(html, notice); })
      .catch(function () { /* next event or reconnect tries again */ });
  }

  function onMessage(event) {
    var message;
    try { message = JSON.parse(event.data); } catch (e) { return; }
    var seq = Number(message.seq);
    switch (message.type) {
      case "auction_status":
        // First contact or a reconnect: anything may have been missed.
        if (seq !== lastSeq || attempts > 0) resyncPanel();
        attempts = 0;
        break;
      case "new_bid":
      case "auction_extended":
      case "auction_ended":
        var previous = Number(message.prev_seq);
        if (message.type === "new_bid" && seq <= lastSeq) return; // already shown
        if (previous > lastSeq) {
          resyncPanel(noticeFor(message)); // a gap: an event was dropped
        } else {
          swapPanel(message.html, noticeFor(message));
        }
        if (message.type === "auction_ended") endResyncDone = true;
        break;
      default:
        break;
    }
  }

  function connect() {
    var scheme = window.location.protocol === "https:" ? "wss://" : "ws://";
    socket = new WebSocket(scheme + window.location.host + root.dataset.wsPath);
    socket.addEventListener("open", function () {
      root.dataset.wsState = "open"; // lets browser tests wait for the live connection
      if (connectionNote) connectionNote.hidden = true;
    });
    socket.addEventListener("message", onMessage);
    socket.addEventListener("close", function (event) {
      root.dataset.wsState = "closed";
      if (event.code === 4404) return; // the auction does not exist
      if (connectionNote) connectionNote.hidden = false;
      attempts += 1;
      // Exponential backoff with jitter, capped at 30 s.
      var delay = Math.min(30000, 1000 * Math.pow(2, Math.min(attempts, 5))) * (0.5 + Math.random() / 2);
      window.setTimeout(connect, delay);
    });
  }

  // After our own HTMX bid the server sends a fresh #bid-panel out of band.
  document.body.addEventListener("htmx:afterSettle", function () {
    afterPanelChange();
  });
  document.addEventListener("visibilitychange", function () {
    if (document.visibilityState === "visible") resyncPanel();
  });

  afterPanelChange();
  window.setInterval(tick, 1000);
  if ("WebSocket" in window) connect();
})();
