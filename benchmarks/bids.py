"""Bid throughput on one hot auction: the service, WebSocket clients over Daphne, a raw floor.

For each number of concurrent bidders (1, 8, 32 by default) and each path, a fresh live auction
is bid on for a fixed wall time; every bidder bids the current minimum next bid, and a bid
refused because another bidder got there first (`too_low`) is retried with the new minimum and
counted apart. Each bidder alternates between two accounts, so an accepted bid is always an
outbid (a leader bidding again would only raise their own maximum).

- service: threads in this process, each with its own database connection and event loop
  (as under Daphne), calling
  `marketplace.services.bidding.place_bid` (with everything it does: proxy rules, notices,
  the after-commit broadcast through the channel layer), while a listener subscribed to the
  auction's group counts as a watcher (nothing is rendered for an unwatched auction) and
  counts the events it hears.
- websocket: asyncio clients in this process, two authenticated sockets per bidder (session
  cookies), against a Daphne subprocess with the Redis channel layer; each sends
  `{"type": "place_bid", "amount": ...}` and awaits `bid_accepted` or `error`, and learns the
  minimum from the `new_bid` broadcasts it receives.
- raw: the floor, threads with plain psycopg connections doing only SELECT ... FOR UPDATE on the
  auction row, INSERT INTO marketplace_bid, UPDATE the auction, COMMIT.

- websocket-baseline (with `-o baseline=DIR`): the websocket path against a Daphne run from
  another checkout of the site (e.g. `git worktree add /tmp/base 01bfc42`), same database,
  Redis and Python: the earlier code measured beside this one in the same run.

Options (`python -m benchmarks bids -o KEY=VALUE`): seconds (wall time per run, default 5),
bidders ("1,8,32"), paths ("raw,service,websocket"), port (Daphne's; default a free one),
baseline (a directory, see above).
"""

import asyncio
import json
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from decimal import Decimal
from typing import TextIO

from django.db import connection, connections

from benchmarks import _support
from marketplace.pricing import bid_increment

PATHS = ("raw", "service", "websocket")


@dataclass
class Tally:
    accepted: int = 0
    retried: int = 0
    other: Counter = field(default_factory=Counter)
    elapsed: float = 0.0

    def add(self, other: "Tally") -> None:
        self.accepted += other.accepted
        self.retried += other.retried
        self.other.update(other.other)

    @property
    def rate(self) -> float:
        return self.accepted / self.elapsed if self.elapsed else 0.0


def _minimum(starting: Decimal, current: Decimal, count: int) -> Decimal:
    return starting if count == 0 else current + bid_increment(current)


def _run_threads(target, count: int, seconds: float) -> Tally:
    """Run target(index, barrier, clock, tally) in `count` threads; sum their tallies."""
    clock: dict[str, float] = {}
    # The barrier's action runs once, before any thread is released: one deadline for all.
    barrier = threading.Barrier(
        count + 1, action=lambda: clock.update(deadline=time.perf_counter() + seconds)
    )
    tallies = [Tally() for _ in range(count)]
    errors: list[BaseException] = []

    def run(index: int) -> None:
        try:
            target(index, barrier, clock, tallies[index])
        except BaseException as error:  # reported after the run
            errors.append(error)
            barrier.abort()

    threads = [threading.Thread(target=run, args=(i,), daemon=True) for i in range(count)]
    for thread in threads:
        thread.start()
    try:
        barrier.wait(timeout=60)
    except threading.BrokenBarrierError:
        # A bidder failed before the start (its error says why), or one never arrived.
        for thread in threads:
            thread.join(timeout=60)
        if errors:
            raise errors[0] from None
        raise
    started = clock["deadline"] - seconds
    for thread in threads:
        thread.join()
    if errors:
        raise errors[0]
    total = Tally(elapsed=time.perf_counter() - started)
    for tally in tallies:
        total.add(tally)
    return total


# --- service ------------------------------------------------------------------------------


def _service_run(auction, users: list, bidders: int, seconds: float) -> Tally:
    from asgiref.sync import sync_to_async

    from marketplace import background
    from marketplace.exceptions import BidRejected
    from marketplace.models import AuctionListing
    from marketplace.services.bidding import place_bid

    def read_minimum() -> Decimal:
        return AuctionListing.objects.get(pk=auction.pk).minimum_next_bid()

    def bidder(index: int, barrier, clock, tally: Tally) -> None:
        # As under Daphne (a consumer, or a view run from the event loop), each bidder's
        # calls run on a sync thread with an event loop behind them, which runs the process's
        # broadcaster (marketplace.background) meanwhile and keeps one channel-layer
        # connection.
        async def on_a_loop() -> None:
            await sync_to_async(bid_loop, thread_sensitive=False)(index, barrier, clock, tally)
            await background.idle()

        asyncio.run(on_a_loop())

    def bid_loop(index: int, barrier, clock, tally: Tally) -> None:
        accounts = users[2 * index : 2 * index + 2]
        try:
            minimum = read_minimum()  # also opens this thread's connection
            barrier.wait(timeout=60)
            turn = 0
            while time.perf_counter() < clock["deadline"]:
                try:
                    result = place_bid(
                        auction_id=auction.pk,
                        bidder=accounts[turn % 2],
                        amount=minimum,
                        limit_rate=False,
                    )
                except BidRejected as error:
                    if error.code == "too_low":
                        tally.retried += 1
                    else:
                        tally.other[error.code] += 1
                        turn += 1
                    minimum = read_minimum()
                    continue
                if result.bid_id is None:
                    tally.other["raised_own_maximum"] += 1
                else:
                    tally.accepted += 1
                turn += 1
                minimum = result.minimum_next_bid
        finally:
            connection.close()

    return _run_threads(bidder, bidders, seconds)


