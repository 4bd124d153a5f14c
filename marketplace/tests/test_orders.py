"""Checkout and orders: the services' rules, then the order pages and who may see them."""

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone, translation

from marketplace.exceptions import (
    OrderActionRefused,
    OutOfStock,
    PaymentRejected,
    PurchaseRejected,
)
from marketplace.models import CartItem, Checkout, FixedPriceListing, Order
from marketplace.services.cancellation import cancel_order
from marketplace.services.cart import add_to_cart
from marketplace.services.orders import place_checkout
from marketplace.tests.factories.accounts import SellerFactory, UserFactory, lose_payouts
from marketplace.tests.factories.orders import address_of, listing_by, order_for
from marketplace.tests.factories.payments import ready_to_be_paid

pytestmark = pytest.mark.django_db


def refresh(listing: FixedPriceListing) -> FixedPriceListing:
    listing.refresh_from_db()
    return listing


# --- place_checkout -------------------------------------------------------------------------


def test_a_cart_from_two_sellers_becomes_one_checkout_with_one_order_per_seller(seller, buyer):
    other_seller = SellerFactory(username="kashif")
    vase = listing_by(seller, price="2500")
    bowl = listing_by(seller, price="1200")
    shawl = listing_by(other_seller, price="8000")

    checkout = place_checkout(
        buyer=buyer, lines=[(vase, 1), (shawl, 1), (bowl, 2)], address=address_of(buyer)
    )

    orders = {order.seller: order for order in checkout.orders.all()}
    assert set(orders) == {seller, other_seller}
    assert orders[seller].items.count() == 2
    assert orders[seller].subtotal == orders[seller].total == Decimal("4900.00")
    assert orders[other_seller].total == Decimal("8000.00")
    assert {order.status for order in orders.values()} == {Order.Status.AWAITING_PAYMENT}


def test_an_order_snapshots_title_price_quantity_and_address(seller, buyer):
    vase = listing_by(seller, price="2500", title="Blue pottery vase")
    address = address_of(buyer, city_name="Multan", postal_code="60000")

    order = place_checkout(buyer=buyer, lines=[(vase, 2)], address=address).orders.get()

    item = order.items.get()
    assert (item.title, item.unit_price, item.quantity, item.line_total) == (
        "Blue pottery vase",
        Decimal("2500.00"),
        2,
        Decimal("5000.00"),
    )
    assert (order.ship_name, order.ship_phone, order.ship_line1, order.ship_line2) == (
        "Bilal Ahmed",
        "+923001234567",
        "12 Mall Road",
        "Near Anarkali",
    )
    assert (order.ship_city, order.ship_province, order.ship_postal_code) == (
        "Multan",
        "Punjab",
        "60000",
    )


def test_the_order_keeps_its_price_and_address_when_the_listing_and_address_change_later(
    seller, buyer
):
    vase = listing_by(seller, price="2500", title="Blue pottery vase")
    order = order_for(buyer, vase)

    vase.price = Decimal("9999.00")
    vase.save()
    vase.product.title = "Renamed vase"
    vase.product.save()
    buyer.addresses.update(line1="Somewhere else")

    order.refresh_from_db()
    item = order.items.get()
    assert (item.title, item.unit_price) == ("Blue pottery vase", Decimal("2500.00"))
    assert order.total == Decimal("2500.00")
    assert order.ship_line1 == "12 Mall Road"


def test_a_sale_price_is_what_the_buyer_pays(seller, buyer):
    vase = listing_by(seller, price="2000")
    now = timezone.now()
    vase.sale_percent = 25
    vase.sale_starts_at = now - timedelta(days=1)
    vase.sale_ends_at = now + timedelta(days=1)
    vase.save()

    order = order_for(buyer, vase)

    assert order.items.get().unit_price == Decimal("1500.00")
    assert order.total == Decimal("1500.00")


