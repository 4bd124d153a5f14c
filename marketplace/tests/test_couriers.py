"""Parcels booked through the courier (emulator), tracking by callback and polling, RTO."""

import json
import time
from datetime import timedelta
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from courier_emulator import sign_body
from marketplace.exceptions import CourierError, OrderActionRefused
from marketplace.models import CodRefusal, LedgerEntry, Order, OrderEvent, Parcel
from marketplace.queries import order_timeline
from marketplace.services import cod_rules, fulfilment, parcels
from marketplace.tests.courier_support import (
    SECRET,
    cod_order,
    move,
    post_callback,
    wait_for_callbacks,
)
from marketplace.tests.factories.fulfilment import paid_order

pytestmark = pytest.mark.django_db


def book(order, seller, **fields):
    values = {"weight_kg": Decimal("1.2"), "pieces": 1, "cod_amount": parcels.cod_amount_for(order)}
    values.update(fields)
    return parcels.book_parcel(order=order, by=seller, **values)


# --- Booking --------------------------------------------------------------------------------


def test_booking_a_cod_order_ships_it_with_the_courier_collecting_the_total(courier, seller, buyer):
    order = cod_order(seller, buyer)

    parcel = book(order, seller)

    order.refresh_from_db()
    assert order.status == Order.Status.SHIPPED
    assert (order.courier, order.tracking_number) == ("PostEx", parcel.tracking_number)
    assert parcel.cod_amount == order.total
    remote = courier.store.parcels[parcel.tracking_number]
    assert Decimal(remote["invoicePayment"]) == order.total
    assert remote["orderRefNumber"] == order.number
    assert remote["customerName"] == order.ship_name
    assert order.events.get(kind=OrderEvent.Kind.SHIPPED).actor == seller


def test_a_prepaid_order_is_booked_with_nothing_to_collect(courier, seller, buyer):
    order = paid_order(seller, buyer)

    parcel = book(order, seller)

    assert parcel.cod_amount == 0
    assert courier.store.parcels[parcel.tracking_number]["invoicePayment"] == "0.00"


def test_the_cash_to_collect_must_be_the_orders(courier, seller, buyer):
    order = cod_order(seller, buyer)

    with pytest.raises(OrderActionRefused) as refused:
        book(order, seller, cod_amount=order.total - 1)

    assert refused.value.code == "cod_amount"
    assert not courier.store.parcels


def test_only_the_seller_books_and_only_once(courier, seller, buyer, outsider):
    order = cod_order(seller, buyer)
    for someone in (buyer, outsider):
        with pytest.raises(OrderActionRefused) as refused:
            book(order, someone)
        assert refused.value.code == "not_seller"
    book(order, seller)

    with pytest.raises(OrderActionRefused):
        book(order, seller)

    assert len(courier.store.parcels) == 1


def test_booking_is_off_without_a_courier_api(settings, seller, buyer):
    settings.COURIER_API_BASE = ""
    order = paid_order(seller, buyer)

    with pytest.raises(OrderActionRefused) as refused:
        book(order, seller)

    assert refused.value.code == "courier_off"


def test_a_wrong_token_is_the_couriers_refusal(courier, settings, seller, buyer):
    settings.COURIER_API_TOKEN = "wrong"
    order = paid_order(seller, buyer)

    with pytest.raises(CourierError):
        book(order, seller)

    order.refresh_from_db()
    assert order.status == Order.Status.PAID


def test_the_seller_books_from_the_order_page_and_prints_the_label(courier, client, seller, buyer):
    order = cod_order(seller, buyer)
    client.force_login(seller)
    page = client.get(reverse("order_detail", args=[order.number]))
    assert b'id="book-parcel-form"' in page.content
    assert b'id="ship-form"' in page.content  # another courier, by hand, stays possible

    response = client.post(
        reverse("order_book_parcel", args=[order.number]),
        {"weight_kg": "0.8", "pieces": "2", "cod_amount": "1"},  # a typed amount is ignored
        follow=True,
    )

    parcel = Parcel.objects.get(order=order)
    assert (parcel.weight_kg, parcel.pieces, parcel.cod_amount) == (
        Decimal("0.80"),
        2,
        order.total,
    )
    assert parcel.tracking_number in response.content.decode()
    label = client.get(reverse("parcel_label", args=[order.number]))
    text = label.content.decode()
    assert label.status_code == 200
    assert parcel.tracking_number in text and order.number in text
    assert order.ship_line1 in text and "(COD)" in text


def test_the_booking_form_refuses_a_bad_weight_in_place(courier, client, seller, buyer):
    order = paid_order(seller, buyer)
    client.force_login(seller)

    response = client.post(
        reverse("order_book_parcel", args=[order.number]), {"weight_kg": "0", "pieces": "1"}
    )

    assert response.status_code == 200
    assert b'id="book-parcel-form"' in response.content
    assert not Parcel.objects.exists()


