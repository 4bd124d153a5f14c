"""close_auction and the scheduled sweep: one outcome per auction, one order per win."""

import os
import threading
from datetime import timedelta
from decimal import Decimal

import pytest
from django.core import mail
from django.db import connection, connections
from django.utils import timezone
from django_q.models import Schedule

from marketplace import tasks
from marketplace.models import AuctionListing, Notification, Order
from marketplace.services import closing
from marketplace.services.closing import close_auction
from marketplace.tests.auction_helpers import bid, make_auction


def end_now(auction: AuctionListing) -> None:
    """Move the end into the past, as time passing would."""
    AuctionListing.objects.filter(pk=auction.pk).update(
        ends_at=timezone.now() - timedelta(seconds=1)
    )


@pytest.fixture
def sold_auction(seller, buyer, rival):
    auction = make_auction(seller, starting_price="1000", reserve_price="1500")
    bid(auction, buyer, "1000")
    bid(auction, rival, "1600")
    end_now(auction)
    return auction


@pytest.mark.django_db
def test_winner_gets_an_order_awaiting_payment(sold_auction, rival, seller, settings):
    before = timezone.now()
    result = close_auction(auction_id=sold_auction.pk)
    assert result.status == AuctionListing.Status.ENDED_SOLD
    order = Order.objects.get(auction=sold_auction)
    assert order.pk == result.order_id
    assert (order.buyer, order.seller) == (rival, seller)
    assert order.status == Order.Status.AWAITING_PAYMENT
    assert order.subtotal == order.total == Decimal("1600")
    deadline = before + timedelta(hours=settings.AUCTION_PAYMENT_DEADLINE_HOURS)
    assert deadline <= order.payment_deadline <= deadline + timedelta(minutes=1)
    assert not order.has_shipping_address
    item = order.items.get()
    assert (item.title, item.unit_price, item.quantity) == (
        "Multani blue pottery vase",
        Decimal("1600"),
        1,
    )


@pytest.mark.django_db
def test_sold_auction_records_the_winner(sold_auction, rival):
    close_auction(auction_id=sold_auction.pk)
    sold_auction.refresh_from_db()
    assert sold_auction.winner == rival
    assert sold_auction.closed_at is not None


@pytest.mark.django_db
def test_winner_and_seller_are_notified(sold_auction, rival, seller):
    close_auction(auction_id=sold_auction.pk)
    assert Notification.objects.filter(user=rival, kind=Notification.Kind.AUCTION_WON).exists()
    assert Notification.objects.filter(user=seller, kind=Notification.Kind.AUCTION_SOLD).exists()


@pytest.mark.django_db
def test_closing_twice_creates_one_order(sold_auction):
    assert close_auction(auction_id=sold_auction.pk) is not None
    assert close_auction(auction_id=sold_auction.pk) is None
    assert Order.objects.filter(auction=sold_auction).count() == 1
    assert Notification.objects.filter(kind=Notification.Kind.AUCTION_WON).count() == 1


@pytest.mark.django_db
def test_auction_not_yet_due_is_left_live(seller, buyer):
    auction = make_auction(seller)
    bid(auction, buyer, "1000")
    assert close_auction(auction_id=auction.pk) is None
    auction.refresh_from_db()
    assert auction.status == AuctionListing.Status.LIVE


@pytest.mark.django_db
def test_auction_without_bids_ends_unsold(seller):
    auction = make_auction(seller)
    end_now(auction)
    result = close_auction(auction_id=auction.pk)
    assert result.status == AuctionListing.Status.ENDED_UNSOLD
    assert not Order.objects.exists()
    notice = Notification.objects.get(user=seller)
    assert notice.kind == Notification.Kind.AUCTION_UNSOLD


@pytest.mark.django_db
def test_reserve_not_met_ends_unsold_without_an_order(seller, buyer):
    auction = make_auction(seller, starting_price="1000", reserve_price="5000")
    bid(auction, buyer, "2000")
    end_now(auction)
    result = close_auction(auction_id=auction.pk)
    assert result.status == AuctionListing.Status.ENDED_UNSOLD
    assert not Order.objects.exists()
    auction.refresh_from_db()
    assert auction.winner is None
    assert "reserve" in Notification.objects.get(user=seller).body


@pytest.mark.django_db
def test_ended_broadcast_happens_after_commit(
    sold_auction, django_capture_on_commit_callbacks, monkeypatch
):
    sent = []
    monkeypatch.setattr(
        "marketplace.realtime.broadcast_auction",
        lambda auction_id, event, **kw: sent.append((auction_id, event)),
    )
    monkeypatch.setattr("marketplace.realtime.watched_auctions", set)  # someone watches it
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        close_auction(auction_id=sold_auction.pk)
    assert sent == []
    for callback in callbacks:
        callback()
    assert (sold_auction.pk, "auction_ended") in sent


@pytest.mark.django_db
def test_sweep_closes_every_due_auction_and_only_those(seller, buyer):
    due = [make_auction(seller, title=f"Due {i}") for i in range(3)]
    for auction in due:
        end_now(auction)
    running = make_auction(seller, title="Still running")
    assert tasks.check_auction_endings() == 3
    assert set(AuctionListing.objects.due_to_close()) == set()
    running.refresh_from_db()
    assert running.status == AuctionListing.Status.LIVE


