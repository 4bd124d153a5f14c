"""close_auctions: a batch of due auctions closed in one transaction, each exactly once."""

import json
import threading
from decimal import Decimal

import pytest
from django.core import mail
from django.db import connection, connections, transaction
from django.test.utils import CaptureQueriesContext

from marketplace import bulk, tasks
from marketplace.models import AuctionListing, Checkout, Notification, Order
from marketplace.services import notifications
from marketplace.services.closing import close_auction, close_auctions
from marketplace.services.orders import SHIPPING_FIELDS
from marketplace.tests.auction_helpers import bid, make_auction
from marketplace.tests.factories.accounts import UserFactory
from marketplace.tests.test_auction_closing import end_now, run_at_once

pytestmark = pytest.mark.django_db


def ended(seller, *, title: str, bids=(), reserve_price: str | None = None) -> AuctionListing:
    """An auction past its end, with `bids` as (bidder, amount) placed before it ended."""
    auction = make_auction(seller, title=title, starting_price="1000", reserve_price=reserve_price)
    for bidder, amount in bids:
        bid(auction, bidder, amount)
    end_now(auction)
    return auction


def status_of(auction: AuctionListing) -> str:
    auction.refresh_from_db()
    return auction.status


@pytest.fixture
def mixed(seller, buyer, rival):
    """One auction of each outcome: sold, no bids, reserve not met."""
    return {
        "sold": ended(seller, title="Sold", bids=[(buyer, "1000"), (rival, "1200")]),
        "no_bids": ended(seller, title="No bids"),
        "reserve": ended(seller, title="Reserve", bids=[(buyer, "1000")], reserve_price="9000"),
    }


def test_a_batch_closes_each_auction_to_its_own_outcome(mixed, seller, rival):
    results = close_auctions(auction_ids=[a.pk for a in mixed.values()])

    assert {r.auction_id: r.status for r in results} == {
        mixed["sold"].pk: AuctionListing.Status.ENDED_SOLD,
        mixed["no_bids"].pk: AuctionListing.Status.ENDED_UNSOLD,
        mixed["reserve"].pk: AuctionListing.Status.ENDED_UNSOLD,
    }
    order = Order.objects.get()
    assert (order.auction_id, order.buyer, order.total) == (mixed["sold"].pk, rival, Decimal(1200))
    assert [r.order_id for r in results if r.order_id] == [order.pk]
    assert order.items.get().title == "Sold"
    assert order.checkout.buyer == rival
    mixed["sold"].refresh_from_db()
    assert mixed["sold"].winner == rival
    assert mixed["reserve"].winner is None
    for auction in mixed.values():
        auction.refresh_from_db()
        assert auction.closed_at is not None


def test_a_batch_notifies_winner_and_seller_of_each_outcome(mixed, seller, buyer, rival):
    close_auctions(auction_ids=[a.pk for a in mixed.values()])

    kinds = set(Notification.objects.values_list("user", "kind", "dedupe_key"))
    assert kinds >= {
        (rival.pk, Notification.Kind.AUCTION_WON, f"auction:{mixed['sold'].pk}"),
        (seller.pk, Notification.Kind.AUCTION_SOLD, f"auction:{mixed['sold'].pk}"),
        (seller.pk, Notification.Kind.AUCTION_UNSOLD, f"auction:{mixed['no_bids'].pk}"),
        (seller.pk, Notification.Kind.AUCTION_UNSOLD, f"auction:{mixed['reserve'].pk}"),
    }
    assert not Notification.objects.filter(user=buyer).exclude(kind="outbid").exists()
    unsold = Notification.objects.filter(kind=Notification.Kind.AUCTION_UNSOLD)
    assert "reserve" in unsold.get(dedupe_key=f"auction:{mixed['reserve'].pk}").body
    assert "Nobody bid" in unsold.get(dedupe_key=f"auction:{mixed['no_bids'].pk}").body


def test_a_batch_leaves_auctions_not_yet_due_or_already_closed(seller, buyer):
    closed_before = ended(seller, title="Closed before", bids=[(buyer, "1000")])
    close_auction(auction_id=closed_before.pk)
    running = make_auction(seller, title="Running")
    due = ended(seller, title="Due")

    results = close_auctions(auction_ids=[closed_before.pk, running.pk, due.pk])

    assert [r.auction_id for r in results] == [due.pk]
    assert status_of(running) == AuctionListing.Status.LIVE
    assert status_of(closed_before) == AuctionListing.Status.ENDED_SOLD
    assert Order.objects.filter(auction=closed_before).count() == 1
    assert Notification.objects.filter(kind=Notification.Kind.AUCTION_WON).count() == 1


