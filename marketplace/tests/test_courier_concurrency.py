"""Races on PostgreSQL: a courier callback and the poll job on one parcel, two remittance runs."""

from decimal import Decimal

import pytest
from django.test import Client

from marketplace.models import LedgerEntry, Order, OrderEvent, ParcelEvent, RemittanceLine
from marketplace.services import parcels, remittance
from marketplace.tests.courier_support import (
    cod_order,
    move,
    post_callback,
    wait_for_callbacks,
)
from marketplace.tests.test_checkout_concurrency import require_postgresql
from marketplace.tests.test_fulfilment_concurrency import together

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def booked(seller, buyer):
    order = cod_order(seller, buyer)
    parcel = parcels.book_parcel(
        order=order, by=seller, weight_kg=Decimal("1"), pieces=1, cod_amount=order.total
    )
    return order, parcel


def test_a_callback_and_the_poll_deliver_a_parcel_once(courier, courier_callbacks, seller, buyer):
    require_postgresql()
    order, parcel = booked(seller, buyer)
    move(courier, parcel.tracking_number, "picked_up", "in_transit", "out_for_delivery")
    move(courier, parcel.tracking_number, "delivered")
    body, headers = wait_for_callbacks(courier_callbacks, 4)[-1]

    results = together(
        lambda: post_callback(Client(), body, headers).status_code,
        lambda: post_callback(Client(), body, headers).status_code,
        parcels.poll_open_parcels,
        parcels.poll_open_parcels,
    )

    assert results[:2] == [200, 200], results
    assert not [r for r in results if isinstance(r, Exception)]
    order.refresh_from_db()
    assert order.status == Order.Status.DELIVERED
    assert order.events.filter(kind=OrderEvent.Kind.COURIER_DELIVERED).count() == 1
    assert ParcelEvent.objects.filter(parcel=parcel).count() == 5


def test_a_callback_and_the_poll_return_a_parcel_once(courier, courier_callbacks, seller, buyer):
    require_postgresql()
    order, parcel = booked(seller, buyer)
    listing = order.items.get().listing
    listing.refresh_from_db()
    stock = listing.quantity
    move(courier, parcel.tracking_number, "picked_up", "in_transit", "returned")
    body, headers = wait_for_callbacks(courier_callbacks, 3)[-1]

    results = together(
        lambda: post_callback(Client(), body, headers).status_code,
        parcels.poll_open_parcels,
    )

    assert not [r for r in results if isinstance(r, Exception)], results
    listing.refresh_from_db()
    assert listing.quantity == stock + 1
    assert order.events.filter(kind=OrderEvent.Kind.COD_REFUSED).count() == 1
    assert LedgerEntry.objects.filter(order=order, kind=LedgerEntry.Kind.COURIER).count() == 2


def test_two_remittance_runs_credit_a_parcel_once(courier, seller, buyer):
    require_postgresql()
    order, parcel = booked(seller, buyer)
    move(courier, parcel.tracking_number, "picked_up", "in_transit", "out_for_delivery")
    move(courier, parcel.tracking_number, "delivered")
    parcels.poll_open_parcels()

    results = together(remittance.reconcile_report, remittance.reconcile_report)

    assert sorted(results) == [(0, 0), (1, 0)], results
    assert RemittanceLine.objects.count() == 1
    assert LedgerEntry.objects.filter(order=order, kind=LedgerEntry.Kind.SALE).count() == 1
