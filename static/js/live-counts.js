// Navigation badges (unread messages, notifications) kept current over the per-user socket.
(function () {
  "use strict";
  const badges = { unread_messages: "nav-unread-messages", unread_notifications: "nav-unread-notifications" };
  function show(id, count) {
    const badge = document.getElementById(id);
    if (!badge) return;
    const hidden = badge.querySelector(".visually-hidden");
    badge.firstChild.nodeValue = String(count);
    badge.classList.toggle("d-none", !count);
    if (hidden) badge.appendChild(hidden);
  }
  let delay = 2000;
  function connect() {
    const scheme = location.protocol === "https:" ? "wss://" : "ws://";
    const socket = new WebSocket(scheme + location.host + "/ws/me/");
    socket.addEventListener("open", function () { delay = 2000; });
    socket.addEventListener("message", function (event) {
      const data = JSON.parse(event.data);
      if (data.type !== "counts") return;
      Object.keys(badges).forEach(function (key) { if (key in data) show(badges[key], data[key]); });
    });
    socket.addEventListener("close", function (event) {
      if (event.code >= 4400 && event.code < 4500) return;
      setTimeout(connect, delay);
      delay = Math.min(delay * 2, 60000);
    });
  }
  if ("WebSocket" in window) connect();
})();
