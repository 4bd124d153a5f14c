"""Cash on delivery (issue 15): who may choose it, the buyer's confirmation before dispatch, the
deadline, refused parcels, and auction wins. Each state change by the right party only."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from marketplace import tasks
from marketplace.exceptions import OrderActionRefused, PaymentRejected, PurchaseRejected
from marketplace.models import (
    Checkout,
    CodRefusal,
    FixedPriceListing,
    Notification,
    Order,
    OrderEvent,
    PaymentAttempt,
)
from marketplace.services import cod_rules
from marketplace.services.cancellation import cancel_order
from marketplace.services.cod import (
    choose_cash_on_delivery,
    clear_cod_refusals,
    confirm_cod_order,
    record_cod_refusal,
)
from marketplace.services.fulfilment import mark_shipped
from marketplace.services.orders import place_checkout
from marketplace.tests.factories.accounts import SellerFactory
from marketplace.tests.factories.orders import (
    address_of,
    cod_order_for,
    listing_by,
    order_for,
    shop_delivery,
)
from marketplace.tests.factories.payments import won_auction_order

pytestmark = pytest.mark.django_db


@pytest.fixture
def cod_seller(seller):
    shop_delivery(seller, fee="250", cod=True)
    return seller


def _overdue(order: Order) -> None:
    Order.objects.filter(pk=order.pk).update(payment_deadline=timezone.now() - timedelta(minutes=1))


# --- Placing ---------------------------------------------------------------------------------


def test_a_cod_checkout_reserves_stock_and_waits_for_confirmation_without_a_payment(
    cod_seller, buyer, settings
):
    settings.COD_CONFIRM_HOURS = 24
    listing = listing_by(cod_seller, price="2500.00", quantity=3)

    order = cod_order_for(buyer, listing, quantity=2)

    listing.refresh_from_db()
    assert listing.quantity == 1
    assert order.status == Order.Status.UNCONFIRMED
    assert order.is_cod and order.checkout.payment_method == Checkout.PaymentMethod.COD
    assert order.total == Decimal("5250.00")
    hours = (order.payment_deadline - order.created_at) / timedelta(hours=1)
    assert hours == pytest.approx(24)
    assert not PaymentAttempt.objects.exists()


def test_the_buyer_is_sent_a_signed_link_to_confirm(cod_seller, buyer):
    order = cod_order_for(buyer, listing_by(cod_seller))

    notice = Notification.objects.get(user=buyer, kind=Notification.Kind.COD_CONFIRM)
    token = notice.url.rstrip("/").rsplit("/", 1)[-1]
    assert cod_rules.read_confirm_token(token) == (order.pk, buyer.pk)
    assert cod_rules.read_confirm_token(token[:-2] + "xx") is None


def test_cod_is_refused_when_the_shop_does_not_accept_it(seller, buyer):
    shop_delivery(seller, cod=False)
    listing = listing_by(seller, quantity=2)

    with pytest.raises(PurchaseRejected) as refused:
        cod_order_for(buyer, listing)

    assert refused.value.code == "cod_not_accepted"
    assert "Amina Pottery" in refused.value.message
    listing.refresh_from_db()
    assert listing.quantity == 2 and not Order.objects.exists()


def test_cod_needs_every_seller_of_the_checkout_to_accept_it(cod_seller, buyer):
    other = SellerFactory(seller_profile__shop_name="Cash Shy")
    lines = [(listing_by(cod_seller), 1), (listing_by(other), 1)]

    with pytest.raises(PurchaseRejected) as refused:
        place_checkout(
            buyer=buyer,
            lines=lines,
            address=address_of(buyer),
            payment_method=Checkout.PaymentMethod.COD,
        )

    assert refused.value.code == "cod_not_accepted"
    assert "Cash Shy" in refused.value.message and "Amina" not in refused.value.message


@pytest.mark.parametrize(
    ("language", "one", "two"),
    [
        ("en", "Amina Pottery does not accept", "Amina Pottery, Cash Shy do not accept"),
        ("ur", "قبول نہیں کرتا", "قبول نہیں کرتے"),
    ],
)
def test_the_refusal_names_one_shop_or_several_in_good_grammar(seller, buyer, language, one, two):
    from django.utils.translation import override

    other = SellerFactory(seller_profile__shop_name="Cash Shy").seller_profile
    with override(language):
        alone = cod_rules.cod_refusal(buyer=buyer, profiles=[seller.seller_profile], total=1)
        both = cod_rules.cod_refusal(buyer=buyer, profiles=[seller.seller_profile, other], total=1)
    assert one in alone.message and two in both.message


def test_cod_is_refused_at_the_limit_delivery_included(cod_seller, buyer, settings):
    settings.COD_LIMIT = Decimal("5000")
    listing = listing_by(cod_seller, price="4750.00")  # + Rs 250 delivery = the limit

    with pytest.raises(PurchaseRejected) as refused:
        cod_order_for(buyer, listing)

    assert refused.value.code == "cod_over_limit"


def test_a_card_checkout_is_unchanged(cod_seller, buyer):
    order = order_for(buyer, listing_by(cod_seller))

    assert order.status == Order.Status.AWAITING_PAYMENT and not order.is_cod


# --- Confirming ------------------------------------------------------------------------------


def test_the_buyer_confirms_and_the_seller_is_told_to_send_it(cod_seller, buyer):
    order = cod_order_for(buyer, listing_by(cod_seller))

    confirm_cod_order(order=order, by=buyer)

    order.refresh_from_db()
    assert order.status == Order.Status.CONFIRMED and order.confirmed_at is not None
    assert order.events.filter(kind=OrderEvent.Kind.CONFIRMED, actor=buyer).exists()
    assert Notification.objects.filter(
        user=cod_seller, kind=Notification.Kind.COD_CONFIRMED
    ).exists()


@pytest.mark.parametrize("who", ["seller", "outsider"])
def test_only_the_buyer_can_confirm(who, cod_seller, buyer, outsider):
    order = cod_order_for(buyer, listing_by(cod_seller))
    by = {"seller": cod_seller, "outsider": outsider}[who]

    with pytest.raises(OrderActionRefused) as refused:
        confirm_cod_order(order=order, by=by)

    assert refused.value.code == "not_buyer"
    order.refresh_from_db()
    assert order.status == Order.Status.UNCONFIRMED


def test_confirming_twice_changes_nothing_more(cod_seller, buyer):
    order = cod_order_for(buyer, listing_by(cod_seller))
    confirm_cod_order(order=order, by=buyer)

    confirm_cod_order(order=order, by=buyer)

    assert order.events.filter(kind=OrderEvent.Kind.CONFIRMED).count() == 1


def test_a_late_confirmation_is_refused(cod_seller, buyer):
    order = cod_order_for(buyer, listing_by(cod_seller))
    _overdue(order)

    with pytest.raises(OrderActionRefused) as refused:
        confirm_cod_order(order=order, by=buyer)

    assert refused.value.code == "deadline_passed"


def test_the_seller_cannot_ship_before_confirmation(cod_seller, buyer):
    order = cod_order_for(buyer, listing_by(cod_seller))

    assert not order.can_ship(cod_seller)
    with pytest.raises(OrderActionRefused):
        mark_shipped(order=order, by=cod_seller, courier="TCS", tracking_number="123")

    confirm_cod_order(order=order, by=buyer)
    order.refresh_from_db()
    assert order.can_ship(cod_seller) and not order.can_ship(buyer)
    mark_shipped(order=order, by=cod_seller, courier="TCS", tracking_number="123")
    order.refresh_from_db()
    assert order.status == Order.Status.SHIPPED


@pytest.mark.parametrize("who", ["buyer", "seller"])
def test_a_confirmed_cod_order_is_cancelled_without_a_refund_and_restocked(who, cod_seller, buyer):
    listing = listing_by(cod_seller, quantity=1)
    order = cod_order_for(buyer, listing)
    confirm_cod_order(order=order, by=buyer)

    cancel_order(order=order, by={"buyer": buyer, "seller": cod_seller}[who])

    order.refresh_from_db()
    listing.refresh_from_db()
    assert order.status == Order.Status.CANCELLED
    assert (listing.quantity, listing.status) == (1, FixedPriceListing.Status.ACTIVE)
    told = {"buyer": cod_seller, "seller": buyer}[who]  # the other party: it may be packed
    assert Notification.objects.filter(user=told, kind="order_cancelled").count() == 1


# --- The deadline ------------------------------------------------------------------------------


def test_the_deadline_job_cancels_unconfirmed_orders_and_restocks_once(cod_seller, buyer):
    listing = listing_by(cod_seller, quantity=1)
    order = cod_order_for(buyer, listing)
    _overdue(order)

    first = tasks.check_payment_deadlines()
    second = tasks.check_payment_deadlines()

    order.refresh_from_db()
    listing.refresh_from_db()
    assert (first["cancelled"], second["cancelled"]) == (1, 0)
    assert order.status == Order.Status.CANCELLED
    assert order.cancel_reason == "Cash on delivery not confirmed by the buyer in time"
    assert (listing.quantity, listing.status) == (1, FixedPriceListing.Status.ACTIVE)
    assert not buyer.payment_violations.exists()
    assert Notification.objects.filter(user=cod_seller, kind="order_cancelled").count() == 1


def test_the_deadline_job_leaves_confirmed_and_not_yet_due_orders(cod_seller, buyer):
    confirmed = cod_order_for(buyer, listing_by(cod_seller))
    confirm_cod_order(order=confirmed, by=buyer)
    _overdue(confirmed)
    waiting = cod_order_for(buyer, listing_by(cod_seller))

    assert tasks.check_payment_deadlines()["cancelled"] == 0
    assert set(Order.objects.values_list("status", flat=True)) == {"confirmed", "unconfirmed"}
    assert waiting.pk


# --- Refused parcels ---------------------------------------------------------------------------


def test_refused_parcels_count_once_each_and_stop_cod_at_the_limit(cod_seller, buyer, settings):
    settings.COD_REFUSAL_LIMIT = 2
    first = cod_order_for(buyer, listing_by(cod_seller))
    second = cod_order_for(buyer, listing_by(cod_seller))

    assert record_cod_refusal(first) is not None
    assert record_cod_refusal(first) is None  # the courier's report seen twice
    assert cod_rules.buyer_cod_refusal(buyer) is None
    record_cod_refusal(second)

    with pytest.raises(PurchaseRejected) as refused:
        cod_order_for(buyer, listing_by(cod_seller))
    assert refused.value.code == "cod_refused_before"
    assert order_for(buyer, listing_by(cod_seller)).status == Order.Status.AWAITING_PAYMENT


def test_a_card_order_is_never_counted_as_a_refused_parcel(cod_seller, buyer):
    assert record_cod_refusal(order_for(buyer, listing_by(cod_seller))) is None
    assert not CodRefusal.objects.exists()


def test_staff_clearing_refusals_lets_the_buyer_choose_cod_again(cod_seller, buyer, settings):
    settings.COD_REFUSAL_LIMIT = 1
    record_cod_refusal(cod_order_for(buyer, listing_by(cod_seller)))
    assert cod_rules.buyer_cod_refusal(buyer) is not None

    assert clear_cod_refusals(buyer=buyer) == 1

    assert cod_rules.buyer_cod_refusal(buyer) is None
    assert CodRefusal.objects.get().cleared_at is not None


# --- Auction wins --------------------------------------------------------------------------------


def _win_with_address(seller, buyer, price="5000.00") -> Order:
    from marketplace.services.payments import choose_checkout_address

    order = won_auction_order(seller, buyer, price=price)
    choose_checkout_address(checkout=order.checkout, buyer=buyer, address=address_of(buyer))
    order.refresh_from_db()
    return order


def test_an_auction_win_is_paid_online_unless_the_seller_allows_cod_for_wins(cod_seller, buyer):
    order = _win_with_address(cod_seller, buyer)

    with pytest.raises(PurchaseRejected) as refused:
        choose_cash_on_delivery(checkout=order.checkout, buyer=buyer)

    assert refused.value.code == "cod_not_accepted"
    order.refresh_from_db()
    assert order.status == Order.Status.AWAITING_PAYMENT and not order.is_cod


def test_a_winner_switches_to_cod_where_allowed_and_then_confirms(seller, buyer):
    shop_delivery(seller, fee="250", cod_for_auctions=True)
    order = _win_with_address(seller, buyer)

    choose_cash_on_delivery(checkout=order.checkout, buyer=buyer)

    order.refresh_from_db()
    assert order.is_cod and order.status == Order.Status.UNCONFIRMED
    confirm_cod_order(order=order, by=buyer)
    order.refresh_from_db()
    assert order.can_ship(seller)


def test_only_the_winner_can_switch_to_cod(seller, buyer, outsider):
    shop_delivery(seller, cod_for_auctions=True)
    order = _win_with_address(seller, buyer)

    with pytest.raises(PaymentRejected):
        choose_cash_on_delivery(checkout=order.checkout, buyer=outsider)


def test_an_auction_win_over_the_limit_is_paid_online(seller, buyer, settings):
    settings.COD_LIMIT = Decimal("5000")
    shop_delivery(seller, cod_for_auctions=True)
    order = _win_with_address(seller, buyer, price="5000.00")

    with pytest.raises(PurchaseRejected) as refused:
        choose_cash_on_delivery(checkout=order.checkout, buyer=buyer)

    assert refused.value.code == "cod_over_limit"


def test_an_unconfirmed_cod_auction_win_counts_as_not_paid(seller, buyer):
    shop_delivery(seller, cod_for_auctions=True)
    order = _win_with_address(seller, buyer)
    choose_cash_on_delivery(checkout=order.checkout, buyer=buyer)
    _overdue(order)

    assert tasks.check_payment_deadlines()["violations"] == 1
    order.refresh_from_db()
    assert order.status == Order.Status.CANCELLED
