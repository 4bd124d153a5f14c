"""Many bidders at once on one auction (PostgreSQL row locks): nothing lost, nothing out of order."""

import contextlib
import itertools
import os
import threading
import time
from decimal import Decimal

import pytest
from django.db import connection, connections, transaction

from marketplace.exceptions import BidRejected
from marketplace.models import AuctionListing, Bid
from marketplace.pricing import bid_increment
from marketplace.services.bidding import place_bid
from marketplace.tests.auction_helpers import assert_counters_match_bids, make_auction
from marketplace.tests.factories.accounts import UserFactory

THREADS = 24
BIDS_PER_THREAD = 3
ATTEMPTS_PER_THREAD = 60


def require_postgres() -> None:
    if connection.vendor != "postgresql":
        if os.environ.get("CI"):
            pytest.fail("CI must run this test on PostgreSQL (set DATABASE_URL)")
        pytest.skip("needs PostgreSQL; runs in CI")


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_concurrent_bidders_never_lose_or_misorder_a_bid(seller):
    require_postgres()
    auction = make_auction(seller, starting_price="1000")
    bidders = [UserFactory(username=f"bidder{i}") for i in range(THREADS)]
    accepted: list[tuple[int, Decimal]] = []  # (bid id, amount) as place_bid reported them
    errors: list[BaseException] = []
    lock = threading.Lock()
    start = threading.Barrier(THREADS)

    def run(user) -> None:
        try:
            start.wait()
            mine = 0
            for _ in range(ATTEMPTS_PER_THREAD):
                if mine == BIDS_PER_THREAD:
                    break
                # Each thread bids the minimum it last saw: most lose the race and retry.
                current = AuctionListing.objects.get(pk=auction.pk)
                amount = current.minimum_next_bid()
                try:
                    result = place_bid(auction_id=auction.pk, bidder=user, amount=amount)
                except BidRejected as error:
                    assert error.code in {"too_low", "already_leading"}, error.code
                    continue
                if result.bid_id is not None:  # None: the leader only raised their maximum
                    mine += 1
                    with lock:
                        accepted.append((result.bid_id, result.current_price))
        except BaseException as error:  # surfaced in the main thread
            errors.append(error)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run, args=(user,)) for user in bidders]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert errors == []
    assert len(accepted) >= THREADS  # every thread got bids in despite the contention
    table = Bid.objects.filter(auction=auction).order_by("id")
    rows = list(table.values_list("id", "amount"))
    automatic = set(table.filter(is_automatic=True).values_list("id", flat=True))
    # No accepted bid lost: every id place_bid returned is in the table with its amount.
    assert set(accepted) <= set(rows)
    # Accepted bids, in the order the database took them, each above the one before.
    in_order = sorted(accepted)
    for (_, before), (_, after) in itertools.pairwise(in_order):
        assert after >= before + bid_increment(before)
    # The whole table climbs too; only a proxy's tie reply (earlier maximum wins) may equal
    # the bid it answers.
    for (_, before), (bid_id, after) in itertools.pairwise(rows):
        assert after >= before + bid_increment(before) or (after == before and bid_id in automatic)
    auction.refresh_from_db()
    assert auction.current_price == max(amount for _, amount in accepted)
    assert auction.current_price == rows[-1][1]
    assert auction.bid_count == len(rows) == len(accepted) + len(automatic)
    assert_counters_match_bids(auction)


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_concurrent_proxy_bidders_keep_counters_consistent(seller):
    require_postgres()
    auction = make_auction(seller, starting_price="1000")
    bidders = [UserFactory(username=f"proxy{i}") for i in range(THREADS)]
    errors: list[BaseException] = []
    start = threading.Barrier(THREADS)

    def run(index: int, user) -> None:
        try:
            start.wait()
            ceiling = Decimal(2000 + 500 * index)
            try:
                place_bid(
                    auction_id=auction.pk,
                    bidder=user,
                    amount=AuctionListing.objects.get(pk=auction.pk).minimum_next_bid(),
                    max_amount=ceiling,
                )
            except BidRejected as error:
                assert error.code in {"too_low", "max_below_amount"}, error.code
        except BaseException as error:
            errors.append(error)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run, args=(i, u)) for i, u in enumerate(bidders)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert errors == []
    amounts = list(
        Bid.objects.filter(auction=auction).order_by("id").values_list("amount", flat=True)
    )
    assert amounts == sorted(amounts)
    assert_counters_match_bids(auction)


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_too_low_bid_is_refused_without_waiting_for_the_auctions_lock(seller, buyer):
    require_postgres()
    auction = make_auction(seller, starting_price="1000")
    release = threading.Event()

    with lock_held_elsewhere(auction, hold=lambda: release.wait(10)):
        try:
            with connection.cursor() as cursor:
                cursor.execute("SET lock_timeout = '2s'")  # waiting for the lock would fail
            with pytest.raises(BidRejected) as refused:
                place_bid(auction_id=auction.pk, bidder=buyer, amount=Decimal("900"))
            assert refused.value.code == "too_low"
        finally:
            release.set()


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_the_clock_is_read_after_the_lock_wait(seller, buyer):
    """A bid that waited for the auction's lock is judged, and stamped, by the clock after
    the wait: its locked read must not take the time from before it (issue 19)."""
    require_postgres()
    auction = make_auction(seller, starting_price="1000")
    released_at = []

    def hold() -> None:
        time.sleep(0.5)
        with connection.cursor() as cursor:
            cursor.execute("SELECT clock_timestamp()")
            released_at.append(cursor.fetchone()[0])

    with lock_held_elsewhere(auction, hold=hold):
        result = place_bid(auction_id=auction.pk, bidder=buyer, amount=Decimal("1000"))
    assert Bid.objects.get(pk=result.bid_id).created_at > released_at[0]


@contextlib.contextmanager
def lock_held_elsewhere(auction, *, hold):
    """Inside: another thread's transaction holds the auction's row lock until `hold()`
    returns (then it commits)."""
    locked = threading.Event()

    def holder() -> None:
        try:
            with transaction.atomic():
                AuctionListing.objects.select_for_update().get(pk=auction.pk)
                locked.set()
                hold()
        finally:
            connections.close_all()

    thread = threading.Thread(target=holder)
    thread.start()
    try:
        assert locked.wait(10)
        yield
    finally:
        thread.join()
