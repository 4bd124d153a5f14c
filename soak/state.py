"""What every thread of the soak shares: the clock, the log, the record and the stop flag."""

import socket
import threading
import time

STARTED = time.monotonic()


def now() -> float:
    return time.monotonic() - STARTED


def log(message: str) -> None:
    print(f"[soak {now():6.1f}s] {message}", flush=True)


class Record:
    """Everything observed, appended from many threads."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.http: list[tuple[float, str, int, str]] = []  # (t, kind, status, note)
        self.ws_errors: list[tuple[float, str, str]] = []  # (t, code, message)
        self.ws_connect_failures: list[tuple[float, str]] = []
        # (auction, bidder, amount, how, t, base): how is "ws" or "htmx"
        self.accepted: list[tuple[int, int, str, str, float, str]] = []
        self.bid_latency: list[tuple[float, float]] = []  # (t, seconds)
        self.connections: list[tuple[float, int]] = []
        self.faults: list[tuple[str, float, float]] = []

    def add(self, name: str, item) -> None:
        with self.lock:
            getattr(self, name).append(item)


record = Record()
stop = threading.Event()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]