# The sweep's rows go in with one INSERT per table below bulk.COPY_FROM rows, and on PostgreSQL
# with a key read and a COPY from it (1: every batch); either way a constant count per batch.
@pytest.mark.parametrize("copy_from", [bulk.COPY_FROM, 1])
def test_a_batch_costs_the_same_statements_for_two_auctions_or_six(
    seller, buyer, rival, monkeypatch, copy_from
):
    monkeypatch.setattr(bulk, "COPY_FROM", copy_from)

    def statements_to_close(count: int) -> int:
        auctions = [
            ended(seller, title=f"Lot {n}", bids=[(buyer, "1000")] if n % 2 else [])
            for n in range(count)
        ]
        with CaptureQueriesContext(connection) as queries:
            assert len(close_auctions(auction_ids=[a.pk for a in auctions])) == count
        return len(queries)

    assert statements_to_close(2) == statements_to_close(6)


def what_a_close_wrote(auction: AuctionListing) -> dict:
    """The order, item, event, checkout and notices of a sold auction, without its keys,
    numbers and clock times (the product's title stands in as TITLE, the order's number as
    NUMBER)."""
    order = Order.objects.get(auction=auction)
    title = auction.product.title

    def general(text: str) -> str:
        return text.replace(title, "TITLE").replace(order.number, "NUMBER")

    notices = Notification.objects.filter(dedupe_key=f"auction:{auction.pk}").order_by("kind")
    return {
        "order": [
            order.status,
            order.buyer_id,
            order.seller_id,
            order.subtotal,
            order.shipping_fee,
            order.total,
            order.payment_deadline - order.created_at,
            order.number[:4],
            *(getattr(order, field) for field in SHIPPING_FIELDS),
        ],
        "checkout": list(
            Checkout.objects.filter(pk=order.checkout_id).values_list(
                "buyer_id", "payment_method", "idempotency_key"
            )
        ),
        "items": [
            {
                "title": general(item.title),
                "product": item.product_id == auction.product.pk,
                "listing": item.listing_id,
                "unit_price": item.unit_price,
                "quantity": item.quantity,
                "line_total": item.line_total,
            }
            for item in order.items.all()
        ],
        "events": list(order.events.values_list("kind", "actor_id", "note")),
        "notices": [
            {
                "user": n.user_id,
                "kind": n.kind,
                "title": general(n.title),
                "body": n.body,
                "url": general(n.url),
                "message": general(json.dumps(n.message, ensure_ascii=False)),
                "read, e-mailed": (n.read_at, n.emailed_at),
            }
            for n in notices
        ],
    }


def test_a_batch_written_with_copy_writes_what_closing_one_auction_writes(
    seller, buyer, rival, monkeypatch
):
    """The batch goes through COPY on PostgreSQL (bulk.insert_all), the single close through
    one INSERT per table (one order, two notices), both through the one order constructor:
    the same rows."""
    monkeypatch.setattr(bulk, "COPY_FROM", 3)
    batch = [
        ended(seller, title=f"Lot {n}", bids=[(buyer, "1000"), (rival, "1250.50")])
        for n in range(3)
    ]
    alone = ended(seller, title="Alone", bids=[(buyer, "1000"), (rival, "1250.50")])

    assert len(close_auctions(auction_ids=[a.pk for a in batch])) == 3
    assert close_auction(auction_id=alone.pk) is not None

    expected = what_a_close_wrote(alone)
    assert expected["order"][:6] == [
        Order.Status.AWAITING_PAYMENT,
        rival.pk,
        seller.pk,
        Decimal("1250.50"),
        Decimal("0.00"),
        Decimal("1250.50"),
    ]
    assert len(expected["notices"]) == 2
    for auction in batch:
        assert what_a_close_wrote(auction) == expected


def test_winners_in_one_batch_are_written_to_in_their_own_languages(seller):
    urdu, english = UserFactory(language="ur"), UserFactory(language="en")
    first = ended(seller, title="First", bids=[(urdu, "1000")])
    second = ended(seller, title="Second", bids=[(english, "1000")])

    close_auctions(auction_ids=[first.pk, second.pk])

    won = Notification.objects.filter(kind=Notification.Kind.AUCTION_WON)
    assert won.get(user=english).title == "You won “Second”"
    in_urdu = won.get(user=urdu).title
    assert "“\u2068First\u2069”" in in_urdu  # the Latin title isolated in Urdu
    assert "You won" not in in_urdu


