// Live thread: new messages arrive over a WebSocket as rendered HTML. Sending uses the HTMX
// form (or a plain POST without JavaScript); this only appends what others (and we) sent.
(function () {
  "use strict";
  const box = document.getElementById("conversation");
  const list = document.getElementById("message-list");
  if (!box || !list) return;
  const me = box.dataset.user;

  function decorate() {
    // One message can arrive twice (the form's answer and the socket): keep the first.
    const seen = new Set();
    list.querySelectorAll("li.message").forEach(function (item) {
      if (seen.has(item.id)) { item.remove(); return; }
      seen.add(item.id);
      item.classList.toggle("message-mine", item.dataset.sender === me);
    });
    const empty = document.getElementById("no-messages");
    if (empty && list.querySelector("li.message")) empty.remove();
  }

  function scrollToEnd() { list.scrollTop = list.scrollHeight; }

  decorate();
  scrollToEnd();
  document.body.addEventListener("htmx:afterSettle", function () { decorate(); scrollToEnd(); });

  let delay = 1000;
  function connect() {
    const scheme = location.protocol === "https:" ? "wss://" : "ws://";
    const socket = new WebSocket(scheme + location.host + box.dataset.socket);
    socket.addEventListener("open", function () { delay = 1000; });
    socket.addEventListener("message", function (event) {
      const data = JSON.parse(event.data);
      if (data.type !== "message_created" || document.getElementById("message-" + data.message_id)) return;
      list.insertAdjacentHTML("beforeend", data.html);
      decorate();
      scrollToEnd();
    });
    socket.addEventListener("close", function (event) {
      if (event.code >= 4400 && event.code < 4500) return;  // not allowed: do not retry
      setTimeout(connect, delay);
      delay = Math.min(delay * 2, 30000);
    });
  }
  // Earlier pages of a long thread do not listen: new messages belong on the newest page.
  if ("WebSocket" in window && box.dataset.socket) connect();
})();
