"""Notices about payments: receipts, the half-time reminder, non-payment, blocks, offers."""

from datetime import timedelta

import pytest
from django.utils import timezone

from marketplace import tasks
from marketplace.models import Notification, Order
from marketplace.tests.factories.orders import listing_by, order_for
from marketplace.tests.factories.payments import won_auction_order
from marketplace.tests.payments_fixtures import onboard, pay_and_deliver, start_paying

pytestmark = pytest.mark.django_db

Kind = Notification.Kind


def notices(user, kind=None):
    found = Notification.objects.filter(user=user)
    return list(found.filter(kind=kind) if kind else found)


def test_a_payment_notifies_the_buyer_and_the_seller(emulator, receiver, seller, buyer, client):
    onboard(emulator, seller)
    order = order_for(buyer, listing_by(seller, price="2500.00"))
    client.force_login(buyer)

    pay_and_deliver(client, emulator, receiver, start_paying(client, order.checkout))

    [receipt] = notices(buyer, Kind.PAYMENT_RECEIVED)
    assert order.checkout.number in receipt.title
    assert "Rs 2,500" in receipt.body
    [sale] = notices(seller, Kind.PAYMENT_RECEIVED)
    assert order.number in sale.title
    assert "Rs 2,450" in sale.body  # the seller's share after the 2% fee


def _halfway(order: Order, *, gone: float) -> None:
    now = timezone.now()
    Order.objects.filter(pk=order.pk).update(
        created_at=now - timedelta(hours=48 * gone),
        payment_deadline=now + timedelta(hours=48 * (1 - gone)),
    )


def test_the_buyer_is_reminded_once_half_the_time_is_gone(seller, buyer):
    order = order_for(buyer, listing_by(seller))
    _halfway(order, gone=0.6)

    assert tasks.send_payment_reminders() == 1
    assert tasks.send_payment_reminders() == 0

    [reminder] = notices(buyer, Kind.PAYMENT_REMINDER)
    assert order.number in reminder.title


def test_no_reminder_before_half_time(seller, buyer):
    order = order_for(buyer, listing_by(seller))
    _halfway(order, gone=0.4)

    assert tasks.send_payment_reminders() == 0
    assert notices(buyer) == []


def test_no_reminder_for_a_paid_order(seller, buyer):
    order = order_for(buyer, listing_by(seller))
    _halfway(order, gone=0.9)
    Order.objects.filter(pk=order.pk).update(status=Order.Status.PAID)

    assert tasks.send_payment_reminders() == 0


def test_non_payment_tells_the_buyer_it_counts_and_the_seller_about_the_offer(
    seller, buyer, rival, settings
):
    settings.PAYMENT_VIOLATIONS_BEFORE_BLOCK = 3
    order = won_auction_order(seller, buyer, bidders=[rival], overdue=True)

    tasks.check_payment_deadlines()

    [warning] = notices(buyer, Kind.ORDER_UNPAID)
    assert "1 of 3" in warning.body
    [to_seller] = notices(seller, Kind.ORDER_UNPAID)
    assert "next highest bidder" in to_seller.body
    [offer] = notices(rival, Kind.SECOND_CHANCE_OFFER)
    assert "Rs 4,500" in offer.title
    assert offer.url == "/offers/"
    assert order.number in warning.title


def test_the_block_is_announced_once(seller, buyer, settings):
    settings.PAYMENT_VIOLATIONS_BEFORE_BLOCK = 1
    won_auction_order(seller, buyer, overdue=True)

    tasks.check_payment_deadlines()
    tasks.check_payment_deadlines()

    assert len(notices(buyer, Kind.ACCOUNT_BLOCKED)) == 1


def test_an_unpaid_fixed_price_order_notifies_without_a_violation_warning(seller, buyer):
    order = order_for(buyer, listing_by(seller))
    Order.objects.filter(pk=order.pk).update(payment_deadline=timezone.now() - timedelta(minutes=1))

    tasks.check_payment_deadlines()

    [to_buyer] = notices(buyer, Kind.ORDER_UNPAID)
    assert "can no longer bid" not in to_buyer.body
    [to_seller] = notices(seller, Kind.ORDER_UNPAID)
    assert "back on sale" in to_seller.body


def test_notices_are_written_in_the_readers_language(seller, buyer, rival):
    rival.language = "ur"
    rival.save(update_fields=["language"])
    won_auction_order(seller, buyer, bidders=[rival], overdue=True)

    tasks.check_payment_deadlines()

    [offer] = notices(rival, Kind.SECOND_CHANCE_OFFER)
    assert "Second chance" not in offer.title
