"""Fan-out latency: from a bid's commit to its `new_bid` arriving at every watching socket.

One Daphne subprocess, or several (`daphnes`), serves N anonymous watchers connected to
ws/auction/<id>/ (the site's ASGI app, Redis channel layer; watchers spread evenly over the
Daphnes); the watchers run on one asyncio event loop in another process, or are spread over
several (`clients`; benchmarks/_watchers.py, a minimal client so that the server is what is
measured). This process places bids through
`marketplace.services.bidding.place_bid` on a sync thread with an event loop behind it (as
Daphne does), so each broadcast goes the real way: after commit to the process's broadcaster,
rendered once per burst, sent to the auction's group through Redis, forwarded by Daphne.
Latency (bid-to-screen) is, for each bid and watcher, the arrival of the first event showing
that bid (one event of a burst shows all its bids) minus the bid's commit (both wall clock on
this machine). Checked after each size: every accepted bid in the database, prices rising
(proxy replies aside), no sequence gap at any watcher, every watcher's last event showing the
database's count and price.

Options (`python -m benchmarks fanout -o KEY=VALUE`): watchers ("100,1000"), bids (20 per size),
interval (ms between bids, 1000; 0 = back to back, the maximum rate), daphnes (Daphne
processes, 1), clients (watcher processes, 1), port (the first Daphne's; default a free one).
"""

import asyncio
import contextlib
import itertools
import json
import os
import subprocess
import sys
import threading
import time
from typing import TextIO

from django.core.management.base import CommandError
from django.db import connection, transaction

from benchmarks import _support


def _read_line(stream, timeout: float) -> str:
    box: list[str] = []
    reader = threading.Thread(target=lambda: box.append(stream.readline()), daemon=True)
    reader.start()
    reader.join(timeout)
    if not box:
        raise CommandError(f"The watcher process did not answer within {timeout:.0f} s")
    return box[0]


def _place_bids(auction, bidders: list, bids: int, interval: float) -> dict[int, float]:
    """Place `bids` bids through place_bid as Daphne would (a sync thread with an event loop
    behind it, which runs the process's broadcaster); the commit time of each, by seq."""
    from asgiref.sync import sync_to_async

    from marketplace import background
    from marketplace.services.bidding import place_bid

    committed: dict[int, float] = {}

    def bid_loop() -> None:
        minimum = auction.minimum_next_bid()
        try:
            for n in range(bids):
                stamp: list[float] = []
                with transaction.atomic():
                    # Registered before place_bid's own callbacks, so it runs first: the commit.
                    transaction.on_commit(lambda stamp=stamp: stamp.append(time.time()))
                    result = place_bid(
                        auction_id=auction.pk,
                        bidder=bidders[n % 2],
                        amount=minimum,
                        limit_rate=False,
                    )
                committed[result.bid_count] = stamp[0]
                minimum = result.minimum_next_bid
                if interval:
                    time.sleep(interval)
        finally:
            connection.close()

    async def on_a_loop() -> None:
        await sync_to_async(bid_loop, thread_sensitive=False)()
        await background.idle()  # the broadcaster's last event has left this process

    asyncio.run(on_a_loop())
    return committed


