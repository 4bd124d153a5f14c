"""The buyer cancels a paid fixed-price order before shipping and gets the whole total back
(against the Stripe emulator), through the one refund path staff use too."""

from decimal import Decimal

import pytest
from django.urls import reverse

from marketplace import payments
from marketplace.exceptions import OrderActionRefused, PaymentProviderError
from marketplace.models import (
    FixedPriceListing,
    LedgerEntry,
    Notification,
    Order,
    OrderEvent,
    Payment,
    Refund,
    SellerTransfer,
)
from marketplace.services import cancellation, fulfilment, ledger
from marketplace.tasks import send_pending_transfers
from marketplace.tests.factories.accounts import UserFactory
from marketplace.tests.factories.catalog import AuctionProductFactory
from marketplace.tests.factories.orders import address_of, listing_by
from marketplace.tests.payments_fixtures import (
    objects,
    onboard,
    paid_before_the_ledger,  # noqa: F401 (fixture)
    pay_and_deliver,
    start_paying,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def vase(seller):
    return listing_by(seller, price="2500.00", quantity=3)


@pytest.fixture
def paid(emulator, receiver, seller, buyer, client, vase) -> Order:
    """Bilal bought two of Amina's vases (Rs 5,000) and really paid for them."""
    from marketplace.services.orders import place_checkout

    onboard(emulator, seller)
    checkout = place_checkout(buyer=buyer, lines=[(vase, 2)], address=address_of(buyer))
    client.force_login(buyer)
    pay_and_deliver(client, emulator, receiver, start_paying(client, checkout))
    order = Order.objects.get(checkout=checkout)
    assert order.status == Order.Status.PAID
    return order


def cancel_url(order: Order) -> str:
    return reverse("order_cancel", args=[order.number])


def kinds(order: Order) -> list[str]:
    return list(order.events.values_list("kind", flat=True))


def test_the_buyer_cancels_a_paid_order_and_is_refunded_in_full(emulator, paid, buyer):
    order = cancellation.cancel_order(order=paid, by=buyer, reason="Ordered twice")

    assert order.status == Order.Status.REFUNDED
    assert (order.cancel_reason, order.cancelled_at is not None) == ("Ordered twice", True)
    refund = Refund.objects.get(order=order)
    assert (refund.status, refund.amount, refund.requested_by) == (
        "succeeded",
        Decimal("5000.00"),
        buyer,
    )
    sent = objects(emulator, "refund")
    assert [(r["id"], r["amount"]) for r in sent] == [(refund.stripe_refund_id, 500000)]
    assert Payment.objects.get().status == Payment.Status.REFUNDED
    # Issue 14: the money never left; the seller's sale is reversed, nothing to claw back.
    assert not SellerTransfer.objects.exists() and objects(emulator, "transfer") == []
    assert ledger.balances(order.seller).pending == Decimal("0.00")
    assert LedgerEntry.objects.get(order=order, kind="refund").pending == Decimal("-5000.00")


def test_the_stock_goes_back_on_sale(paid, buyer, vase):
    FixedPriceListing.objects.filter(pk=vase.pk).update(quantity=0, status="sold_out")

    cancellation.cancel_order(order=paid, by=buyer, reason="")

    vase.refresh_from_db()
    assert (vase.quantity, vase.status) == (2, FixedPriceListing.Status.ACTIVE)


def test_the_timeline_shows_the_cancellation_then_the_refund(paid, buyer):
    cancellation.cancel_order(order=paid, by=buyer, reason="")

    assert kinds(paid)[-2:] == [OrderEvent.Kind.CANCELLED, OrderEvent.Kind.REFUNDED]
    assert paid.events.get(kind=OrderEvent.Kind.CANCELLED).actor == buyer


def test_the_seller_is_told_not_to_send_it(paid, buyer, seller):
    cancellation.cancel_order(order=paid, by=buyer, reason="")

    notice = Notification.objects.get(user=seller, kind=Notification.Kind.ORDER_CANCELLED)
    assert paid.number in notice.title
    assert "Rs 5,000" in notice.body
    assert not Notification.objects.filter(
        user=buyer, kind=Notification.Kind.ORDER_CANCELLED
    ).exists()


def test_cancelling_twice_refunds_once(emulator, paid, buyer, vase):
    cancellation.cancel_order(order=paid, by=buyer, reason="")

    with pytest.raises(OrderActionRefused) as refused:
        cancellation.cancel_order(order=paid, by=buyer, reason="")

    assert refused.value.code == "closed"
    assert len(objects(emulator, "refund")) == 1
    assert Refund.objects.count() == 1
    vase.refresh_from_db()
    assert vase.quantity == 3


@pytest.mark.usefixtures("paid_before_the_ledger")
def test_a_transfer_already_sent_before_the_ledger_is_reversed_before_the_refund(
    emulator, paid, buyer
):
    send_pending_transfers()

    cancellation.cancel_order(order=paid, by=buyer, reason="")

    assert SellerTransfer.objects.get(order=paid).status == SellerTransfer.Status.REVERSED
    assert Refund.objects.get(order=paid).status == Refund.Status.SUCCEEDED


def test_a_shipped_order_is_not_cancelled(emulator, paid, buyer, seller):
    fulfilment.mark_shipped(order=paid, by=seller, courier="TCS", tracking_number="T-1")

    with pytest.raises(OrderActionRefused) as refused:
        cancellation.cancel_order(order=paid, by=buyer, reason="")

    assert refused.value.code == "shipped"
    assert objects(emulator, "refund") == []
    assert Order.objects.get(pk=paid.pk).status == Order.Status.SHIPPED


def test_the_buyer_cannot_cancel_a_paid_auction_order(emulator, paid, buyer, seller):
    auction = AuctionProductFactory(seller=seller).auction
    Order.objects.filter(pk=paid.pk).update(auction=auction)

    with pytest.raises(OrderActionRefused) as refused:
        cancellation.cancel_order(order=paid, by=buyer, reason="")

    assert refused.value.code == "auction_order"
    assert not Refund.objects.exists()
    assert not Order.objects.get(pk=paid.pk).can_cancel(buyer)


def test_the_seller_cannot_cancel_a_paid_order(emulator, paid, seller, vase):
    with pytest.raises(OrderActionRefused) as refused:
        cancellation.cancel_order(order=paid, by=seller, reason="")

    assert refused.value.code == "seller_paid"
    assert Order.objects.get(pk=paid.pk).status == Order.Status.PAID
    assert FixedPriceListing.objects.get(pk=vase.pk).quantity == 1
    assert not paid.can_cancel(seller)


def test_staff_may_cancel_any_paid_unshipped_order_and_both_parties_are_told(
    emulator, paid, seller, buyer
):
    staff = UserFactory(username="staff", is_staff=True)
    auction = AuctionProductFactory(seller=seller).auction
    Order.objects.filter(pk=paid.pk).update(auction=auction)

    order = cancellation.cancel_order(order=paid, by=staff, reason="Seller is away")

    assert order.status == Order.Status.REFUNDED
    assert len(objects(emulator, "refund")) == 1
    assert order.events.get(kind=OrderEvent.Kind.CANCELLED).actor == staff
    for user in (seller, buyer):
        assert Notification.objects.filter(user=user, kind="order_cancelled").exists()


def test_a_provider_failure_leaves_the_order_cancelled_and_the_retry_refunds_it(
    emulator, paid, buyer, monkeypatch
):
    def refuse(**kwargs):
        raise PaymentProviderError("refused", detail="provider down")

    with monkeypatch.context() as patched:
        patched.setattr(payments, "create_refund", refuse)
        order = cancellation.cancel_order(order=paid, by=buyer, reason="")

    assert order.status == Order.Status.CANCELLED
    refund = Refund.objects.get(order=order)
    assert (refund.status, refund.last_error) == (Refund.Status.FAILED, "provider down")
    assert kinds(order)[-1] == OrderEvent.Kind.CANCELLED
    assert objects(emulator, "refund") == []

    counts = send_pending_transfers()

    assert counts["refunds"] == 1
    assert Order.objects.get(pk=order.pk).status == Order.Status.REFUNDED
    assert len(objects(emulator, "refund")) == 1
    # The ledger was reversed with the Refund row, once, whatever the provider did.
    assert LedgerEntry.objects.filter(order=order, kind="refund").count() == 1
    assert ledger.balances(order.seller).pending == Decimal("0.00")


# --- The order page -------------------------------------------------------------------------


def test_the_order_page_offers_the_buyer_a_refund(client, paid):
    page = client.get(reverse("order_detail", args=[paid.number])).content.decode()

    assert "Cancel and get a refund" in page


def test_the_confirm_page_says_how_much_comes_back(client, paid):
    page = client.get(cancel_url(paid)).content.decode()

    assert "You will get Rs 5,000 back" in page
    assert 'method="post"' in page


def test_confirming_cancels_refunds_and_says_so(emulator, client, paid):
    response = client.post(cancel_url(paid), {"reason": "Changed my mind"}, follow=True)

    page = response.content.decode()
    assert "Rs 5,000 is on its way back to you" in page
    assert "Rs 5,000 has been refunded to you" in page
    assert Order.objects.get(pk=paid.pk).status == Order.Status.REFUNDED
    assert len(objects(emulator, "refund")) == 1


def test_the_seller_is_shown_why_they_cannot_cancel(client, paid, seller):
    client.force_login(seller)

    detail = client.get(reverse("order_detail", args=[paid.number])).content.decode()
    response = client.get(cancel_url(paid), follow=True)

    assert 'id="cancel-order"' not in detail
    assert "Only staff can cancel a paid order" in detail
    assert "only staff can cancel it" in response.content.decode()
    assert client.post(cancel_url(paid)).status_code == 302
    assert Order.objects.get(pk=paid.pk).status == Order.Status.PAID


def test_someone_else_gets_404(client, paid, outsider):
    client.force_login(outsider)

    assert client.get(cancel_url(paid)).status_code == 404
    assert client.post(cancel_url(paid)).status_code == 404
    assert Order.objects.get(pk=paid.pk).status == Order.Status.PAID


def test_the_total_in_a_notice_is_written_in_its_readers_language(emulator, paid, seller, buyer):
    """An Urdu-speaking buyer cancels; the English-speaking seller reads rupees in English."""
    from django.utils import translation

    type(buyer).objects.filter(pk=buyer.pk).update(language="ur")
    type(seller).objects.filter(pk=seller.pk).update(language="en")
    buyer.refresh_from_db()

    with translation.override("ur"):  # the buyer's request
        cancellation.cancel_order(order=paid, by=buyer, reason="")

    notice = Notification.objects.get(user=seller, kind="order_cancelled")
    assert "gets Rs 5,000 back" in notice.body
    assert "روپے" not in notice.body
