"""Callbacks to the merchant on every status change, signed, retried with delays on failure.

The body is the parcel as `track-order` shows it at the moment of the change (so a retried
callback can arrive after a newer one, with a shorter history, as with a real courier).
"""

import json
import logging

from courier_emulator.store import Store, _now, sign_body
from emulator_base import RetryingSender, post_and_record

log = logging.getLogger("courier_emulator")


class CallbackSender(RetryingSender):
    def __init__(
        self,
        store: Store,
        *,
        url: str = "",
        secret: str = "",
        retry_delays: tuple[float, ...] = (2, 10, 60),
        timeout: float = 10,
    ) -> None:
        super().__init__(retry_delays=retry_delays, name="courier-callbacks")
        self.store, self.url, self.secret, self.timeout = store, url, secret, timeout

    def enqueue(self, payload: dict | str, attempt: int = 1) -> None:
        """Queue the parcel's state as it is now (a retry sends the same body again)."""
        body = payload if isinstance(payload, str) else json.dumps(payload)
        super().enqueue(body, attempt)

    def deliver(self, body: str, attempt: int) -> bool:
        url, secret = self.url, self.secret
        record = {"attempt": attempt, "url": url, "at": _now(), "body": json.loads(body)}
        if not url.startswith(("http://", "https://")):
            record.update(status=None, error="no callback URL configured")
            ok = True
        else:
            headers = {
                "Content-Type": "application/json",
                "X-PostEx-Signature": sign_body(body, secret),
            }
            ok = post_and_record(record, url, body, headers, self.timeout)
            log.info("callback attempt %s -> %s", attempt, record["status"] or record["error"])
        with self.store.lock:
            self.store.deliveries.append(record)
            del self.store.deliveries[:-500]
        return ok