def test_checkout_takes_the_items_out_of_stock(seller, buyer):
    vase = listing_by(seller, quantity=3)

    order_for(buyer, vase, quantity=2)

    assert refresh(vase).quantity == 1
    assert vase.status == FixedPriceListing.Status.ACTIVE


def test_buying_the_last_item_marks_the_listing_sold_out(seller, buyer):
    vase = listing_by(seller, quantity=2)

    order_for(buyer, vase, quantity=2)

    assert refresh(vase).quantity == 0
    assert vase.status == FixedPriceListing.Status.SOLD_OUT


def test_an_order_must_be_paid_within_the_checkout_hold(seller, buyer, settings):
    settings.CHECKOUT_HOLD_MINUTES = 45
    before = timezone.now()

    order = order_for(buyer, listing_by(seller))

    assert (
        before + timedelta(minutes=45)
        <= order.payment_deadline
        <= timezone.now() + timedelta(minutes=45)
    )


def test_order_and_checkout_numbers_are_short_and_readable(seller, buyer):
    order = order_for(buyer, listing_by(seller))

    assert order.number.startswith("MPK-") and len(order.number) == 12
    assert order.checkout.number.startswith("C-") and len(order.checkout.number) == 10


def test_checkout_from_the_cart_removes_the_bought_items_from_the_cart(seller, buyer):
    vase, bowl = listing_by(seller), listing_by(seller)
    add_to_cart(user=buyer, listing=vase, quantity=1)
    add_to_cart(user=buyer, listing=bowl, quantity=1)

    place_checkout(buyer=buyer, lines=[(vase, 1)], address=address_of(buyer))

    assert list(CartItem.objects.filter(user=buyer).values_list("listing", flat=True)) == [bowl.pk]


def test_buy_now_checkout_leaves_the_cart_alone(seller, buyer):
    vase = listing_by(seller)
    add_to_cart(user=buyer, listing=vase, quantity=1)

    place_checkout(buyer=buyer, lines=[(vase, 1)], address=address_of(buyer), from_cart=False)

    assert CartItem.objects.filter(user=buyer, listing=vase).exists()


def test_a_seller_cannot_buy_their_own_listing(seller):
    vase = listing_by(seller, title="Blue pottery vase")

    with pytest.raises(PurchaseRejected, match=r"Blue pottery vase.*your own listing"):
        place_checkout(buyer=seller, lines=[(vase, 1)], address=address_of(seller))


def test_a_withdrawn_listing_cannot_be_bought(seller, buyer):
    vase = listing_by(seller, title="Blue pottery vase")
    vase.status = FixedPriceListing.Status.WITHDRAWN
    vase.save()

    with pytest.raises(PurchaseRejected, match=r"Blue pottery vase.*withdrawn"):
        place_checkout(buyer=buyer, lines=[(vase, 1)], address=address_of(buyer))


def test_a_sold_out_listing_cannot_be_bought(seller, buyer, rival):
    vase = listing_by(seller, quantity=1, title="Blue pottery vase")
    order_for(rival, vase)

    with pytest.raises(OutOfStock, match=r"Blue pottery vase.*sold out"):
        place_checkout(buyer=buyer, lines=[(vase, 1)], address=address_of(buyer))


def test_buying_more_than_the_stock_is_refused_saying_how_many_are_available(seller, buyer):
    vase = listing_by(seller, quantity=2, title="Blue pottery vase")

    with pytest.raises(OutOfStock, match="Only 2 of “Blue pottery vase” available"):
        place_checkout(buyer=buyer, lines=[(vase, 3)], address=address_of(buyer))


def test_the_same_listing_twice_in_one_checkout_counts_against_the_stock_once(seller, buyer):
    vase = listing_by(seller, quantity=2)

    with pytest.raises(OutOfStock):
        place_checkout(buyer=buyer, lines=[(vase, 1), (vase, 2)], address=address_of(buyer))


