"""Closing ended auctions: `marketplace.tasks.check_auction_endings()` over N due auctions.

Seeds N live auctions whose end has passed (bulk inserts): half with a winning bid (each close
creates a checkout, an order awaiting payment, its item, and two notices), half without bids
(closed unsold, one notice to the seller). Then times one call of the scheduled task's body,
which finds the due auctions and closes them in batches through `close_auctions` (one
transaction, row locks and a few statements per batch; `auction_ended` after commit to the
auctions `realtime.watched_auctions` reports watched), and checks every auction was closed
exactly once: one outcome, one order per sale, one notice per reader.

A backlog of more than `tasks.CLOSE_SHARE` is shared out: the task closes its own share and
queues the rest, which a qcluster started here (`-o workers=N`, default 2, no scheduler, the
same database and Redis) closes; the time runs until no auction is due.

Options (`python -m benchmarks closing ...`): --size N (default 10,000), -o workers=N (0: no
cluster; then only the task's own share is closed, and the check below fails on a larger
backlog).
"""

import contextlib
import time
from collections import Counter
from datetime import timedelta
from decimal import Decimal
from typing import TextIO

from django.core.management.base import CommandError
from django.db import transaction
from django.db.models import Count
from django.utils import timezone

from benchmarks import _support

BATCH = 2_000
CHECK_CHUNK = 10_000
WAIT_SECONDS = 1_200


def _seed(count: int) -> list[int]:
    from marketplace.models import AuctionListing, Bid, Category, City, Product

    seller = _support.bench_seller()
    bidders = _support.bench_users(2)
    category = Category.objects.exclude(parent=None).order_by("pk").first()
    city = City.objects.order_by("pk").first()
    now = timezone.now()
    ids: list[int] = []
    for offset in range(0, count, BATCH):
        size = min(BATCH, count - offset)
        with transaction.atomic():
            auctions = AuctionListing.objects.bulk_create(
                [
                    AuctionListing(
                        starting_price=Decimal("1000.00"),
                        current_price=Decimal("1000.00"),
                        starts_at=now - timedelta(days=2),
                        ends_at=now - timedelta(seconds=60 + n),
                        status=AuctionListing.Status.LIVE,
                    )
                    for n in range(size)
                ]
            )
            Product.objects.bulk_create(
                [
                    Product(
                        seller=seller,
                        title=f"Bench closing lot {offset + n}",
                        description="Created by the closing benchmark.",
                        category=category,
                        condition="new",
                        city=city,
                        auction=auction,
                        display_price=auction.starting_price,
                    )
                    for n, auction in enumerate(auctions)
                ]
            )
            sold = auctions[::2]  # every other one gets a winning bid
            bids = Bid.objects.bulk_create(
                [
                    Bid(
                        auction=auction,
                        bidder=bidders[n % 2],
                        amount=Decimal("1500.00"),
                        max_amount=Decimal("1500.00"),
                        created_at=now - timedelta(days=1),
                    )
                    for n, auction in enumerate(sold)
                ]
            )
            for auction, bid in zip(sold, bids, strict=True):
                auction.leading_bid = bid
                auction.current_price = bid.amount
                auction.leading_max_amount = bid.amount
                auction.bid_count = 1
            AuctionListing.objects.bulk_update(
                sold, ["leading_bid", "current_price", "leading_max_amount", "bid_count"]
            )
            ids += [auction.pk for auction in auctions]
    return ids


def _queue_size() -> str:
    """How many tasks wait in the cluster's queue (shares, e-mail drains, anything else)."""
    from marketplace.services.notifications import queue_broker

    try:
        return f"{queue_broker().queue_size():,}"
    except Exception as error:  # a broker that cannot tell
        return f"unknown ({error.__class__.__name__})"


def main(out: TextIO, *, size: int = 10_000, workers: int = 2, verbosity: int = 1) -> None:
    """Seed `size` due auctions and time the scheduled closing task over all of them, with a
    qcluster of `workers` processes taking the shares it queues (0: no cluster, and a backlog
    over `tasks.CLOSE_SHARE` is then left half closed: the timing says so)."""
    _support.require_postgresql("closing")
    with _support.qcluster(out, workers) if workers else contextlib.nullcontext():
        _measure(out, size, workers)


