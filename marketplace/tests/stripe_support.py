"""Test helpers around the Stripe emulator: a webhook receiver and small HTTP helpers."""

import json
import threading
import time
import urllib.error
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

WEBHOOK_SECRET = "whsec_test_emulator_secret"


class WebhookReceiver:
    """A tiny HTTP endpoint that stores each delivery (body bytes and headers).

    `fail_next` makes that many next deliveries answer 500, to exercise the emulator's retries.
    """

    def __init__(self) -> None:
        self.deliveries: list[tuple[bytes, dict]] = []
        self.fail_next = 0
        self._changed = threading.Condition()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                with receiver._changed:
                    failing = receiver.fail_next > 0
                    receiver.fail_next -= failing
                    if not failing:
                        receiver.deliveries.append((body, dict(self.headers)))
                    receiver._changed.notify_all()
                self.send_response(500 if failing else 200)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/stripe/webhook/"
        threading.Thread(target=self.server.serve_forever, args=(0.05,), daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    def wait_for(self, event_type: str, *, timeout: float = 5, after: int = 0) -> tuple[bytes, str]:
        """The first delivery of this event type (from index `after`): payload and signature."""
        deadline = time.monotonic() + timeout
        with self._changed:
            while True:
                for body, headers in self.deliveries[after:]:
                    if json.loads(body)["type"] == event_type:
                        return body, headers["Stripe-Signature"]
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise AssertionError(f"no {event_type} webhook within {timeout}s")
                self._changed.wait(remaining)

    def types(self) -> list[str]:
        with self._changed:
            return [json.loads(body)["type"] for body, _ in self.deliveries]


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


_opener = urllib.request.build_opener(_NoRedirect)


def http(method: str, url: str, data: bytes | None = None, headers: dict | None = None):
    """(status, headers, body) without following redirects or raising on 4xx/5xx."""
    if method == "POST" and data is None:
        data = b""
    request = urllib.request.Request(url, data=data, method=method, headers=headers or {})  # noqa: S310
    try:
        with _opener.open(request, timeout=10) as response:
            return response.status, response.headers, response.read()
    except urllib.error.HTTPError as error:
        return error.code, error.headers, error.read()


def wait_until(predicate, *, timeout: float = 5):
    """Poll until predicate() returns something truthy, and return it."""
    deadline = time.monotonic() + timeout
    while not (result := predicate()):
        if time.monotonic() > deadline:
            raise AssertionError("condition not met in time")
        time.sleep(0.02)
    return result


def emulator_state(base_url: str) -> dict:
    return json.loads(http("GET", f"{base_url}/_emulator/state")[2])


def control(base_url: str, path: str) -> dict:
    """POST to one of the emulator's /_emulator/ control endpoints; the JSON answer."""
    status, _, body = http("POST", f"{base_url}/_emulator/{path}")
    assert status == 200, body
    return json.loads(body)