@pytest.mark.parametrize("quantity", [0, -1, "2", True])
def test_a_quantity_that_is_not_a_positive_whole_number_is_refused(seller, buyer, quantity):
    with pytest.raises(PurchaseRejected):
        place_checkout(
            buyer=buyer, lines=[(listing_by(seller), quantity)], address=address_of(buyer)
        )


def test_a_blocked_buyer_cannot_buy(seller, buyer):
    vase = listing_by(seller)
    address = address_of(buyer)
    buyer.block("Did not pay three times")

    with pytest.raises(PurchaseRejected, match="blocked"):
        place_checkout(buyer=buyer, lines=[(vase, 1)], address=address)


def test_the_block_is_read_from_the_database_not_the_stale_user_object(seller, buyer):
    vase = listing_by(seller)
    address = address_of(buyer)
    type(buyer).objects.filter(pk=buyer.pk).update(blocked_at=timezone.now())

    with pytest.raises(PurchaseRejected, match="blocked"):
        place_checkout(buyer=buyer, lines=[(vase, 1)], address=address)


def test_someone_elses_address_cannot_be_used(seller, buyer, outsider):
    with pytest.raises(PurchaseRejected, match="your own addresses"):
        place_checkout(buyer=buyer, lines=[(listing_by(seller), 1)], address=address_of(outsider))


def test_an_empty_checkout_is_refused(buyer):
    with pytest.raises(PurchaseRejected):
        place_checkout(buyer=buyer, lines=[], address=address_of(buyer))


def test_a_refused_checkout_changes_nothing(seller, buyer):
    vase = listing_by(seller, quantity=3)
    bowl = listing_by(seller, quantity=1)

    with pytest.raises(OutOfStock):
        place_checkout(buyer=buyer, lines=[(vase, 2), (bowl, 5)], address=address_of(buyer))

    assert refresh(vase).quantity == 3
    assert not Checkout.objects.exists()
    assert not Order.objects.exists()


def test_a_price_change_since_the_summary_was_shown_is_refused(seller, buyer):
    vase = listing_by(seller, price="2500")
    vase.price = Decimal("3000.00")
    vase.save()

    with pytest.raises(PurchaseRejected, match="Rs 3,000"):
        place_checkout(
            buyer=buyer,
            lines=[(vase, 1)],
            address=address_of(buyer),
            expected_total=Decimal("2500.00"),
        )
    assert refresh(vase).quantity == 3


# --- cancel_order ---------------------------------------------------------------------------


def test_cancelling_an_unpaid_order_puts_the_stock_back(seller, buyer):
    vase = listing_by(seller, quantity=3)
    order = order_for(buyer, vase, quantity=2)

    cancel_order(order=order, by=buyer, reason="Ordered by mistake")

    order.refresh_from_db()
    assert order.status == Order.Status.CANCELLED
    assert order.cancel_reason == "Ordered by mistake"
    assert order.cancelled_at is not None
    assert refresh(vase).quantity == 3


def test_cancelling_makes_a_sold_out_listing_active_again(seller, buyer):
    vase = listing_by(seller, quantity=1)
    order = order_for(buyer, vase)

    cancel_order(order=order, by=buyer, reason="")

    assert (refresh(vase).quantity, vase.status) == (1, FixedPriceListing.Status.ACTIVE)


def test_cancelling_does_not_bring_a_withdrawn_listing_back_on_sale(seller, buyer):
    vase = listing_by(seller, quantity=1)
    order = order_for(buyer, vase)
    FixedPriceListing.objects.filter(pk=vase.pk).update(status=FixedPriceListing.Status.WITHDRAWN)

    cancel_order(order=order, by=buyer, reason="")

    assert (refresh(vase).quantity, vase.status) == (1, FixedPriceListing.Status.WITHDRAWN)


def test_the_seller_can_cancel_an_unpaid_order(seller, buyer):
    order = order_for(buyer, listing_by(seller))

    cancel_order(order=order, by=seller, reason="Broke while packing")

    order.refresh_from_db()
    assert order.status == Order.Status.CANCELLED


