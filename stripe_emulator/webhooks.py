"""Webhook delivery, signed exactly as Stripe signs: `Stripe-Signature: t=<ts>,v1=<hmac>`.

One background thread posts events in the order they were created; a failed delivery is retried
later (so, as with Stripe, a retried event may arrive after newer ones): `emulator_base`'s
`RetryingSender`. Failures never reach the API call that caused the event.
"""

import hashlib
import hmac
import json
import logging
import time

from emulator_base import RetryingSender, post_and_record
from stripe_emulator.store import Store, now

log = logging.getLogger("stripe_emulator")


def sign_payload(payload: str | bytes, secret: str, timestamp: int | None = None) -> str:
    """The Stripe-Signature header value for this payload (HMAC-SHA256 of "<ts>.<payload>")."""
    timestamp = int(time.time()) if timestamp is None else timestamp
    if isinstance(payload, bytes):
        payload = payload.decode("utf-8")
    signed = f"{timestamp}.{payload}".encode()
    digest = hmac.new(secret.encode(), signed, hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={digest}"


class WebhookSender(RetryingSender):
    def __init__(
        self,
        store: Store,
        *,
        url: str = "",
        secret: str = "",
        retry_delays: tuple[float, ...] = (1, 5, 30),
        timeout: float = 10,
    ) -> None:
        super().__init__(retry_delays=retry_delays, name="stripe-emulator-webhooks")
        self.store = store
        self.url = url
        self.secret = secret
        self.timeout = timeout

    def deliver(self, event_id: str, attempt: int) -> bool:
        with self.store.lock:
            event = self.store.get(event_id, "event")
            url, secret = self.url, self.secret
            payload = json.dumps(event, indent=2) if event else None
        if payload is None:
            return True
        record = {
            "event": event_id,
            "type": event["type"],
            "attempt": attempt,
            "url": url,
            "at": now(),
        }
        if not url.startswith(("http://", "https://")):
            record.update(status=None, error="no http(s) webhook URL configured")
            ok = True
        else:
            headers = {
                "Content-Type": "application/json; charset=utf-8",
                "User-Agent": "Stripe/1.0 (+https://stripe.com/docs/webhooks)",
                "Stripe-Signature": sign_payload(payload, secret),
            }
            ok = post_and_record(record, url, payload, headers, self.timeout)
            log.info(
                "webhook %s %s -> %s", event["type"], event_id, record["status"] or record["error"]
            )
        with self.store.lock:
            self.store.deliveries.append(record)
            del self.store.deliveries[:-500]
            if ok and url:
                event["pending_webhooks"] = 0
            self.store.save()
        return ok