def test_the_buyer_cannot_book_or_see_the_label(courier, client, seller, buyer, outsider):
    order = cod_order(seller, buyer)
    client.force_login(buyer)
    client.post(
        reverse("order_book_parcel", args=[order.number]), {"weight_kg": "1", "pieces": "1"}
    )
    assert not Parcel.objects.exists()
    book(order, seller)

    assert client.get(reverse("parcel_label", args=[order.number])).status_code == 404
    client.force_login(outsider)
    assert client.get(reverse("order_detail", args=[order.number])).status_code == 404


# --- Tracking: callbacks and polling ---------------------------------------------------------


def test_a_signed_callback_moves_the_parcel_and_shows_on_the_buyers_timeline(
    courier, courier_callbacks, client, seller, buyer
):
    order = cod_order(seller, buyer)
    parcel = book(order, seller)
    move(courier, parcel.tracking_number, "picked_up", "in_transit")
    sent = wait_for_callbacks(courier_callbacks, 2)

    for body, headers in sent:
        assert post_callback(client, body, headers).status_code == 200

    parcel.refresh_from_db()
    assert parcel.status == Parcel.Status.IN_TRANSIT
    assert list(parcel.events.values_list("status", flat=True)) == [
        "booked",
        "picked_up",
        "in_transit",
    ]
    client.force_login(buyer)
    page = client.get(reverse("order_detail", args=[order.number])).content.decode()
    assert 'id="parcel-timeline"' in page and "In transit" in page
    assert f"{courier.base_url}/track/{parcel.tracking_number}" in page


def test_a_callback_with_a_wrong_signature_changes_nothing(
    courier, courier_callbacks, client, seller, buyer
):
    parcel = book(cod_order(seller, buyer), seller)
    move(courier, parcel.tracking_number, "picked_up")
    body, _headers = wait_for_callbacks(courier_callbacks, 1)[0]

    forged = post_callback(client, body, {"X-PostEx-Signature": sign_body(body, "guess")})
    unsigned = client.post("/couriers/postex/callback/", body, content_type="application/json")

    assert (forged.status_code, unsigned.status_code) == (400, 400)
    parcel.refresh_from_db()
    assert parcel.status == Parcel.Status.BOOKED and not parcel.events.exists()


def test_a_repeated_or_late_callback_is_a_no_op(courier, courier_callbacks, client, seller, buyer):
    order = cod_order(seller, buyer)
    parcel = book(order, seller)
    move(courier, parcel.tracking_number, "picked_up", "in_transit", "out_for_delivery")
    first, _second, third = wait_for_callbacks(courier_callbacks, 3)

    post_callback(client, *third)
    post_callback(client, *third)  # the courier retries
    post_callback(client, *first)  # an older one arrives late

    parcel.refresh_from_db()
    assert parcel.status == Parcel.Status.OUT_FOR_DELIVERY
    assert parcel.events.count() == 4
    assert parcel.last_sequence == 4


def test_delivered_by_the_courier_delivers_the_order_and_starts_the_return_window(
    courier, courier_callbacks, client, seller, buyer
):
    order = cod_order(seller, buyer)
    parcel = book(order, seller)
    move(courier, parcel.tracking_number, "picked_up", "in_transit", "out_for_delivery")
    move(courier, parcel.tracking_number, "delivered")
    body, headers = wait_for_callbacks(courier_callbacks, 4)[-1]

    post_callback(client, body, headers)
    post_callback(client, body, headers)

    order.refresh_from_db()
    assert order.status == Order.Status.DELIVERED and order.delivered_at is not None
    assert order.events.filter(kind=OrderEvent.Kind.COURIER_DELIVERED).count() == 1
    assert order.seller.notifications.filter(kind="delivered").exists()
    kinds = [entry.kind for entry in order_timeline(order)]
    assert "courier_delivered" in kinds and "delivered" not in kinds  # no second delivery


def test_the_poll_job_applies_the_couriers_history_once(courier, seller, buyer):
    order = paid_order(seller, buyer)
    parcel = book(order, seller)
    move(courier, parcel.tracking_number, "picked_up", "in_transit", "out_for_delivery")
    move(courier, parcel.tracking_number, "delivery_failed", "out_for_delivery", "delivered")

    assert parcels.poll_open_parcels() == 1
    assert parcels.poll_open_parcels() == 0  # delivered: no longer polled

    parcel.refresh_from_db()
    order.refresh_from_db()
    assert parcel.status == Parcel.Status.DELIVERED
    assert parcel.events.count() == 7
    assert order.status == Order.Status.DELIVERED


def test_the_poll_job_skips_a_courier_that_is_down(courier, settings, seller, buyer):
    parcel = book(paid_order(seller, buyer), seller)
    move(courier, parcel.tracking_number, "picked_up")
    settings.COURIER_API_BASE = "http://127.0.0.1:9"  # nothing listens

    assert parcels.poll_open_parcels() == 0
    parcel.refresh_from_db()
    assert parcel.status == Parcel.Status.BOOKED