def test_an_outsider_cannot_cancel_an_order(seller, buyer, outsider):
    order = order_for(buyer, listing_by(seller))

    with pytest.raises(OrderActionRefused):
        cancel_order(order=order, by=outsider, reason="")

    order.refresh_from_db()
    assert order.status == Order.Status.AWAITING_PAYMENT


def test_a_paid_order_is_cancelled_only_with_a_refund(seller, buyer):
    vase = listing_by(seller, quantity=3)
    order = order_for(buyer, vase)
    Order.objects.filter(pk=order.pk).update(status=Order.Status.PAID)

    # cancel_order takes the refund path for it; with no payment recorded there is nothing to
    # refund, so nothing changes (no stock back for an order that stays paid).
    with pytest.raises(PaymentRejected) as refused:
        cancel_order(order=order, by=buyer, reason="")

    assert refused.value.code == "not_paid"
    assert refresh(vase).quantity == 2
    assert Order.objects.get(pk=order.pk).status == Order.Status.PAID


def test_cancelling_twice_returns_the_stock_only_once(seller, buyer):
    vase = listing_by(seller, quantity=3)
    order = order_for(buyer, vase)
    cancel_order(order=order, by=buyer, reason="")

    with pytest.raises(OrderActionRefused) as refused:
        cancel_order(order=order, by=buyer, reason="")

    assert refused.value.code == "closed"

    assert refresh(vase).quantity == 3


# --- Pages ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "needs_number"),
    [
        ("order_list", False),
        ("sale_list", False),
        ("cart_detail", False),
        ("checkout_start", False),
        ("order_detail", True),
        ("order_cancel", True),
        ("checkout_detail", True),
    ],
)
def test_anonymous_visitors_are_sent_to_log_in(client, seller, buyer, name, needs_number):
    order = order_for(buyer, listing_by(seller))
    number = order.checkout.number if name == "checkout_detail" else order.number
    url = reverse(name, args=[number] if needs_number else [])

    response = client.get(url)

    assert response.status_code == 302
    assert response.url.startswith(reverse("login"))


def test_my_orders_lists_the_buyers_orders_newest_first(client, seller, buyer, rival):
    first = order_for(buyer, listing_by(seller))
    second = order_for(buyer, listing_by(seller))
    theirs = order_for(rival, listing_by(seller))
    client.force_login(buyer)

    response = client.get(reverse("order_list"))

    numbers = [order.number for order in response.context["page"].object_list]
    assert numbers == [second.number, first.number]
    assert theirs.number not in response.content.decode()
    assert "Awaiting payment" in response.content.decode()


def test_my_orders_uses_a_fixed_number_of_queries(
    client, seller, buyer, django_assert_max_num_queries, settings
):
    settings.MAX_OPEN_UNPAID_CHECKOUTS = 10
    for _ in range(5):
        order_for(buyer, listing_by(seller))
    client.force_login(buyer)

    with django_assert_max_num_queries(8):
        client.get(reverse("order_list"))


def test_my_orders_survives_a_nonsense_page_number(buyer_client):
    response = buyer_client.get(reverse("order_list"), {"page": "abc"})

    assert response.status_code == 200


def test_sales_lists_the_sellers_orders_only(client, seller, buyer):
    mine = order_for(buyer, listing_by(seller))
    other = order_for(buyer, listing_by(SellerFactory(username="kashif")))
    client.force_login(seller)

    response = client.get(reverse("sale_list"))

    assert [order.number for order in response.context["page"].object_list] == [mine.number]
    assert other.number not in response.content.decode()


def test_a_buyer_opening_sales_is_told_how_to_become_a_seller(buyer_client):
    response = buyer_client.get(reverse("sale_list"))

    assert response.status_code == 403
    assert "Open my shop" in response.content.decode()


