"""HTTP server: /api/order/* (PostEx's shape), /_emulator/* (test control), / and /track/ pages."""

import json
import logging
import re
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qsl, urlsplit

from courier_emulator.callbacks import CallbackSender
from courier_emulator.pages import admin_page, tracking_page
from courier_emulator.store import Refused, Store

log = logging.getLogger("courier_emulator")
TRACKING = r"([0-9A-Za-z-]+)"


class EmulatorServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(
        self,
        address,
        *,
        token: str = "",
        callback_url: str = "",
        callback_secret: str = "",
        state_file=None,
        retry_delays: tuple[float, ...] = (2, 10, 60),
    ):
        super().__init__(address, Handler)
        host, port = self.server_address[:2]
        self.base_url = f"http://{host}:{port}"
        self.token = token  # empty: any non-empty token is accepted
        self.store = Store(state_file)
        self.callbacks = CallbackSender(
            self.store, url=callback_url, secret=callback_secret, retry_delays=retry_delays
        )

    def start_background(self) -> None:
        self.callbacks.start()

    def move(self, tracking: str, status: str) -> dict:
        """Move a parcel and send the callback (the store's lock is held by the caller)."""
        parcel = self.store.move(tracking, status)
        self.callbacks.enqueue({"event": "status_change", **json.loads(json.dumps(parcel))})
        self.store.save()
        return parcel

    def close(self) -> None:
        self.shutdown()
        self.server_close()
        self.callbacks.stop()


class Handler(BaseHTTPRequestHandler):
    server: EmulatorServer
    server_version = "courier-emulator"

    def log_message(self, format, *args):
        log.info("%s %s", self.address_string(), format % args)

    def do_GET(self):
        self._dispatch("GET")

    def do_POST(self):
        self._dispatch("POST")

    def _dispatch(self, method: str) -> None:
        path = urlsplit(self.path).path.rstrip("/") or "/"
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length).decode("utf-8") if length else ""
        try:
            with self.server.store.lock:
                if path.startswith("/api/"):
                    self._api(method, path, raw)
                elif path.startswith("/_emulator/"):
                    self._control(method, path, raw)
                else:
                    self._page(method, path)
        except Refused as refused:
            self._json(
                refused.status,
                {"statusCode": str(refused.status), "statusMessage": refused.message},
            )
        except Exception:
            log.exception("emulator error on %s %s", method, self.path)
            self._json(500, {"statusCode": "500", "statusMessage": "The emulator hit a bug."})

    def _body(self, raw: str) -> dict:
        if "json" in (self.headers.get("Content-Type") or ""):
            try:
                data = json.loads(raw or "{}")
            except ValueError:
                raise Refused("The body is not JSON.") from None
            if not isinstance(data, dict):
                raise Refused("The body must be a JSON object.")
            return data
        return dict(parse_qsl(raw))

    def _api(self, method: str, path: str, raw: str) -> None:
        token = self.headers.get("token") or ""
        if not token or (self.server.token and token != self.server.token):
            raise Refused("Invalid or missing token.", status=401)
        store = self.server.store
        if (method, path) == ("POST", "/api/order/v3/create-order"):
            parcel = store.create(self._body(raw))
            store.save()
            dist = {"trackingNumber": parcel["trackingNumber"], "orderStatus": "Booked"}
            return self._ok(dist, "ORDER HAS BEEN CREATED")
        if method == "GET" and (
            match := re.fullmatch(rf"/api/order/v1/track-order/{TRACKING}", path)
        ):
            return self._ok(store.get(match.group(1)))
        if (method, path) == ("GET", "/api/order/v1/payment-report"):
            return self._ok(store.report())
        raise Refused(f"No API route {method} {path}.", status=404)

    def _control(self, method: str, path: str, raw: str) -> None:
        server, store = self.server, self.server.store
        if (method, path) == ("GET", "/_emulator/state"):
            return self._json(
                200, {"parcels": store.parcels, "deliveries": store.deliveries[-100:]}
            )
        if (method, path) == ("POST", "/_emulator/reset"):
            store.reset()
            store.save()
            return self._json(200, {"reset": True})
        if (method, path) == ("POST", "/_emulator/callback"):
            body = self._body(raw)
            server.callbacks.url = body.get("url", server.callbacks.url)
            server.callbacks.secret = body.get("secret", server.callbacks.secret)
            return self._json(200, {"url": server.callbacks.url})
        if method == "POST" and (
            match := re.fullmatch(rf"/_emulator/parcels/{TRACKING}/(status|money)", path)
        ):
            body = self._body(raw)
            if match.group(2) == "money":
                parcel = store.set_money(match.group(1), body)
                store.save()
            else:
                parcel = server.move(match.group(1), str(body.get("status", "")))
            if "json" not in (self.headers.get("Content-Type") or ""):
                return self._redirect("/")  # the admin page's buttons
            return self._json(200, parcel)
        raise Refused(f"No control route {method} {path}.", status=404)

    def _page(self, method: str, path: str) -> None:
        store = self.server.store
        if (method, path) == ("GET", "/"):
            return self._html(200, admin_page(list(store.parcels.values())))
        if method == "GET" and (match := re.fullmatch(rf"/track/{TRACKING}", path)):
            parcel = store.parcels.get(match.group(1))
            return self._html(200 if parcel else 404, tracking_page(parcel, match.group(1)))
        self._html(404, tracking_page(None, ""))

    # --- responses --------------------------------------------------------------------------
    def _ok(self, dist, message: str = "SUCCESSFULLY OPERATED") -> None:
        self._json(200, {"statusCode": "200", "statusMessage": message, "dist": dist})

    def _send(self, status: int, body: bytes, content_type: str) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def _json(self, status: int, data) -> None:
        self._send(status, json.dumps(data, indent=2).encode(), "application/json")

    def _html(self, status: int, html: str) -> None:
        self._send(status, html.encode(), "text/html; charset=utf-8")

    def _redirect(self, location: str) -> None:
        self.send_response(303)
        self.send_header("Location", location)
        self.send_header("Content-Length", "0")
        self.end_headers()


def start_emulator(
    port: int = 0,
    *,
    token: str = "",
    callback_url: str = "",
    callback_secret: str = "",
    host: str = "127.0.0.1",
    retry_delays: tuple[float, ...] = (2, 10, 60),
) -> tuple[EmulatorServer, str]:
    """Serve the emulator from a background thread; stop it with `server.close()`."""
    server = EmulatorServer(
        (host, port),
        token=token,
        callback_url=callback_url,
        callback_secret=callback_secret,
        retry_delays=retry_delays,
    )
    server.start_background()
    threading.Thread(
        target=server.serve_forever, args=(0.05,), name="courier-emulator", daemon=True
    ).start()
    return server, server.base_url
