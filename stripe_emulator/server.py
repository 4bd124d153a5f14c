"""HTTP server and routes: /v1/* (Stripe's API), /c/pay and /connect (pages), /_emulator (test control)."""

import base64
import json
import logging
import re
import threading
from urllib.parse import urlsplit

from emulator_base import EmulatorHandler, serve_in_thread
from emulator_base import EmulatorServer as BaseServer
from stripe_emulator.api import Api
from stripe_emulator.errors import StripeError
from stripe_emulator.objects import API_VERSION
from stripe_emulator.pages import checkout_page, message_page, onboarding_page
from stripe_emulator.params import parse_form
from stripe_emulator.store import Store, new_id, now
from stripe_emulator.webhooks import WebhookSender

log = logging.getLogger("stripe_emulator")

ID = r"([A-Za-z0-9_]+)"
# (method, path pattern, handler): API handlers take (api, params, *ids) and return an object.
API_ROUTES = [
    ("POST", r"/v1/accounts", lambda api, p: api.create_account(p)),
    ("GET", r"/v1/accounts", lambda api, p: api.list_objects("account", p, "/v1/accounts")),
    ("GET", rf"/v1/accounts/{ID}", lambda api, p, i: api.retrieve("account", i, p)),
    ("POST", rf"/v1/accounts/{ID}", lambda api, p, i: api.update_account(i, p)),
    ("POST", r"/v1/account_links", lambda api, p: api.create_account_link(p)),
    (
        "POST",
        r"/v1/checkout/sessions",
        lambda api, p: api.expand(api.create_session(p), _expand(p)),
    ),
    (
        "GET",
        r"/v1/checkout/sessions",
        lambda api, p: api.list_objects(
            "checkout.session", p, "/v1/checkout/sessions", ("payment_intent", "status")
        ),
    ),
    (
        "GET",
        rf"/v1/checkout/sessions/{ID}",
        lambda api, p, i: api.retrieve("checkout.session", i, p),
    ),
    (
        "GET",
        rf"/v1/checkout/sessions/{ID}/line_items",
        lambda api, p, i: api.retrieve("checkout.session", i, {"expand": ["line_items"]})[
            "line_items"
        ],
    ),
    (
        "POST",
        rf"/v1/checkout/sessions/{ID}/expire",
        lambda api, p, i: api.expand(api.expire_session(i), _expand(p)),
    ),
    ("GET", rf"/v1/payment_intents/{ID}", lambda api, p, i: api.retrieve("payment_intent", i, p)),
    ("GET", rf"/v1/charges/{ID}", lambda api, p, i: api.retrieve("charge", i, p)),
    ("POST", r"/v1/transfers", lambda api, p: api.create_transfer(p)),
    (
        "GET",
        r"/v1/transfers",
        lambda api, p: api.list_objects(
            "transfer", p, "/v1/transfers", ("destination", "transfer_group")
        ),
    ),
    ("GET", rf"/v1/transfers/{ID}", lambda api, p, i: api.retrieve("transfer", i, p)),
    ("POST", rf"/v1/transfers/{ID}/reversals", lambda api, p, i: api.reverse_transfer(i, p)),
    ("POST", r"/v1/refunds", lambda api, p: api.create_refund(p)),
    ("GET", rf"/v1/refunds/{ID}", lambda api, p, i: api.retrieve("refund", i, p)),
    ("GET", r"/v1/events", lambda api, p: api.list_objects("event", p, "/v1/events", ("type",))),
    ("GET", rf"/v1/events/{ID}", lambda api, p, i: api.retrieve("event", i, p)),
]
CONTROL_ROUTES = [
    (
        "POST",
        rf"/_emulator/sessions/{ID}/pay",
        lambda api, p, i: api.expand(api.pay_session(i), []),
    ),
    (
        "POST",
        rf"/_emulator/sessions/{ID}/expire",
        lambda api, p, i: api.expand(api.expire_session(i), []),
    ),
    (
        "POST",
        rf"/_emulator/accounts/{ID}/enable",
        lambda api, p, i: api.expand(api.set_account_enabled(i, True), []),
    ),
    (
        "POST",
        rf"/_emulator/accounts/{ID}/disable",
        lambda api, p, i: api.expand(api.set_account_enabled(i, False), []),
    ),
]


