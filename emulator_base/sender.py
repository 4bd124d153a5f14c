"""Posting events to the site from one background thread, retried with delays on failure (so,
as with the real services, a retried event may arrive after newer ones). A failure never
reaches the request that caused the event."""

import logging
import queue
import threading
import urllib.error
import urllib.request

log = logging.getLogger("emulator_base")


def post(url: str, body: str, headers: dict, timeout: float) -> tuple[int | None, str, str]:
    """POST `body` to an http(s) `url`: (status or None, error or "", the answer's text)."""
    request = urllib.request.Request(  # noqa: S310 - callers check the scheme
        url, data=body.encode(), method="POST", headers=headers
    )
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310
            return response.status, "", response.read().decode("utf-8", "replace")
    except urllib.error.HTTPError as error:
        return error.code, str(error.reason), error.read().decode("utf-8", "replace")
    except (OSError, ValueError) as error:
        return None, str(error), ""


def post_and_record(record: dict, url: str, body: str, headers: dict, timeout: float) -> bool:
    """POST `body` to an http(s) `url`; put the answer's status (or the error) in `record`
    and say whether it was a 2xx."""
    status, error, _answer = post(url, body, headers, timeout)
    record.update(status=status, error=error or None)
    return status is not None and 200 <= status < 300


class RetryingSender:
    """Calls `deliver(item, attempt)` for each enqueued item, one at a time; an item it did
    not deliver (False) is tried again after `retry_delays[attempt - 1]` seconds, as many
    times as there are delays."""

    def __init__(self, *, retry_delays: tuple[float, ...], name: str) -> None:
        self.retry_delays = retry_delays
        self._queue: queue.Queue = queue.Queue()
        self._timers: set[threading.Timer] = set()
        self._thread = threading.Thread(target=self._run, name=name, daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        for timer in list(self._timers):
            timer.cancel()
        self._queue.put(None)
        if self._thread.is_alive():
            self._thread.join(timeout=5)

    def enqueue(self, item, attempt: int = 1) -> None:
        self._queue.put((item, attempt))

    def deliver(self, item, attempt: int) -> bool:
        raise NotImplementedError

    def _run(self) -> None:
        while (queued := self._queue.get()) is not None:
            item, attempt = queued
            try:
                delivered = self.deliver(item, attempt)
            except Exception:  # a bug here must not stop the thread
                log.exception("delivery of %r crashed", item)
                delivered = True
            if not delivered and attempt <= len(self.retry_delays):
                timer = threading.Timer(
                    self.retry_delays[attempt - 1], self._retry, (item, attempt + 1)
                )
                timer.daemon = True
                self._timers.add(timer)
                timer.start()

    def _retry(self, item, attempt: int) -> None:
        self._timers.discard(threading.current_thread())
        self.enqueue(item, attempt)
