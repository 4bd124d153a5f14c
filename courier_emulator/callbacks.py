"""Callbacks to the merchant on every status change, signed, retried with delays on failure.

The body is the parcel as `track-order` shows it at the moment of the change (so a retried
callback can arrive after a newer one, with a shorter history, as with a real courier).
"""

import json
import logging
import queue
import threading

from courier_emulator.store import Store, _now, sign_body
from stripe_emulator.webhooks import post_and_record

log = logging.getLogger("courier_emulator")


class CallbackSender:
    def __init__(
        self,
        store: Store,
        *,
        url: str = "",
        secret: str = "",
        retry_delays: tuple[float, ...] = (2, 10, 60),
        timeout: float = 10,
    ) -> None:
        self.store, self.url, self.secret = store, url, secret
        self.retry_delays, self.timeout = retry_delays, timeout
        self._queue: queue.Queue = queue.Queue()
        self._timers: set[threading.Timer] = set()
        self._thread = threading.Thread(target=self._run, name="courier-callbacks", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        for timer in list(self._timers):
            timer.cancel()
        self._queue.put(None)
        self._thread.join(timeout=5)

    def enqueue(self, payload: dict, attempt: int = 1) -> None:
        self._queue.put((json.dumps(payload), attempt))

    def _run(self) -> None:
        while (item := self._queue.get()) is not None:
            body, attempt = item
            try:
                delivered = self._deliver(body, attempt)
            except Exception:  # a bug here must not stop the thread
                log.exception("callback crashed")
                delivered = True
            if not delivered and attempt <= len(self.retry_delays):
                timer = threading.Timer(
                    self.retry_delays[attempt - 1],
                    self._queue.put,
                    ((body, attempt + 1),),
                )
                timer.daemon = True
                self._timers.add(timer)
                timer.start()

    def _deliver(self, body: str, attempt: int) -> bool:
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