# --- raw psycopg floor ----------------------------------------------------------------------


def _conninfo() -> dict:
    settings_dict = connection.settings_dict
    info = {
        "dbname": settings_dict["NAME"],
        "user": settings_dict["USER"],
        "password": settings_dict["PASSWORD"],
        "host": settings_dict["HOST"],
        "port": settings_dict["PORT"],
    }
    return {key: value for key, value in info.items() if value not in (None, "")}


def _raw_run(auction, users: list, bidders: int, seconds: float) -> Tally:
    import psycopg

    info = _conninfo()

    def bidder(index: int, barrier, clock, tally: Tally) -> None:
        ids = [u.pk for u in users[2 * index : 2 * index + 2]]
        with psycopg.connect(**info) as conn:
            with conn.cursor() as cur:
                cur.execute(
                    "SELECT starting_price, current_price, bid_count "
                    "FROM marketplace_auctionlisting WHERE id = %s",
                    [auction.pk],
                )
                amount = _minimum(*cur.fetchone())
                conn.commit()
                barrier.wait(timeout=60)
                turn = 0
                while time.perf_counter() < clock["deadline"]:
                    cur.execute(
                        "SELECT starting_price, current_price, bid_count "
                        "FROM marketplace_auctionlisting WHERE id = %s FOR UPDATE",
                        [auction.pk],
                    )
                    minimum = _minimum(*cur.fetchone())
                    if amount < minimum:
                        conn.rollback()
                        tally.retried += 1
                        amount = minimum
                        continue
                    cur.execute(
                        "INSERT INTO marketplace_bid "
                        "(auction_id, bidder_id, amount, max_amount, is_automatic, created_at) "
                        "VALUES (%s, %s, %s, %s, false, clock_timestamp()) RETURNING id",
                        [auction.pk, ids[turn % 2], amount, amount],
                    )
                    bid_id = cur.fetchone()[0]
                    cur.execute(
                        "UPDATE marketplace_auctionlisting SET current_price = %s, "
                        "bid_count = bid_count + 1, leading_bid_id = %s, "
                        "leading_max_amount = %s WHERE id = %s",
                        [amount, bid_id, amount, auction.pk],
                    )
                    conn.commit()
                    tally.accepted += 1
                    turn += 1
                    amount = amount + bid_increment(amount)

    return _run_threads(bidder, bidders, seconds)


# --- WebSocket clients over Daphne ----------------------------------------------------------


class _Bidder:
    def __init__(self) -> None:
        self.minimum = Decimal(0)
        self.seq = -1
        self.changed = asyncio.Event()

    def learn(self, seq: int, minimum: str) -> None:
        if seq > self.seq:
            self.seq, self.minimum = seq, Decimal(minimum)
            self.changed.set()


async def _ws_bidders(port: int, auction_id: int, cookies: list[str], bidders: int, seconds):
    from websockets.asyncio.client import connect

    url = f"ws://127.0.0.1:{port}/ws/auction/{auction_id}/"
    origin = f"http://127.0.0.1:{port}"
    states = [_Bidder() for _ in range(bidders)]
    sockets, replies, readers = [], [], []

    async def read(ws, state: _Bidder, queue: asyncio.Queue) -> None:
        async for raw in ws:
            message = json.loads(raw)
            kind = message.get("type")
            data = message.get("data", {})
            if kind in ("auction_status", "new_bid", "auction_extended"):
                state.learn(message["seq"], data["minimum_next_bid"])
            elif kind == "bid_accepted":
                state.learn(data["bid_count"], data["minimum_next_bid"])
                queue.put_nowait(message)
            elif kind == "error":
                queue.put_nowait(message)

    for index in range(bidders):
        for cookie in cookies[2 * index : 2 * index + 2]:
            ws = await connect(
                url,
                origin=origin,
                additional_headers={"Cookie": cookie},
                ping_interval=None,
                max_queue=None,
            )
            queue: asyncio.Queue = asyncio.Queue()
            sockets.append(ws)
            replies.append(queue)
            readers.append(asyncio.create_task(read(ws, states[index], queue)))
    # Every socket has had its auction_status: each bidder knows the opening minimum.
    while any(state.seq < 0 for state in states):
        await asyncio.sleep(0.01)

    tallies = [Tally() for _ in range(bidders)]

    async def bid(index: int, deadline: float) -> None:
        state, tally, turn = states[index], tallies[index], 0
        while time.perf_counter() < deadline:
            slot = 2 * index + turn % 2
            amount = state.minimum
            await sockets[slot].send(json.dumps({"type": "place_bid", "amount": str(amount)}))
            reply = await replies[slot].get()
            if reply["type"] == "bid_accepted":
                tally.accepted += 1
                turn += 1
            elif reply.get("code") == "too_low":
                tally.retried += 1
                if state.minimum <= amount:
                    # The bid that beat us has not been broadcast to us yet: wait for it.
                    state.changed.clear()
                    try:
                        await asyncio.wait_for(state.changed.wait(), 2)
                    except TimeoutError:
                        tally.other["stale_minimum"] += 1
            else:
                tally.other[reply.get("code", "unknown")] += 1
                turn += 1

    started = time.perf_counter()
    await asyncio.gather(*(bid(i, started + seconds) for i in range(bidders)))
    total = Tally(elapsed=time.perf_counter() - started)
    for tally in tallies:
        total.add(tally)
    for ws in sockets:
        await ws.close()
    for task in readers:
        task.cancel()
    await asyncio.gather(*readers, return_exceptions=True)
    return total


