"""Fan-out latency: from a bid's commit to its `new_bid` arriving at every watching socket.

One Daphne subprocess (the site's ASGI app, Redis channel layer) serves N anonymous watchers
connected to ws/auction/<id>/; the watchers run on one asyncio event loop in another process
(benchmarks/_watchers.py). This process places bids through
`marketplace.services.bidding.place_bid`, so each broadcast goes the real way: rendered once
after commit, sent to the auction's group through Redis, forwarded by Daphne. Latency is each
watcher's arrival time minus the bid's commit time (both wall clock on this machine).

Options (`python -m benchmarks fanout -o KEY=VALUE`): watchers ("100,1000"), bids (20 per size),
interval (ms between bids, 1000), port (Daphne's; default a free one).
"""

import json
import os
import subprocess
import sys
import threading
import time
from typing import TextIO

from django.core.management.base import CommandError
from django.db import transaction

from benchmarks import _support


def _read_line(stream, timeout: float) -> str:
    box: list[str] = []
    reader = threading.Thread(target=lambda: box.append(stream.readline()), daemon=True)
    reader.start()
    reader.join(timeout)
    if not box:
        raise CommandError(f"The watcher process did not answer within {timeout:.0f} s")
    return box[0]


def _measure(port: int, watchers: int, bids: int, interval: float) -> dict:
    from marketplace.services.bidding import place_bid

    auction = _support.hot_auction(f"Bench fan-out ({watchers} watchers)")
    bidders = _support.bench_users(2)
    watcher = subprocess.Popen(  # noqa: S603  (our own interpreter and module)
        [
            sys.executable,
            "-m",
            "benchmarks._watchers",
            f"ws://127.0.0.1:{port}/ws/auction/{auction.pk}/",
            f"http://127.0.0.1:{port}",
            str(watchers),
        ],
        cwd=_support.BASE_DIR,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
        env={k: v for k, v in os.environ.items() if k != "DJANGO_SETTINGS_MODULE"},
    )
    try:
        started = time.perf_counter()
        line = _read_line(watcher.stdout, 600)
        if line.strip() != "ready":
            raise CommandError(f"The watcher process failed: {line!r}")
        connect_seconds = time.perf_counter() - started
        time.sleep(1)
        committed: dict[int, float] = {}
        minimum = auction.minimum_next_bid()
        for n in range(bids):
            stamp: list[float] = []
            with transaction.atomic():
                # Registered before place_bid's own callbacks, so it runs first: the commit.
                transaction.on_commit(lambda stamp=stamp: stamp.append(time.time()))
                result = place_bid(
                    auction_id=auction.pk, bidder=bidders[n % 2], amount=minimum, limit_rate=False
                )
            committed[result.bid_count] = stamp[0]
            minimum = result.minimum_next_bid
            time.sleep(interval)
        time.sleep(2)  # stragglers
        watcher.stdin.write("stop\n")
        watcher.stdin.flush()
        report = json.loads(_read_line(watcher.stdout, 120))
    finally:
        if watcher.poll() is None:
            watcher.kill()
        watcher.wait()
    per_bid = {
        int(seq): sorted((arrived - committed[int(seq)]) * 1000 for arrived in times)
        for seq, times in report["arrivals"].items()
        if int(seq) in committed
    }
    latencies = [value for values in per_bid.values() for value in values]
    return {
        "per_bid": per_bid,
        "connected": report["connected"],
        "connect_seconds": connect_seconds,
        "expected": watchers * bids,
        "latencies": latencies,
    }


def main(
    out: TextIO,
    *,
    watchers: str = "100,1000",
    bids: int = 20,
    interval: int = 1000,
    port: int = 0,
    verbosity: int = 1,
) -> None:
    """p50 / p99 of bid-to-arrival latency at each number of watchers."""
    _support.require_postgresql("fanout")
    _support.require_redis("fanout")
    sizes = [int(part) for part in str(watchers).split(",") if part.strip()]
    out.write(
        f"{bids} bids per size, {interval} ms apart, placed through place_bid in this process; "
        f"watchers on one asyncio loop in a separate process; load average before: "
        f"{_support.load()}"
    )
    rows = []
    for size in sizes:
        with _support.daphne(out, port or None) as daphne_port:
            result = _measure(daphne_port, size, bids, interval / 1000)
        latencies = result["latencies"]
        if verbosity > 1:
            for seq, values in sorted(result["per_bid"].items()):
                out.write(
                    f"  {size} watchers, bid {seq}: first {values[0]:.0f} ms, "
                    f"median {_support.percentile(values, 0.5):.0f} ms, last {values[-1]:.0f} ms"
                )
        rows.append(
            [
                size,
                f"{result['connected']} ({result['connect_seconds']:.1f} s)",
                bids,
                f"{len(latencies)} / {result['expected']}",
                f"{_support.percentile(latencies, 0.5):.1f}",
                f"{_support.percentile(latencies, 0.99):.1f}",
                f"{max(latencies, default=float('nan')):.1f}",
                _support.load(),
            ]
        )
    out.write("")
    _support.table(
        out,
        [
            "watchers",
            "connected (time to connect)",
            "bids",
            "deliveries",
            "p50 ms",
            "p99 ms",
            "max ms",
            "load avg after (1/5/15 min)",
        ],
        rows,
    )