def test_e_mails_and_bells_go_out_after_commit_once_per_reader(
    mixed, seller, rival, django_capture_on_commit_callbacks, monkeypatch
):
    queued, bells = [], []
    monkeypatch.setattr(
        notifications, "async_task", lambda name, *args, **kw: queued.append((name, *args))
    )
    monkeypatch.setattr("marketplace.realtime.broadcast_counts", bells.append)
    monkeypatch.setattr("marketplace.realtime.broadcast_auction", lambda *a, **kw: None)

    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        close_auctions(auction_ids=[a.pk for a in mixed.values()])
    assert queued == bells == []
    for callback in callbacks:
        callback()

    assert queued == [("marketplace.tasks.drain_notification_emails",)]  # one, for every notice
    assert sorted(bells) == sorted([seller.pk, rival.pk])


def test_each_queued_e_mail_is_sent_once(mixed, seller, rival):
    close_auctions(auction_ids=[a.pk for a in mixed.values()])
    ids = list(
        Notification.objects.filter(kind__startswith="auction_").values_list("pk", flat=True)
    )

    assert tasks.send_notification_emails(ids) == 4
    assert tasks.send_notification_emails(ids) == 0
    assert tasks.send_pending_notification_emails() == 1  # the buyer's outbid notice
    assert sorted(m.to[0] for m in mail.outbox if "outbid" not in m.subject) == sorted(
        [seller.email] * 3 + [rival.email]
    )


def test_only_watched_auctions_get_the_ended_broadcast(
    mixed, django_capture_on_commit_callbacks, monkeypatch
):
    sent = []
    watched = mixed["reserve"].pk
    monkeypatch.setattr("marketplace.realtime.watched_auctions", lambda ids: {watched} & set(ids))
    monkeypatch.setattr(
        "marketplace.realtime.broadcast_auction", lambda pk, event, **kw: sent.append((pk, event))
    )

    with django_capture_on_commit_callbacks(execute=True):
        close_auctions(auction_ids=[a.pk for a in mixed.values()])

    assert sent == [(watched, "auction_ended")]


def test_no_ended_broadcast_when_the_layer_cannot_say_who_watches(
    mixed, django_capture_on_commit_callbacks, monkeypatch
):
    sent = []

    def down(ids):
        raise ConnectionError("redis is down")

    monkeypatch.setattr("marketplace.realtime.watched_auctions", down)
    monkeypatch.setattr("marketplace.realtime.broadcast_auction", lambda *a, **kw: sent.append(a))

    with django_capture_on_commit_callbacks(execute=True):
        results = close_auctions(auction_ids=[a.pk for a in mixed.values()])

    assert len(results) == 3
    assert sent == []


def test_a_notice_recorded_before_does_not_stop_the_close(seller):
    auction = ended(seller, title="Noticed")
    other = ended(seller, title="Other")
    Notification.objects.create(
        user=seller, kind="auction_unsold", title="Earlier", dedupe_key=f"auction:{auction.pk}"
    )

    results = close_auctions(auction_ids=[auction.pk, other.pk])

    assert len(results) == 2
    assert status_of(auction) == AuctionListing.Status.ENDED_UNSOLD
    unsold = Notification.objects.filter(kind="auction_unsold")
    assert sorted(unsold.values_list("title", flat=True)) == ["Earlier", "“Other” ended unsold"]


def test_an_order_left_for_an_auction_stops_only_that_auction(seller, buyer, rival):
    """The one-to-one on the auction is the last defence: the sweep closes the others."""
    stuck = ended(seller, title="Stuck", bids=[(buyer, "1000")])
    fine = [ended(seller, title=f"Fine {n}", bids=[(rival, "1000")]) for n in range(2)]
    Order.objects.create(
        number="ALEFTOVER1",
        checkout=Checkout.objects.create(number="CLEFTOVER1", buyer=buyer),
        buyer=buyer,
        seller=seller,
        auction=stuck,
        subtotal=Decimal(1000),
        total=Decimal(1000),
    )

    assert tasks.check_auction_endings() == 2

    assert status_of(stuck) == AuctionListing.Status.LIVE
    assert Order.objects.filter(auction=stuck).count() == 1
    for auction in fine:
        assert status_of(auction) == AuctionListing.Status.ENDED_SOLD
        assert Order.objects.filter(auction=auction).count() == 1