def test_the_buyer_sees_their_order_with_pay_and_cancel(client, seller, buyer):
    ready_to_be_paid(seller)
    order = order_for(buyer, listing_by(seller, title="Blue pottery vase"))
    client.force_login(buyer)

    response = client.get(reverse("order_detail", args=[order.number]))

    page = response.content.decode()
    assert "Blue pottery vase" in page
    assert "12 Mall Road" in page and "Punjab" in page
    assert reverse("checkout_pay", args=[order.checkout.number]) in page
    assert reverse("order_cancel", args=[order.number]) in page


def test_the_order_page_shows_the_deadline_in_pakistan_time(client, seller, buyer):
    order = order_for(buyer, listing_by(seller))
    Order.objects.filter(pk=order.pk).update(
        payment_deadline=datetime(2026, 11, 27, 9, 30, tzinfo=UTC)
    )
    client.force_login(buyer)

    response = client.get(reverse("order_detail", args=[order.number]))

    assert "27 Nov 2026, 14:30 PKT" in response.content.decode()


def test_the_seller_sees_the_order_without_a_pay_button(client, seller, buyer):
    order = order_for(buyer, listing_by(seller))
    client.force_login(seller)

    response = client.get(reverse("order_detail", args=[order.number]))

    assert response.status_code == 200
    assert reverse("checkout_pay", args=[order.checkout.number]) not in response.content.decode()


@pytest.mark.parametrize("method", ["get", "post"])
@pytest.mark.parametrize("name", ["order_detail", "order_cancel"])
def test_someone_elses_order_is_not_found(client, seller, buyer, outsider, name, method):
    order = order_for(buyer, listing_by(seller))
    client.force_login(outsider)

    response = getattr(client, method)(reverse(name, args=[order.number]))

    assert response.status_code == 404
    order.refresh_from_db()
    assert order.status == Order.Status.AWAITING_PAYMENT


@pytest.mark.parametrize("who", ["seller", "outsider"])
def test_only_the_buyer_can_see_a_checkout(client, seller, buyer, outsider, who):
    order = order_for(buyer, listing_by(seller))
    client.force_login(seller if who == "seller" else outsider)

    response = client.get(reverse("checkout_detail", args=[order.checkout.number]))

    assert response.status_code == 404


def test_the_checkout_page_shows_its_orders_and_a_pay_button(client, seller, buyer):
    other_seller = SellerFactory(username="kashif")
    ready_to_be_paid(seller)
    ready_to_be_paid(other_seller)
    checkout = place_checkout(
        buyer=buyer,
        lines=[(listing_by(seller, price="1000"), 1), (listing_by(other_seller, price="500"), 1)],
        address=address_of(buyer),
    )
    client.force_login(buyer)

    response = client.get(reverse("checkout_detail", args=[checkout.number]))

    page = response.content.decode()
    for order in checkout.orders.all():
        assert order.number in page
    assert "Pay Rs 1,500" in page
    assert reverse("checkout_pay", args=[checkout.number]) in page


def test_pay_for_a_seller_not_ready_for_payment_says_so_and_changes_nothing(client, seller, buyer):
    order = order_for(buyer, listing_by(seller))
    lose_payouts(seller)
    client.force_login(buyer)

    response = client.post(reverse("checkout_pay", args=[order.checkout.number]), follow=True)

    assert "cannot receive payments yet" in response.content.decode()
    order.refresh_from_db()
    assert order.status == Order.Status.AWAITING_PAYMENT


def test_pay_only_accepts_post(client, seller, buyer):
    order = order_for(buyer, listing_by(seller))
    client.force_login(buyer)

    response = client.get(reverse("checkout_pay", args=[order.checkout.number]))

    assert response.status_code == 405


def test_someone_elses_checkout_cannot_be_paid(client, seller, buyer, outsider):
    order = order_for(buyer, listing_by(seller))
    client.force_login(outsider)

    response = client.post(reverse("checkout_pay", args=[order.checkout.number]))

    assert response.status_code == 404