def test_nobody_but_the_courier_delivers_a_booked_parcel(courier, seller, buyer):
    order = cod_order(seller, buyer)
    book(order, seller)
    Order.objects.filter(pk=order.pk).update(shipped_at=timezone.now() - timedelta(days=30))

    with pytest.raises(OrderActionRefused):
        fulfilment.confirm_delivery(order=order, by=seller)
    assert fulfilment.auto_confirm_deliveries() == 0

    order.refresh_from_db()
    assert order.status == Order.Status.SHIPPED


def test_an_unknown_parcels_callback_is_answered_and_ignored(courier, client, settings):
    body = json.dumps({"trackingNumber": "999", "transactionStatusHistory": []}).encode()

    response = client.post(
        "/couriers/postex/callback/",
        body,
        content_type="application/json",
        headers={"X-PostEx-Signature": sign_body(body, SECRET)},
    )

    assert response.status_code == 200
    assert response.content == b"unknown parcel"


# --- Returned to sender ----------------------------------------------------------------------


def test_a_refused_cod_parcel_comes_back_restocked_charged_and_counted(courier, seller, buyer):
    order = cod_order(seller, buyer, quantity=1)
    listing = order.items.get().listing
    listing.refresh_from_db()
    assert (listing.quantity, listing.status) == (0, "sold_out")
    parcel = book(order, seller)
    move(courier, parcel.tracking_number, "picked_up", "in_transit", "out_for_delivery")
    move(courier, parcel.tracking_number, "delivery_failed", "returned")

    parcels.poll_open_parcels()
    parcels.poll_open_parcels()

    order.refresh_from_db()
    listing.refresh_from_db()
    assert order.status == Order.Status.RETURNED
    assert (listing.quantity, listing.status) == (1, "active")
    charges = LedgerEntry.objects.filter(order=order, kind=LedgerEntry.Kind.COURIER)
    assert sorted(entry.available for entry in charges) == [Decimal("-200.00"), Decimal("-150.00")]
    assert order.events.filter(kind=OrderEvent.Kind.RETURNED).count() == 1
    assert order.events.filter(kind=OrderEvent.Kind.COD_REFUSED).count() == 1
    assert list(CodRefusal.objects.counting().values_list("buyer_id", "order_id")) == [
        (buyer.pk, order.pk)
    ]


def test_refused_cod_parcels_up_to_the_limit_take_cod_away_from_the_buyer(
    courier, seller, buyer, settings
):
    settings.COD_REFUSAL_LIMIT = 2
    for _ in range(2):
        assert cod_rules.buyer_cod_refusal(buyer) is None
        order = cod_order(seller, buyer, quantity=1)
        parcel = book(order, seller)
        move(courier, parcel.tracking_number, "picked_up", "in_transit", "out_for_delivery")
        move(courier, parcel.tracking_number, "delivery_failed", "returned")
        parcels.poll_open_parcels()
    assert cod_rules.buyer_cod_refusal(buyer)  # a message: why COD is not offered


def test_a_returned_prepaid_parcel_is_not_counted_against_the_buyer(courier, seller, buyer):
    order = paid_order(seller, buyer)
    parcel = book(order, seller)
    move(courier, parcel.tracking_number, "picked_up", "in_transit", "returned")

    parcels.poll_open_parcels()

    order.refresh_from_db()
    assert order.status == Order.Status.RETURNED
    assert not order.events.filter(kind=OrderEvent.Kind.COD_REFUSED).exists()
    assert order.can_transition_to(Order.Status.REFUNDED)  # staff refund the buyer


# --- The emulator itself -------------------------------------------------------------------


def test_the_emulator_refuses_moves_a_courier_cannot_make(courier, seller, buyer):
    import urllib.error

    parcel = book(paid_order(seller, buyer), seller)

    with pytest.raises(urllib.error.HTTPError) as refused:
        move(courier, parcel.tracking_number, "delivered")

    assert refused.value.code == 400


def test_the_emulator_retries_a_failed_callback(courier, courier_callbacks, seller, buyer):
    parcel = book(paid_order(seller, buyer), seller)
    courier_callbacks.fail_next = 2

    move(courier, parcel.tracking_number, "picked_up")

    body, _headers = wait_for_callbacks(courier_callbacks, 1)[0]
    assert json.loads(body)["transactionStatusHistory"][-1]["transactionStatusMessage"] == (
        "PostEx WareHouse"
    )
    # The emulator records an attempt after its answer arrives, a moment after the site has it.
    deadline = time.monotonic() + 5
    while len(courier.store.deliveries) < 3 and time.monotonic() < deadline:
        time.sleep(0.02)
    attempts = [d["attempt"] for d in courier.store.deliveries]
    assert attempts == [1, 2, 3]
