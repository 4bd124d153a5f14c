"""Webhook delivery, signed exactly as Stripe signs: `Stripe-Signature: t=<ts>,v1=<hmac>`.

One background thread posts events in the order they were created; a failed delivery is retried
later (so, as with Stripe, a retried event may arrive after newer ones). Failures never reach the
API call that caused the event.
"""

import hashlib
import hmac
import json
import logging
import queue
import threading
import time
import urllib.error
import urllib.request

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


def post_and_record(record: dict, url: str, body: str, headers: dict, timeout: float) -> bool:
    """POST `body` to an http(s) `url`; put the answer's status (or the error) in `record`
    and say whether it was a 2xx. Also the courier emulator's callbacks."""
    request = urllib.request.Request(  # noqa: S310 - callers check the scheme
        url, data=body.encode(), method="POST", headers=headers
    )
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310
            record.update(status=response.status, error=None)
    except urllib.error.HTTPError as error:
        record.update(status=error.code, error=error.reason)
    except (OSError, ValueError) as error:
        record.update(status=None, error=str(error))
    return record["status"] is not None and 200 <= record["status"] < 300


class WebhookSender:
    def __init__(
        self,
        store: Store,
        *,
        url: str = "",
        secret: str = "",
        retry_delays: tuple[float, ...] = (1, 5, 30),
        timeout: float = 10,
    ) -> None:
        self.store = store
        self.url = url
        self.secret = secret
        self.retry_delays = retry_delays
        self.timeout = timeout
        self._queue: queue.Queue = queue.Queue()
        self._timers: set[threading.Timer] = set()
        self._thread = threading.Thread(
            target=self._run, name="stripe-emulator-webhooks", daemon=True
        )

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        for timer in list(self._timers):
            timer.cancel()
        self._queue.put(None)
        self._thread.join(timeout=5)

    def enqueue(self, event_id: str, attempt: int = 1) -> None:
        self._queue.put((event_id, attempt))

    def _run(self) -> None:
        while (item := self._queue.get()) is not None:
            event_id, attempt = item
            try:
                delivered = self._deliver(event_id, attempt)
            except Exception:  # a bug here must not kill the delivery thread
                log.exception("webhook delivery of %s crashed", event_id)
                delivered = True
            if not delivered and attempt <= len(self.retry_delays):
                timer = threading.Timer(
                    self.retry_delays[attempt - 1], self._retry, (event_id, attempt + 1)
                )
                timer.daemon = True
                self._timers.add(timer)
                timer.start()

    def _retry(self, event_id: str, attempt: int) -> None:
        self._timers.discard(threading.current_thread())
        self.enqueue(event_id, attempt)

    def _deliver(self, event_id: str, attempt: int) -> bool:
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
