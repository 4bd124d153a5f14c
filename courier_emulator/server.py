"""HTTP server: /api/order/* (PostEx's shape), /_emulator/* (test control), / and /track/ pages."""

import json
import logging
import re
from urllib.parse import parse_qsl

from courier_emulator.callbacks import CallbackSender
from courier_emulator.pages import admin_page, tracking_page
from courier_emulator.store import Refused, Store
from emulator_base import EmulatorHandler, serve_in_thread
from emulator_base import EmulatorServer as BaseServer

log = logging.getLogger("courier_emulator")
TRACKING = r"([0-9A-Za-z-]+)"


class EmulatorServer(BaseServer):
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
        self.token = token  # empty: any non-empty token is accepted
        self.store = Store(state_file)
        self.callbacks = self.sender = CallbackSender(
            self.store, url=callback_url, secret=callback_secret, retry_delays=retry_delays
        )

    def move(self, tracking: str, status: str) -> dict:
        """Move a parcel and send the callback (the store's lock is held by the caller)."""
        parcel = self.store.move(tracking, status)
        self.callbacks.enqueue({"event": "status_change", **json.loads(json.dumps(parcel))})
        self.store.save()
        return parcel


class Handler(EmulatorHandler):
    server: EmulatorServer
    server_version = "courier-emulator"
    logger = log

    def dispatch(self, method: str, path: str, raw: str) -> None:
        try:
            with self.server.store.lock:
                if path.startswith("/api/"):
                    self._api(method, path, raw)
                elif path.startswith("/_emulator/"):
                    self._control(method, path, raw)
                else:
                    self._page(method, path)
        except Refused as refused:
            self.send_json(
                refused.status,
                {"statusCode": str(refused.status), "statusMessage": refused.message},
            )

    def crash_reply(self) -> dict:
        return {"statusCode": "500", "statusMessage": "The emulator hit a bug."}

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
            return self.send_json(
                200, {"parcels": store.parcels, "deliveries": store.deliveries[-100:]}
            )
        if (method, path) == ("POST", "/_emulator/reset"):
            store.reset()
            store.save()
            return self.send_json(200, {"reset": True})
        if (method, path) == ("POST", "/_emulator/callback"):
            body = self._body(raw)
            server.callbacks.url = body.get("url", server.callbacks.url)
            server.callbacks.secret = body.get("secret", server.callbacks.secret)
            return self.send_json(200, {"url": server.callbacks.url})
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
                return self.send_redirect("/")  # the admin page's buttons
            return self.send_json(200, parcel)
        raise Refused(f"No control route {method} {path}.", status=404)

    def _page(self, method: str, path: str) -> None:
        store = self.server.store
        if (method, path) == ("GET", "/"):
            return self.send_html(200, admin_page(list(store.parcels.values())))
        if method == "GET" and (match := re.fullmatch(rf"/track/{TRACKING}", path)):
            parcel = store.parcels.get(match.group(1))
            return self.send_html(200 if parcel else 404, tracking_page(parcel, match.group(1)))
        self.send_html(404, tracking_page(None, ""))

    # --- responses --------------------------------------------------------------------------
    def _ok(self, dist, message: str = "SUCCESSFULLY OPERATED") -> None:
        self.send_json(200, {"statusCode": "200", "statusMessage": message, "dist": dist})


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
    return serve_in_thread(server, "courier-emulator")
