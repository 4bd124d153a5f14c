"""The last unit raced by a cash-on-delivery and a card checkout on PostgreSQL: one order, the
other buyer is told it is sold out (the COD path takes the same row locks as the paid one)."""

import pytest

from marketplace.exceptions import OutOfStock
from marketplace.models import Checkout, FixedPriceListing, Order
from marketplace.services.orders import place_checkout
from marketplace.tests.factories.accounts import SellerFactory, UserFactory
from marketplace.tests.factories.orders import address_of, listing_by, shop_delivery
from marketplace.tests.test_checkout_concurrency import require_postgresql, run_at_once

ROUNDS = 5


def _race(listing, cod_buyer, card_buyer) -> tuple[list[str], list[Exception]]:
    won: list[str] = []

    def buy(buyer, method):
        def attempt() -> None:
            address = buyer.addresses.get()
            place_checkout(
                buyer=buyer, lines=[(listing, 1)], address=address, payment_method=method
            )
            won.append(method)

        return attempt

    errors = run_at_once(
        buy(cod_buyer, Checkout.PaymentMethod.COD), buy(card_buyer, Checkout.PaymentMethod.CARD)
    )
    return won, errors


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_cod_and_a_card_checkout_racing_for_the_last_unit_sell_it_once():
    require_postgresql()
    seller = SellerFactory(username="amina")
    shop_delivery(seller, fee="250", cod=True)
    winners = set()
    for n in range(ROUNDS):
        # New buyers each round: a buyer may hold only a few unpaid checkouts at once.
        cod_buyer, card_buyer = UserFactory(username=f"naqd{n}"), UserFactory(username=f"card{n}")
        address_of(cod_buyer)
        address_of(card_buyer)
        listing = listing_by(seller, quantity=1)

        won, errors = _race(listing, cod_buyer, card_buyer)

        assert len(won) == 1, (won, errors)
        assert len(errors) == 1 and isinstance(errors[0], OutOfStock), errors
        assert "sold out" in errors[0].message
        listing.refresh_from_db()
        assert (listing.quantity, listing.status) == (0, FixedPriceListing.Status.SOLD_OUT)
        [order] = Order.objects.filter(items__listing=listing)
        expected = Order.Status.UNCONFIRMED if won == ["cod"] else Order.Status.AWAITING_PAYMENT
        assert order.status == expected
        winners.add(won[0])
    assert winners <= {"cod", "card"}


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_deadline_runs_at_once_cancel_an_unconfirmed_order_and_restock_once():
    from datetime import timedelta

    from django.utils import timezone

    from marketplace.models import Notification
    from marketplace.services import deadlines
    from marketplace.tests.factories.orders import cod_order_for

    require_postgresql()
    seller = SellerFactory(username="amina")
    shop_delivery(seller, cod=True)
    buyer = UserFactory(username="bilal")
    address_of(buyer)
    listing = listing_by(seller, quantity=2)
    order = cod_order_for(buyer, listing, quantity=2)
    Order.objects.filter(pk=order.pk).update(payment_deadline=timezone.now() - timedelta(minutes=1))
    errors = run_at_once(deadlines.check_payment_deadlines, deadlines.check_payment_deadlines)

    assert errors == []
    order.refresh_from_db()
    listing.refresh_from_db()
    assert order.status == Order.Status.CANCELLED
    assert (listing.quantity, listing.status) == (2, FixedPriceListing.Status.ACTIVE)
    assert order.events.filter(kind="cancelled").count() == 1
    assert Notification.objects.filter(user=seller, kind="order_cancelled").count() == 1
