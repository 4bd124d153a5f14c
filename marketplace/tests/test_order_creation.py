"""One order constructor (`services.orders.create_orders`): a fixed-price checkout, an auction
win and an accepted second-chance offer all make orders of the same shape."""

import re
from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from marketplace import tasks
from marketplace.models import AuctionListing, Checkout, Order, OrderEvent, SecondChanceOffer
from marketplace.services import deadlines
from marketplace.services.closing import close_auction
from marketplace.tests.auction_helpers import bid, make_auction
from marketplace.tests.factories.orders import listing_by, order_for
from marketplace.tests.factories.payments import won_auction_order

pytestmark = pytest.mark.django_db

ORDER_NUMBER = re.compile(r"MPK-[0-9A-HJKMNP-TV-Z]{8}")
CHECKOUT_NUMBER = re.compile(r"C-[0-9A-HJKMNP-TV-Z]{8}")


def fixed_price_order(seller, buyer, rival) -> tuple[Order, str]:
    return order_for(buyer, listing_by(seller, price="2500.00")), "2500.00"


def auction_order(seller, buyer, rival) -> tuple[Order, str]:
    auction = make_auction(seller)
    bid(auction, buyer, "1500")
    AuctionListing.objects.filter(pk=auction.pk).update(
        ends_at=timezone.now() - timedelta(seconds=1)
    )
    result = close_auction(auction_id=auction.pk)
    return Order.objects.get(pk=result.order_id), "1500.00"


def second_chance_order(seller, buyer, rival) -> tuple[Order, str]:
    won_auction_order(seller, rival, price="5000.00", bidders=[buyer], overdue=True)
    tasks.check_payment_deadlines()
    offer = SecondChanceOffer.objects.get()
    checkout = deadlines.accept_second_chance_offer(offer=offer, buyer=buyer)
    return checkout.orders.get(), "4500.00"


@pytest.mark.parametrize("make", [fixed_price_order, auction_order, second_chance_order])
def test_every_path_makes_the_same_shape_of_order(make, seller, buyer, rival):
    order, price = make(seller, buyer, rival)

    assert ORDER_NUMBER.fullmatch(order.number)
    assert CHECKOUT_NUMBER.fullmatch(order.checkout.number)
    assert (order.buyer, order.seller, order.status) == (
        buyer,
        seller,
        Order.Status.AWAITING_PAYMENT,
    )
    assert order.subtotal == order.total == Decimal(price)
    assert order.shipping_fee == Decimal("0.00")
    assert order.payment_deadline > order.created_at
    (item,) = order.items.all()
    assert (item.title, item.unit_price, item.quantity, item.line_total) == (
        item.product.title,
        Decimal(price),
        1,
        Decimal(price),
    )
    (placed,) = order.events.filter(kind=OrderEvent.Kind.PLACED)
    assert (placed.actor, placed.created_at) == (buyer, order.created_at)
    assert order.events.count() == 1


def test_orders_numbered_the_old_way_still_open(buyer_client, seller, buyer):
    order = order_for(buyer, listing_by(seller))
    Order.objects.filter(pk=order.pk).update(number="A7K2M9QXZ")
    order.checkout.number = "C7K2M9QXZ"
    order.checkout.save(update_fields=["number"])

    assert buyer_client.get("/orders/A7K2M9QXZ/").status_code == 200
    assert buyer_client.get("/checkouts/C7K2M9QXZ/").status_code == 200


@pytest.mark.parametrize("make", [fixed_price_order, auction_order, second_chance_order])
def test_every_path_pays_by_card_unless_told_otherwise(make, seller, buyer, rival):
    order, _ = make(seller, buyer, rival)

    assert order.checkout.payment_method == Checkout.PaymentMethod.CARD
    assert order.is_cod is False


def test_an_order_of_a_cod_checkout_is_cod(seller, buyer):
    order = order_for(buyer, listing_by(seller))
    Checkout.objects.filter(pk=order.checkout_id).update(payment_method=Checkout.PaymentMethod.COD)

    assert Order.objects.get(pk=order.pk).is_cod is True
