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
  var endAnnounced = false;
  // One refetch of #bid-panel at a time: a gap noticed while one is on its way only asks for
  // one more after it (a burst of missed events costs two requests, not one per event).
  var refetching = false;
  var refetchAgain = false;
  var refetchNotice;
  // After the end time, until the server has closed the auction: the result may only reach
  // this page over HTTP (the in-memory channel layer cannot carry the worker's auction_ended).
  var resultTimer = null;
  var resultDelay = 1500;

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
    // A refetch that left before a newer event arrived must not put an older panel back.
    if (isOlder(fresh, current)) return;
    current.replaceWith(fresh);
    afterPanelChange();
    if (notice === "price") {
      var price = fresh.querySelector("#bid-panel-price");
      announce(text.textNewBid + " " + (price ? price.textContent : ""));
    } else if (notice) {
      announce(notice);
    }
  }

  function isOlder(fresh, current) {
    return Number(fresh.dataset.seq) < lastSeq && fresh.dataset.status === current.dataset.status;
  }

  // Our own HTMX bid's answer carries #bid-panel out of band, and races the broadcasts: when
  // another bid's event got here first, the answer's older panel is not put back (its
  // "you have bid" mark is kept).
  document.body.addEventListener("htmx:oobBeforeSwap", function (event) {
    var current = event.detail.target;
    var fragment = event.detail.fragment;
    if (!current || current.id !== "bid-panel" || !fragment.querySelector) return;
    var fresh = fragment.querySelector("#bid-panel");
    if (!fresh) return;
    // Noted now, not when htmx settles: a broadcast arriving in between replaces the swapped
    // panel, and with it the only record that this viewer has bid.
    if (fresh.dataset.viewerHasBid === "1") root.dataset.viewerHasBid = "1";
    if (isOlder(fresh, current)) event.detail.shouldSwap = false;
  });

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
    if (resync && !endAnnounced) {
      endAnnounced = true;
      announce(text.textAuctionEnded);
    }
    awaitResult();
  }

  function awaitingResult() {
    var p = panel();
    return Boolean(p) && p.dataset.status === "live" &&
      Date.parse(p.dataset.endsAt) <= Date.now() + clockOffset;
  }

  // Past the end but not closed yet ("the result follows shortly"): ask the server for the
  // final panel, first after 1.5 s, then less often (up to every 10 s) until it is closed.
  function awaitResult() {
    if (resultTimer || !awaitingResult()) return;
    resultTimer = window.setTimeout(function () {
      resultTimer = null;
      resultDelay = Math.min(10000, resultDelay * 1.5);
      if (awaitingResult()) resyncPanel();
    }, resultDelay);
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
    if (refetching) {
      refetchAgain = true;
      if (notice) refetchNotice = notice;
      return;
    }
    refetching = true;
    root.dataset.refetches = String(Number(root.dataset.refetches || 0) + 1); // for tests
    fetch(root.dataset.panelUrl, { headers: { "HX-Request": "true" }, credentials: "same-origin" })
      .then(function (response) { return response.ok ? response.text() : null; })
      .then(function (html) { if (html) swapPanel(html, notice); })
      .catch(function () { /* next event, reconnect or awaitResult tries again */ })
      .then(function () {
        refetching = false;
        if (refetchAgain) {
          var again = refetchNotice;
          refetchAgain = false;
          refetchNotice = undefined;
          resyncPanel(again);
        } else {
          awaitResult();
        }
      });
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
        if (message.type === "auction_ended") endAnnounced = true;
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
