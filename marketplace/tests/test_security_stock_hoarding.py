"""Issue 12, item 2: unpaid checkouts hold stock only briefly, a buyer has few open at once,
and a listing caps how many one order may take."""

from datetime import timedelta

import pytest
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone

from marketplace.exceptions import PurchaseRejected
from marketplace.models import FixedPriceListing, Order, PaymentViolation
from marketplace.services import cancellation
from marketplace.services.cart import add_to_cart
from marketplace.services.deadlines import check_payment_deadlines
from marketplace.services.orders import place_checkout
from marketplace.tests.api_support import token_client
from marketplace.tests.factories.orders import address_of, listing_by, order_for

pytestmark = pytest.mark.django_db


def test_an_unpaid_checkout_releases_its_stock_after_the_hold(seller, buyer, settings):
    settings.CHECKOUT_HOLD_MINUTES = 30
    vase = listing_by(seller, quantity=4)
    order = order_for(buyer, vase, quantity=4)
    assert order.payment_deadline <= timezone.now() + timedelta(minutes=30)
    vase.refresh_from_db()
    assert vase.status == FixedPriceListing.Status.SOLD_OUT

    Order.objects.filter(pk=order.pk).update(payment_deadline=timezone.now())
    check_payment_deadlines()

    order.refresh_from_db()
    vase.refresh_from_db()
    assert order.status == Order.Status.CANCELLED
    assert (vase.quantity, vase.status) == (4, FixedPriceListing.Status.ACTIVE)
    assert not PaymentViolation.objects.exists()  # a fixed-price hold lapsing is no offence


def test_a_buyer_has_a_bounded_number_of_open_unpaid_checkouts(seller, buyer, settings):
    settings.MAX_OPEN_UNPAID_CHECKOUTS = 2
    orders = [order_for(buyer, listing_by(seller)) for _ in range(2)]

    with pytest.raises(PurchaseRejected) as refused:
        order_for(buyer, listing_by(seller))
    assert refused.value.code == "too_many_unpaid"
    assert "2 checkouts waiting for payment" in refused.value.message

    cancellation.cancel_order(order=orders[0], by=buyer, reason="")
    assert order_for(buyer, listing_by(seller)).status == Order.Status.AWAITING_PAYMENT


def test_one_order_takes_at_most_the_listings_limit(seller, buyer):
    vase = listing_by(seller, quantity=20)
    assert vase.max_per_order == 5  # the default

    with pytest.raises(PurchaseRejected) as refused:
        place_checkout(buyer=buyer, lines=[(vase, 6)], address=address_of(buyer))

    assert refused.value.code == "over_order_limit"
    assert "at most 5" in refused.value.message
    vase.refresh_from_db()
    assert vase.quantity == 20


def test_the_cart_obeys_the_limit_over_several_adds(seller, buyer):
    vase = listing_by(seller, quantity=20)
    FixedPriceListing.objects.filter(pk=vase.pk).update(max_per_order=2)
    vase.refresh_from_db()
    add_to_cart(user=buyer, listing=vase, quantity=2)

    with pytest.raises(PurchaseRejected) as refused:
        add_to_cart(user=buyer, listing=vase, quantity=1)
    assert refused.value.code == "over_order_limit"


def test_the_api_obeys_the_limit(seller, buyer):
    vase = listing_by(seller, quantity=20)

    response = token_client(buyer).post(
        "/api/cart/", {"listing": vase.pk, "quantity": 6}, format="json"
    )

    assert response.status_code == 400
    assert response.json()["code"] == "over_order_limit"


def test_the_database_refuses_a_limit_below_one(seller):
    vase = listing_by(seller)
    with pytest.raises(IntegrityError), transaction.atomic():
        FixedPriceListing.objects.filter(pk=vase.pk).update(max_per_order=0)


def test_the_seller_sets_the_limit_on_the_listing_form(seller_client, seller):
    from marketplace.tests.test_catalog import form_data, photo

    response = seller_client.post(
        reverse("listing_create"), form_data(images=[photo()], max_per_order=2)
    )

    assert response.status_code == 302
    assert seller.products.get().fixed_price.max_per_order == 2
