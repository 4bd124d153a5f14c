"""Delivery fees and estimates (issue 15): one fee per order from its shop, flat or by
province, in the order's total; the platform fee is on the items only."""

from decimal import Decimal

import pytest

from marketplace import delivery
from marketplace.payments import order_fee, split_checkout
from marketplace.services import ledger
from marketplace.services.orders import place_checkout
from marketplace.services.payments import choose_checkout_address
from marketplace.tests.factories.catalog import city
from marketplace.tests.factories.orders import address_of, listing_by, order_for, shop_delivery
from marketplace.tests.factories.payments import won_auction_order

pytestmark = pytest.mark.django_db


def test_a_flat_fee_is_charged_once_per_order_and_added_to_its_total(seller, buyer):
    shop_delivery(seller, fee="250")
    order = order_for(buyer, listing_by(seller, price="1000.00"), quantity=2)

    assert order.subtotal == Decimal("2000.00")
    assert order.shipping_fee == Decimal("250.00")
    assert order.total == Decimal("2250.00")


def test_a_fee_by_province_uses_the_address_province_and_the_flat_fee_elsewhere(seller, buyer):
    shop_delivery(seller, fee="400", by_province={"Punjab": "150", "Sindh": "300"})
    listing = listing_by(seller, price="1000.00", quantity=5)

    def order_to(city_name):
        address = address_of(buyer, city_name=city_name)
        return place_checkout(buyer=buyer, lines=[(listing, 1)], address=address).orders.get()

    lahore, peshawar = order_to("Lahore"), order_to("Peshawar")

    assert lahore.shipping_fee == Decimal("150.00")
    assert peshawar.shipping_fee == Decimal("400.00")


def test_the_platform_fee_is_on_the_items_only(seller, buyer, settings):
    settings.PLATFORM_FEE_RATE = Decimal("0.02")
    shop_delivery(seller, fee="250")
    order = order_for(buyer, listing_by(seller, price="1000.00"))

    assert order_fee(order) == Decimal("20.00")
    [(_order, fee, share)] = split_checkout([order])
    assert (fee, share) == (Decimal("20.00"), Decimal("1230.00"))


def test_a_sale_with_delivery_balances_in_the_ledger(seller, buyer):
    shop_delivery(seller, fee="250")
    order = order_for(buyer, listing_by(seller, price="1000.00"))

    entries = ledger.record_sale(order=order)

    assert sum((e.pending for e in entries), Decimal("0")) == Decimal("1230.00")
    assert ledger.order_money(order)["fee"] == Decimal("20.00")


def test_a_won_auction_gets_its_delivery_fee_when_the_address_is_chosen(seller, buyer):
    shop_delivery(seller, fee="300")
    order = won_auction_order(seller, buyer, price="5000.00")
    assert order.total == Decimal("5000.00")  # no address yet, so no fee yet

    choose_checkout_address(checkout=order.checkout, buyer=buyer, address=address_of(buyer))

    order.refresh_from_db()
    assert (order.shipping_fee, order.total) == (Decimal("300.00"), Decimal("5300.00"))


def test_the_estimate_counts_dispatch_and_distance(seller):
    profile = shop_delivery(seller, fee="250", dispatch_days=1)  # the shop is in Multan

    assert delivery.quote(profile, city("Multan")).min_days == 2
    lahore = delivery.quote(profile, city("Lahore"))
    karachi = delivery.quote(profile, city("Karachi"))
    assert (lahore.min_days, lahore.max_days, lahore.fee) == (2, 3, Decimal("250.00"))
    assert (karachi.min_days, karachi.max_days) == (3, 5)


def test_without_a_destination_a_fee_by_province_is_shown_as_a_range(seller):
    profile = shop_delivery(seller, fee="400", by_province={"Punjab": "150"})

    quote = delivery.quote(profile)

    assert (quote.fee_min, quote.fee_max, quote.fee) == (
        Decimal("150.00"),
        Decimal("400.00"),
        None,
    )