def _measure(
    ports: list[int], pids: list[int], watchers: int, bids: int, interval: float, clients: int
) -> dict:
    from marketplace.models import AuctionListing, Bid

    auction = _support.hot_auction(f"Bench fan-out ({watchers} watchers)")
    bidders = _support.bench_users(2)
    urls = ",".join(f"ws://127.0.0.1:{port}/ws/auction/{auction.pk}/" for port in ports)
    shares = [watchers // clients + (n < watchers % clients) for n in range(clients)]
    processes = [
        subprocess.Popen(  # noqa: S603  (our own interpreter and module)
            [
                sys.executable,
                "-m",
                "benchmarks._watchers",
                urls,
                f"http://127.0.0.1:{ports[0]}",
                str(share),
            ],
            cwd=_support.BASE_DIR,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
            env={k: v for k, v in os.environ.items() if k != "DJANGO_SETTINGS_MODULE"},
        )
        for share in shares
        if share
    ]
    try:
        started = time.perf_counter()
        for watcher in processes:
            line = _read_line(watcher.stdout, 600)
            if line.strip() != "ready":
                raise CommandError(f"The watcher process failed: {line!r}")
        connect_seconds = time.perf_counter() - started
        time.sleep(1)
        cpu_before = sum(_support.cpu_seconds(pid) for pid in pids)
        bids_started = time.perf_counter()
        committed = _place_bids(auction, bidders, bids, interval)
        bid_seconds = time.perf_counter() - bids_started
        # Stragglers: until every watcher shows the last bid (at most a minute).
        for watcher in processes:
            watcher.stdin.write(f"until {max(committed, default=0)}\n")
            watcher.stdin.flush()
        report = {"connected": 0, "arrivals": [], "final": []}
        for watcher in processes:
            part = json.loads(_read_line(watcher.stdout, 180))
            for key in report:
                report[key] += part[key]
        daphne_cpu = sum(_support.cpu_seconds(pid) for pid in pids) - cpu_before
    finally:
        for watcher in processes:
            if watcher.poll() is None:
                watcher.kill()
            watcher.wait()
    auction = AuctionListing.objects.get(pk=auction.pk)
    amounts = list(
        Bid.objects.filter(auction=auction).order_by("id").values_list("amount", "is_automatic")
    )
    # Bid-to-screen: for each bid and each watcher, the first event showing it (an event of
    # a burst shows every bid up to its seq) minus the bid's commit.
    latencies, gaps, events = [], 0, 0
    for arrivals in report["arrivals"]:
        events += len(arrivals)
        shown = 0
        for seq, prev_seq, arrived in sorted(arrivals, key=lambda a: a[2]):
            gaps += prev_seq > shown
            for bid_seq in range(shown + 1, seq + 1):
                if bid_seq in committed:
                    latencies.append((arrived - committed[bid_seq]) * 1000)
            shown = max(shown, seq)
    final = {(seq, price) for seq, price in report["final"]}
    expected_final = (auction.bid_count, str(auction.current_price))
    anomalies = {
        # Every bid place_bid accepted is a row (only this process bids on the auction).
        "lost bids": max(0, len(committed) - len(amounts)),
        "prices not rising": sum(
            1
            for (before, _auto), (after, automatic) in itertools.pairwise(amounts)
            if after <= before and not automatic
        ),
        "gaps": gaps,
        "final pages not the database's": sum(
            1 for seq, price in report["final"] if (seq, price) != expected_final
        ),
    }
    return {
        "connected": report["connected"],
        "connect_seconds": connect_seconds,
        "expected": watchers * len(committed),
        "latencies": latencies,
        "events": events / max(1, watchers),
        "bids_per_second": len(committed) / bid_seconds if bid_seconds else 0.0,
        "anomalies": anomalies,
        # The Daphnes' CPU time from the first bid until every watcher showed the last one,
        # per frame they sent (events x watchers): the send's cost, whatever the neighbours.
        "daphne_cpu": daphne_cpu,
        "us_per_frame": daphne_cpu * 1e6 / max(1, events),
        "final_states": len(final),
    }


def main(
    out: TextIO,
    *,
    watchers: str = "100,1000",
    bids: int = 20,
    interval: int = 1000,
    daphnes: int = 1,
    clients: int = 1,
    port: int = 0,
    verbosity: int = 1,
) -> None:
    """p50 / p99 of bid-to-arrival latency at each number of watchers."""
    _support.require_postgresql("fanout")
    _support.require_redis("fanout")
    sizes = [int(part) for part in str(watchers).split(",") if part.strip()]
    daphnes, clients = max(1, int(daphnes)), max(1, int(clients))
    out.write(
        f"{bids} bids per size, {interval} ms apart (0: back to back), placed through "
        f"place_bid in this process; watchers spread over {daphnes} Daphne process(es), "
        f"connected from {clients} client process(es) (one asyncio loop each); "
        f"load average before: {_support.load()}"
    )
    rows = []
    for size in sizes:
        with contextlib.ExitStack() as stack:
            pids: list[int] = []
            ports = [
                stack.enter_context(_support.daphne(out, (port + n) if port else None, pids=pids))
                for n in range(daphnes)
            ]
            result = _measure(ports, pids, size, bids, interval / 1000, clients)
        latencies = result["latencies"]
        anomalies = ", ".join(f"{k} {v}" for k, v in result["anomalies"].items() if v) or "0"
        rows.append(
            [
                size,
                f"{result['connected']} ({result['connect_seconds']:.1f} s)",
                f"{bids} ({result['bids_per_second']:.0f}/s)",
                f"{len(latencies)} / {result['expected']}",
                f"{result['events']:.1f}",
                f"{_support.percentile(latencies, 0.5):.1f}",
                f"{_support.percentile(latencies, 0.99):.1f}",
                f"{max(latencies, default=float('nan')):.1f}",
                anomalies,
                f"{result['daphne_cpu']:.1f} ({result['us_per_frame']:.0f} µs)",
                _support.load(),
            ]
        )
    out.write("")
    _support.table(
        out,
        [
            "watchers",
            "connected (time to connect)",
            "bids (rate)",
            "bids shown / expected",
            "events per watcher",
            "p50 ms",
            "p99 ms",
            "max ms",
            "anomalies",
            "Daphne CPU s (per frame sent)",
            "load avg after (1/5/15 min)",
        ],
        rows,
    )