def _websocket_run(auction, users: list, bidders: int, seconds: float, port: int) -> Tally:
    cookies = [_support.session_cookie(user) for user in users[: 2 * bidders]]
    connections.close_all()  # nothing in this process touches the database while it runs
    return asyncio.run(_ws_bidders(port, auction.pk, cookies, bidders, seconds))


# --- main ---------------------------------------------------------------------------------


def _counts(value: object) -> list[int]:
    return [int(part) for part in str(value).split(",") if part.strip()]


def main(
    out: TextIO,
    *,
    seconds: int = 5,
    bidders: str = "1,8,32",
    paths: str = ",".join(PATHS),
    port: int = 0,
    baseline: str = "",
    verbosity: int = 1,
) -> None:
    """Bids/s for each path and number of concurrent bidders, and the ratio to the raw floor."""
    _support.require_postgresql("bids")
    chosen = [p.strip() for p in paths.split(",") if p.strip()]
    if baseline:
        # Another checkout of the site (an earlier commit, same migrations): its Daphne
        # serves the same WebSocket benchmark beside this one's, in the same run.
        chosen.append("websocket-baseline")
    unknown = set(chosen) - set(PATHS) - {"websocket-baseline"}
    if unknown:
        from django.core.management.base import CommandError

        raise CommandError(f"Unknown path(s) {sorted(unknown)}; known: {PATHS}")
    if {"websocket", "websocket-baseline"} & set(chosen):
        _support.require_redis("bids (websocket path)")
    counts = _counts(bidders)
    users = _support.bench_users(2 * max(counts))
    out.write(
        f"One hot auction per run, {seconds} s wall time each; bidders bid the minimum next "
        f"bid; load average before: {_support.load()}"
    )
    # Warm-up: imports, template loading, first connections.
    _service_run(_support.hot_auction("Bench warm-up"), users, 1, 1)

    results: dict[tuple[str, int], tuple[Tally, str]] = {}
    for count in counts:
        for path in chosen:
            auction = _support.hot_auction(f"Bench hot auction ({path}, {count})")
            if path == "raw":
                tally = _raw_run(auction, users, count, seconds)
            elif path == "service":
                with _support.watching(auction.pk) as heard:
                    tally = _service_run(auction, users, count, seconds)
                tally.other["events heard"] = heard["events"]
            else:
                base_dir = baseline if path == "websocket-baseline" else None
                with _support.daphne(out, port or None, base_dir=base_dir) as daphne_port:
                    tally = _websocket_run(auction, users, count, seconds, daphne_port)
            results[path, count] = (tally, _support.load())
            if verbosity > 1:
                out.write(f"  {path} x{count}: {tally.rate:.1f} bids/s")

    rows = []
    for count in counts:
        floor = results.get(("raw", count))
        for path in chosen:
            tally, load = results[path, count]
            ratio = f"{tally.rate / floor[0].rate:.2f}" if floor and floor[0].rate else "-"
            other = ", ".join(f"{k} {v}" for k, v in sorted(tally.other.items())) or "-"
            rows.append(
                [
                    path,
                    count,
                    tally.accepted,
                    tally.retried,
                    other,
                    f"{tally.elapsed:.1f}",
                    f"{tally.rate:.1f}",
                    ratio,
                    load,
                ]
            )
    out.write("")
    _support.table(
        out,
        [
            "path",
            "bidders",
            "accepted bids",
            "too_low retries",
            "other refusals",
            "seconds",
            "bids/s",
            "ratio to raw",
            "load avg after (1/5/15 min)",
        ],
        rows,
    )