def test_paying_a_cancelled_checkout_says_there_is_nothing_to_pay(client, seller, buyer):
    order = order_for(buyer, listing_by(seller))
    cancel_order(order=order, by=buyer, reason="")
    client.force_login(buyer)

    response = client.post(reverse("checkout_pay", args=[order.checkout.number]), follow=True)

    assert "nothing left to pay" in response.content.decode()


def test_cancel_asks_for_confirmation_first(client, seller, buyer):
    order = order_for(buyer, listing_by(seller))
    client.force_login(buyer)

    response = client.get(reverse("order_cancel", args=[order.number]))

    assert "Yes, cancel the order" in response.content.decode()
    order.refresh_from_db()
    assert order.status == Order.Status.AWAITING_PAYMENT


def test_the_buyer_cancels_an_order_and_the_stock_comes_back(client, seller, buyer):
    vase = listing_by(seller, quantity=1)
    order = order_for(buyer, vase)
    client.force_login(buyer)

    response = client.post(
        reverse("order_cancel", args=[order.number]), {"reason": "Changed my mind"}, follow=True
    )

    assert f"Order {order.number} is cancelled." in response.content.decode()
    assert refresh(vase).status == FixedPriceListing.Status.ACTIVE


def test_cancelling_a_shipped_order_shows_why_not(client, seller, buyer):
    order = order_for(buyer, listing_by(seller))
    Order.objects.filter(pk=order.pk).update(status=Order.Status.SHIPPED)
    client.force_login(buyer)

    response = client.post(reverse("order_cancel", args=[order.number]), follow=True)

    assert response.status_code == 200
    assert "can no longer be cancelled" in response.content.decode()
    assert Order.objects.get(pk=order.pk).status == Order.Status.SHIPPED


def test_the_admin_cancel_action_returns_the_stock(admin_client, seller, buyer):
    vase = listing_by(seller, quantity=1)
    order = order_for(buyer, vase)

    admin_client.post(
        reverse("admin:marketplace_order_changelist"),
        {"action": "cancel_unpaid_orders", "_selected_action": [order.pk]},
    )

    order.refresh_from_db()
    assert order.status == Order.Status.CANCELLED
    assert refresh(vase).quantity == 1


def test_the_admin_cancel_reason_is_stored_in_english_for_an_urdu_speaking_staff_member(
    client, seller, buyer
):
    staff = UserFactory(is_staff=True, is_superuser=True, language="ur")
    order = order_for(buyer, listing_by(seller))
    client.force_login(staff)

    response = client.post(
        reverse("admin:marketplace_order_changelist"),
        {"action": "cancel_unpaid_orders", "_selected_action": [order.pk]},
    )

    assert response.headers["Content-Language"] == "ur"  # the admin spoke Urdu to them
    order.refresh_from_db()
    assert order.status == Order.Status.CANCELLED
    assert order.cancel_reason == "Cancelled by staff"
    with translation.override("ur"):
        assert order.cancel_reason_shown not in {"", "Cancelled by staff"}


def test_the_admin_order_pages_render(admin_client, seller, buyer):
    order = order_for(buyer, listing_by(seller))

    assert admin_client.get(reverse("admin:marketplace_order_changelist")).status_code == 200
    assert (
        admin_client.get(reverse("admin:marketplace_order_change", args=[order.pk])).status_code
        == 200
    )
    assert (
        admin_client.get(
            reverse("admin:marketplace_checkout_change", args=[order.checkout.pk])
        ).status_code
        == 200
    )
    assert admin_client.get(reverse("admin:marketplace_cartitem_changelist")).status_code == 200


def test_submitting_the_same_checkout_twice_buys_only_once(seller, buyer):
    vase = listing_by(seller, quantity=3)
    address = address_of(buyer)

    first = place_checkout(
        buyer=buyer, lines=[(vase, 1)], address=address, idempotency_key="a" * 32
    )
    second = place_checkout(
        buyer=buyer, lines=[(vase, 1)], address=address, idempotency_key="a" * 32
    )

    assert second == first
    assert refresh(vase).quantity == 2
    assert Order.objects.count() == 1