def _measure(out: TextIO, size: int, workers: int) -> None:
    from marketplace import realtime
    from marketplace.models import AuctionListing, Notification, Order
    from marketplace.tasks import check_auction_endings

    already_due = AuctionListing.objects.due_to_close().count()
    started = time.perf_counter()
    ids = _seed(size)
    seeded = time.perf_counter() - started
    out.write(
        f"Seeded {size:,} ended auctions ({size - size // 2:,} with a winning bid) in "
        f"{seeded:.1f} s; {already_due:,} other auctions were already due; "
        f"{_queue_size()} tasks waiting in the queue. Load average before: {_support.load()}"
    )
    started = time.perf_counter()
    closed = check_auction_endings()
    # The shares it queued are closed by the cluster's workers: done when none is due.
    deadline = started + WAIT_SECONDS
    while workers and AuctionListing.objects.due_to_close().exists():
        if time.perf_counter() > deadline:
            raise CommandError(f"Auctions still due {WAIT_SECONDS} s after the closing began")
        time.sleep(0.05)
    elapsed = time.perf_counter() - started
    load = _support.load()
    out.write(f"Tasks waiting in the queue when the last was closed: {_queue_size()}")

    # In chunks: PostgreSQL takes at most 65,535 parameters in one statement (they are bound
    # on the server, settings.DB_PREPARED_STATEMENTS).
    statuses: Counter = Counter()
    notices: Counter = Counter()
    orders = 0
    for start in range(0, len(ids), CHECK_CHUNK):
        chunk = ids[start : start + CHECK_CHUNK]
        statuses.update(
            dict(
                AuctionListing.objects.filter(pk__in=chunk)
                .values_list("status")
                .annotate(n=Count("pk"))
            )
        )
        orders += Order.objects.filter(auction_id__in=chunk).count()
        notices.update(
            dict(
                Notification.objects.filter(dedupe_key__in=[f"auction:{pk}" for pk in chunk])
                .values_list("kind")
                .annotate(n=Count("pk"))
            )
        )
    sold = statuses.get(AuctionListing.Status.ENDED_SOLD, 0)
    unsold = statuses.get(AuctionListing.Status.ENDED_UNSOLD, 0)
    notices = dict(notices)
    expected_notices = {
        Notification.Kind.AUCTION_WON: sold,
        Notification.Kind.AUCTION_SOLD: sold,
        Notification.Kind.AUCTION_UNSOLD: unsold,
    }
    if (
        sold + unsold != size
        or orders != sold
        or sold != size - size // 2
        or notices != expected_notices
    ):
        raise CommandError(
            f"Closing went wrong: {statuses}, {orders} orders, notices {notices} "
            f"for {size} auctions."
        )
    # Freshly seeded: nobody has them open, unless the layer cannot tell (then every one
    # was rendered and sent).
    watched = sum(
        len(realtime.watched_auctions(ids[start : start + CHECK_CHUNK]))
        for start in range(0, len(ids), CHECK_CHUNK)
    )
    again = check_auction_endings()
    out.write("")
    _support.table(
        out,
        [
            "due auctions",
            "workers",
            "closed by the task",
            "sold (orders)",
            "unsold",
            "watched (auction_ended sent)",
            "total s",
            "ms per auction",
            "closed/s",
            "second run closed",
            "load avg after (1/5/15 min)",
        ],
        [
            [
                f"{size + already_due:,}",
                workers,
                f"{closed:,}",
                f"{sold:,} ({orders:,})",
                f"{unsold:,}",
                f"{watched:,}",
                f"{elapsed:.1f}",
                f"{elapsed / max(sold + unsold, 1) * 1000:.2f}",
                f"{(sold + unsold) / elapsed:.0f}",
                again,
                load,
            ]
        ],
    )