@pytest.mark.django_db
def test_sweep_rolls_back_only_the_auction_whose_close_failed(seller, buyer, monkeypatch):
    broken, fine = make_auction(seller, title="Broken"), make_auction(seller, title="Fine")
    for auction in (broken, fine):
        bid(auction, buyer, "1000")
        end_now(auction)
    real_sold_notices = closing._sold_notices

    def fail_half_way(auction, order):  # after its order was written
        if auction.pk == broken.pk:
            raise RuntimeError("failed half-way")
        return real_sold_notices(auction, order)

    monkeypatch.setattr(closing, "_sold_notices", fail_half_way)

    assert tasks.check_auction_endings() == 1
    broken.refresh_from_db()
    fine.refresh_from_db()
    assert broken.status == AuctionListing.Status.LIVE  # its half-done close was undone
    assert not Order.objects.filter(auction=broken).exists()
    assert fine.status == AuctionListing.Status.ENDED_SOLD
    assert Order.objects.filter(auction=fine).count() == 1


@pytest.mark.django_db
def test_sweep_run_twice_closes_once(sold_auction):
    assert tasks.check_auction_endings() == 1
    assert tasks.check_auction_endings() == 0
    assert Order.objects.count() == 1


@pytest.mark.django_db
def test_schedules_exist_after_migrations():
    names = set(Schedule.objects.values_list("name", "func", "minutes"))
    assert ("check_auction_endings", "marketplace.tasks.check_auction_endings", 1) in names
    assert (
        "send_pending_notification_emails",
        "marketplace.tasks.send_pending_notification_emails",
        10,
    ) in names


# --- Notification e-mail ------------------------------------------------------------------


@pytest.mark.django_db
def test_notification_email_is_sent_once(sold_auction, rival):
    close_auction(auction_id=sold_auction.pk)
    notice = Notification.objects.get(user=rival)
    assert tasks.send_notification_email(notice.pk) is True
    assert tasks.send_notification_email(notice.pk) is False
    assert tasks.send_pending_notification_emails() == 2  # the seller's and the outbid one
    assert tasks.send_pending_notification_emails() == 0
    to_rival = [m for m in mail.outbox if m.to == [rival.email]]
    assert len(to_rival) == 1
    assert "/orders/" in to_rival[0].body


@pytest.mark.django_db
def test_email_is_queued_only_after_commit(seller, django_capture_on_commit_callbacks):
    auction = make_auction(seller)
    end_now(auction)
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        close_auction(auction_id=auction.pk)
    assert len(mail.outbox) == 0
    assert len(callbacks) == 3  # the broadcast, the e-mail task and the shared pages' update


# --- Concurrency (PostgreSQL) -------------------------------------------------------------


def require_postgres() -> None:
    if connection.vendor != "postgresql":
        if os.environ.get("CI"):
            pytest.fail("CI must run this test on PostgreSQL (set DATABASE_URL)")
        pytest.skip("needs PostgreSQL; runs in CI")


def run_at_once(target, count: int) -> list:
    results, errors = [], []
    start = threading.Barrier(count)

    def run() -> None:
        try:
            start.wait()
            results.append(target())
        except BaseException as error:
            errors.append(error)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run) for _ in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    return results


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_concurrent_closes_create_one_order(sold_auction):
    require_postgres()
    results = run_at_once(lambda: close_auction(auction_id=sold_auction.pk), 8)
    assert len([r for r in results if r is not None]) == 1
    assert Order.objects.filter(auction=sold_auction).count() == 1


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_concurrent_sweeps_close_each_auction_once(seller, buyer):
    require_postgres()
    auctions = [make_auction(seller, title=f"Lot {i}") for i in range(10)]
    for auction in auctions:
        bid(auction, buyer, "1000")
        end_now(auction)
    results = run_at_once(tasks.check_auction_endings, 4)
    assert sum(results) == 10
    assert Order.objects.count() == 10
    assert Notification.objects.filter(kind=Notification.Kind.AUCTION_WON).count() == 10
    assert not AuctionListing.objects.due_to_close().exists()


@pytest.mark.django_db
def test_admin_close_action_closes_only_due_auctions(admin_client, seller):
    due = make_auction(seller, title="Due")
    end_now(due)
    running = make_auction(seller, title="Running")
    response = admin_client.post(
        "/admin/marketplace/auctionlisting/",
        {"action": "close_if_due", "_selected_action": [due.pk, running.pk]},
        follow=True,
    )
    assert response.status_code == 200
    due.refresh_from_db()
    running.refresh_from_db()
    assert due.status == AuctionListing.Status.ENDED_UNSOLD
    assert running.status == AuctionListing.Status.LIVE


@pytest.mark.django_db
def test_admin_auction_page_renders_with_bid_inline(admin_client, sold_auction):
    response = admin_client.get(f"/admin/marketplace/auctionlisting/{sold_auction.pk}/change/")
    assert response.status_code == 200
    assert "1600" in response.content.decode()