def _expand(params: dict) -> list[str]:
    value = params.get("expand") or []
    return [value] if isinstance(value, str) else value


class EmulatorServer(BaseServer):
    def __init__(
        self,
        address,
        *,
        webhook_url="",
        webhook_secret="",
        state_file=None,
        public_url=None,
        retry_delays=(1, 5, 30),
    ):
        super().__init__(address, Handler, public_url=public_url)
        self.store = Store(state_file)
        self.webhooks = self.sender = WebhookSender(
            self.store, url=webhook_url, secret=webhook_secret, retry_delays=retry_delays
        )
        self.api = Api(self.store, self.base_url, self.webhooks.enqueue)
        self._stopping = threading.Event()
        self._sweeper = threading.Thread(
            target=self._sweep, name="stripe-emulator-expiry", daemon=True
        )

    def start_background(self) -> None:
        super().start_background()
        self._sweeper.start()

    def stop_background(self) -> None:
        self._stopping.set()
        super().stop_background()

    def _sweep(self) -> None:
        """Expire open sessions past expires_at, as Stripe does, even when nobody asks."""
        while not self._stopping.wait(5):
            with self.store.lock:
                self.api.expire_overdue()
                self.store.save()


class Handler(EmulatorHandler):
    server: EmulatorServer
    server_version = "stripe-emulator"
    logger = log

    def dispatch(self, method: str, path: str, body: str) -> None:
        try:
            if path.startswith("/v1/"):
                self._api(method, path, urlsplit(self.path).query if method != "POST" else body)
            elif path.startswith("/_emulator/"):
                self._control(method, path, body)
            else:
                self._page(method, path)
        except StripeError as error:
            self.send_json(error.status, error.body())

    def crash_reply(self) -> dict:
        return {"error": {"type": "api_error", "message": "The emulator hit a bug."}}

    def extra_headers(self) -> dict:
        return {
            "Request-Id": new_id("req_", 14),
            "Stripe-Version": self.headers.get("Stripe-Version") or API_VERSION,
        }

    def _api(self, method: str, path: str, form: str) -> None:
        api_key = self._api_key()
        route, ids = self._match(API_ROUTES, method, path)
        if route is None:
            raise StripeError(
                f"Unrecognized request URL ({method}: {path}). Please see https://stripe.com/docs.",
                status=404,
            )
        params = parse_form(form)
        key = self.headers.get("Idempotency-Key") if method == "POST" else None
        store = self.server.store
        with store.lock:
            self.server.api.expire_overdue()
            if key:
                fingerprint = json.dumps([method, path, params], sort_keys=True)
                saved = store.saved_reply(f"{api_key}:{key}")
                if saved and saved["fingerprint"] != fingerprint:
                    raise StripeError(
                        "Keys for idempotent requests can only be used with the same parameters they were "
                        f"first used with. Try using a key other than '{key}' if you meant to execute a "
                        "different request.",
                        type="idempotency_error",
                    )
                if saved:
                    self.send_json(
                        saved["status"],
                        saved["body"],
                        {"Idempotent-Replayed": "true", "Idempotency-Key": key},
                    )
                    return
            result = route(self.server.api, params, *ids)
            if key:  # like Stripe, only a request that ran is saved; failed validation is not
                store.save_reply(f"{api_key}:{key}", fingerprint, 200, result)
            if method == "POST":
                store.save()
        self.send_json(200, result, {"Idempotency-Key": key} if key else {})

    def _api_key(self) -> str:
        header = self.headers.get("Authorization") or ""
        scheme, _, credentials = header.partition(" ")
        if scheme.lower() == "basic":  # curl -u sk_test_...:
            credentials = (
                base64.b64decode(credentials + "==").decode("utf-8", "replace").partition(":")[0]
            )
        elif scheme.lower() != "bearer":
            credentials = ""
        if not credentials:
            raise StripeError(
                "You did not provide an API key. You need to provide your API key in the Authorization "
                "header, using Bearer auth (e.g. 'Authorization: Bearer YOUR_SECRET_KEY').",
                status=401,
            )
        if not credentials.startswith(("sk_test_", "rk_test_")):
            raise StripeError(
                f"Invalid API Key provided: {credentials[:8]}****{credentials[-4:]}", status=401
            )
        return credentials

    def _control(self, method: str, path: str, body: str) -> None:
        server, store = self.server, self.server.store
        with store.lock:
            if (method, path) == ("GET", "/_emulator/state"):
                snapshot = store.snapshot()
                return self.send_json(
                    200,
                    {**snapshot, "webhook_url": server.webhooks.url, "base_url": server.base_url},
                )
            if (method, path) == ("POST", "/_emulator/reset"):
                store.reset()
                store.save()
                return self.send_json(200, {"reset": True})
            if (method, path) == ("POST", "/_emulator/webhook"):
                params = parse_form(body)
                server.webhooks.url = params.get("url", server.webhooks.url)
                server.webhooks.secret = params.get("secret", server.webhooks.secret)
                return self.send_json(200, {"url": server.webhooks.url})
            match = re.fullmatch(rf"/_emulator/events/{ID}/resend", path)
            if method == "POST" and match:
                event = server.api.retrieve("event", match.group(1))
                server.webhooks.enqueue(event["id"])
                return self.send_json(200, event)
            route, ids = self._match(CONTROL_ROUTES, method, path)
            if route is None:
                raise StripeError(f"Unknown emulator control URL ({method}: {path}).", status=404)
            result = route(server.api, {}, *ids)
            store.save()
        self.send_json(200, result)

    def _page(self, method: str, path: str) -> None:
        api, store = self.server.api, self.server.store
        with store.lock:
            api.expire_overdue()
            if match := re.fullmatch(rf"/c/pay/{ID}(/pay|/cancel)?", path):
                session = store.get(match.group(1), "checkout.session")
                if session is None:
                    return self.send_html(
                        404, message_page("Not found", "There is no such checkout.")
                    )
                action = match.group(2)
                if method == "GET" and not action:
                    return self.send_html(200, checkout_page(session))
                if method == "POST" and action == "/cancel" and session["cancel_url"]:
                    return self.send_redirect(session["cancel_url"])
                if method == "POST" and action == "/pay" and session["status"] == "open":
                    api.pay_session(session["id"])
                    store.save()
                    return self.send_redirect(
                        session["success_url"].replace("{CHECKOUT_SESSION_ID}", session["id"])
                    )
                return self.send_html(200, checkout_page(session))
            if match := re.fullmatch(r"/connect/onboarding/([A-Za-z0-9]+)(/complete)?", path):
                link = store.links.get(match.group(1))
                if link is None:
                    return self.send_html(
                        404, message_page("Not found", "This onboarding link is not valid.")
                    )
                if link["used"] or link["expires_at"] < now():
                    # Account links are single-use and short-lived: Stripe sends the user to refresh_url.
                    return self.send_redirect(link["refresh_url"])
                if method == "GET" and not match.group(2):
                    return self.send_html(
                        200, onboarding_page(store.get(link["account"], "account"), match.group(1))
                    )
                if method == "POST" and match.group(2):
                    api.set_account_enabled(link["account"], True)
                    link["used"] = True
                    store.save()
                    return self.send_redirect(link["return_url"])
        self.send_html(404, message_page("Not found", "Nothing here."))

    @staticmethod
    def _match(routes, method: str, path: str):
        for route_method, pattern, handler in routes:
            if route_method == method and (match := re.fullmatch(pattern, path)):
                return handler, match.groups()
        return None, ()


def start_emulator(
    port: int = 0,
    webhook_url: str = "",
    webhook_secret: str = "",
    *,
    host: str = "127.0.0.1",
    state_file=None,
    public_url: str | None = None,
    retry_delays: tuple[float, ...] = (1, 5, 30),
) -> tuple[EmulatorServer, str]:
    """Serve the emulator from a background thread; stop it with `server.close()`."""
    server = EmulatorServer(
        (host, port),
        webhook_url=webhook_url,
        webhook_secret=webhook_secret,
        state_file=state_file,
        public_url=public_url,
        retry_delays=retry_delays,
    )
    return serve_in_thread(server, "stripe-emulator")