# --- Concurrency (PostgreSQL) -------------------------------------------------------------


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_a_batch_skips_auctions_another_transaction_holds(seller, buyer):
    held, free = (ended(seller, title=t, bids=[(buyer, "1000")]) for t in ("Held", "Free"))
    locked, release = threading.Event(), threading.Event()

    def hold_the_row() -> None:
        try:
            with transaction.atomic():
                AuctionListing.objects.select_for_update().get(pk=held.pk)
                locked.set()
                release.wait(timeout=10)
        finally:
            connections.close_all()

    holder = threading.Thread(target=hold_the_row)
    holder.start()
    try:
        assert locked.wait(timeout=10)
        results = close_auctions(auction_ids=[held.pk, free.pk], skip_locked=True)
    finally:
        release.set()
        holder.join()

    assert [r.auction_id for r in results] == [free.pk]
    assert status_of(held) == AuctionListing.Status.LIVE
    assert not Order.objects.filter(auction=held).exists()
    assert tasks.check_auction_endings() == 1  # the next run picks it up
    assert status_of(held) == AuctionListing.Status.ENDED_SOLD


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
@pytest.mark.parametrize("copy_from", [bulk.COPY_FROM, 2])
def test_concurrent_sweeps_in_small_batches_close_each_auction_once(
    seller, buyer, rival, monkeypatch, copy_from
):
    monkeypatch.setattr(tasks, "CLOSE_BATCH", 3)
    monkeypatch.setattr(bulk, "COPY_FROM", copy_from)  # 2: the batches' rows go in by COPY
    auctions = [
        ended(
            seller,
            title=f"Lot {n}",
            bids=[(buyer, "1000"), (rival, "1100")][: n % 3],
            reserve_price="1050" if n % 4 == 0 else None,
        )
        for n in range(24)
    ]
    will_sell = sum(1 for n in range(24) if n % 3 and not (n % 4 == 0 and n % 3 == 1))

    results = run_at_once(tasks.check_auction_endings, 3)

    assert sum(results) == 24
    assert not AuctionListing.objects.due_to_close().exists()
    sold = AuctionListing.objects.filter(status=AuctionListing.Status.ENDED_SOLD)
    assert sold.count() == will_sell
    assert Order.objects.count() == will_sell
    assert set(Order.objects.values_list("auction_id", flat=True)) == set(
        sold.values_list("pk", flat=True)
    )
    closing_notices = Notification.objects.filter(kind__startswith="auction_")
    assert closing_notices.filter(kind="auction_won").count() == will_sell
    assert closing_notices.filter(kind="auction_sold").count() == will_sell
    assert closing_notices.filter(kind="auction_unsold").count() == len(auctions) - will_sell


# --- A long backlog shared out to the cluster's workers -------------------------------------


@pytest.fixture
def queued(monkeypatch):
    """The tasks check_auction_endings queues, captured instead of sent: (function, ids)."""
    import django_q.tasks

    calls = []
    monkeypatch.setattr(
        django_q.tasks, "async_task", lambda func, *args, **kwargs: calls.append((func, *args))
    )
    return calls


def test_a_backlog_is_shared_out_and_each_share_closes_its_auctions_once(
    seller, buyer, monkeypatch, queued
):
    monkeypatch.setattr(tasks, "CLOSE_SHARE", 2)
    auctions = [ended(seller, title=f"Lot {n}", bids=[(buyer, "1000")]) for n in range(5)]
    ids = sorted(a.pk for a in auctions)

    assert tasks.check_auction_endings() == 2  # its own share

    assert queued == [
        ("marketplace.tasks.close_auction_ids", ids[2:4]),
        ("marketplace.tasks.close_auction_ids", ids[4:]),
    ]
    assert [status_of(a) for a in auctions].count(AuctionListing.Status.LIVE) == 3
    assert [tasks.close_auction_ids(share) for _func, share in queued] == [2, 1]
    assert [tasks.close_auction_ids(share) for _func, share in queued] == [0, 0]  # twice: no harm
    for auction in auctions:
        assert status_of(auction) == AuctionListing.Status.ENDED_SOLD
        assert Order.objects.filter(auction=auction).count() == 1
    assert Notification.objects.filter(kind="auction_won").count() == 5


def test_a_backlog_closes_here_when_the_queue_is_down(seller, monkeypatch, caplog):
    import django_q.tasks

    def down(*args, **kwargs):
        raise ConnectionError("broker unreachable")

    monkeypatch.setattr(django_q.tasks, "async_task", down)
    monkeypatch.setattr(tasks, "CLOSE_SHARE", 2)
    auctions = [ended(seller, title=f"Lot {n}") for n in range(5)]

    assert tasks.check_auction_endings() == 5

    assert {status_of(a) for a in auctions} == {AuctionListing.Status.ENDED_UNSOLD}
    assert "could not queue closing 2 auctions" in caplog.text


def test_a_share_leaves_auctions_that_are_not_due(seller, buyer):
    live = make_auction(seller, title="Still running", starting_price="1000")
    done = ended(seller, title="Over", bids=[(buyer, "1000")])

    assert tasks.close_auction_ids([live.pk, done.pk]) == 1

    assert status_of(live) == AuctionListing.Status.LIVE
    assert status_of(done) == AuctionListing.Status.ENDED_SOLD
