"""The threaded HTTP server and the request handler every emulator builds on."""

import json
import logging
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlsplit

from emulator_base.sender import RetryingSender


class EmulatorServer(ThreadingHTTPServer):
    """A threaded server knowing its own `base_url`, with the `sender` of its events to the
    site (if any) running beside it between `start_background` and `stop_background`."""

    daemon_threads = True
    sender: RetryingSender | None = None

    def __init__(self, address, handler: type["EmulatorHandler"], *, public_url=None):
        super().__init__(address, handler)
        host, port = self.server_address[:2]
        self.base_url = (public_url or f"http://{host}:{port}").rstrip("/")

    def start_background(self) -> None:
        if self.sender is not None:
            self.sender.start()

    def stop_background(self) -> None:
        if self.sender is not None:
            self.sender.stop()

    def sends_to(self) -> str:
        """Where the emulator posts its events, for the start-up line."""
        return f"events to {getattr(self.sender, 'url', '') or '(none)'}"

    def close(self) -> None:
        """Stop serving (the loop must be running or have run) and stop the threads."""
        self.shutdown()
        self.server_close()
        self.stop_background()


class EmulatorHandler(BaseHTTPRequestHandler):
    """GET, POST and DELETE go to `dispatch(method, path, body)`; an exception it lets through
    is logged and answered by `crash_reply()` (the emulator's protocol for a 500)."""

    server: EmulatorServer
    logger = logging.getLogger("emulator_base")
    json_indent: int | None = 2

    def log_message(self, format, *args):
        self.logger.info("%s %s", self.address_string(), format % args)

    def do_GET(self):
        self._handle("GET")

    def do_POST(self):
        self._handle("POST")

    def do_DELETE(self):
        self._handle("DELETE")

    def _handle(self, method: str) -> None:
        path = urlsplit(self.path).path.rstrip("/") or "/"
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length).decode("utf-8") if length else ""
        try:
            self.dispatch(method, path, body)
        except Exception:
            self.logger.exception("emulator error on %s %s", method, self.path)
            self.send_json(500, self.crash_reply())

    def dispatch(self, method: str, path: str, body: str) -> None:
        self.send_json(404, {"error": f"no route {method} {path}"})

    def crash_reply(self) -> dict:
        return {"error": "The emulator hit a bug."}

    def extra_headers(self) -> dict:
        """Headers the emulated service sends on every answer."""
        return {}

    # --- answers ----------------------------------------------------------------------------
    def send_body(
        self, status: int, body: bytes, content_type: str, headers: dict | None = None
    ) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        for name, value in {**self.extra_headers(), **(headers or {})}.items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(body)

    def send_json(self, status: int, data, headers: dict | None = None) -> None:
        body = json.dumps(data, indent=self.json_indent).encode()
        self.send_body(status, body, "application/json", headers)

    def send_html(self, status: int, page: str) -> None:
        self.send_body(status, page.encode(), "text/html; charset=utf-8")

    def send_redirect(self, location: str) -> None:
        self.send_response(303)
        self.send_header("Location", location)
        self.send_header("Content-Length", "0")
        self.end_headers()


def serve_in_thread(server: EmulatorServer, name: str) -> tuple[EmulatorServer, str]:
    """Serve from a background thread (tests); stop it with `server.close()`."""
    server.start_background()
    threading.Thread(target=server.serve_forever, args=(0.05,), name=name, daemon=True).start()
    return server, server.base_url
