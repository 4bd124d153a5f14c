"""Many buyers racing for the last items on PostgreSQL: the row lock never lets stock oversell."""

import os
import threading

import pytest
from django.db import connection, connections

from marketplace.exceptions import OutOfStock
from marketplace.models import FixedPriceListing, OrderItem
from marketplace.services.orders import place_checkout
from marketplace.tests.factories.accounts import SellerFactory, UserFactory
from marketplace.tests.factories.orders import address_of, listing_by

BUYERS = 10


@pytest.fixture(autouse=True)
def _fast_passwords(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


def require_postgresql() -> None:
    """SQLite has no row locks to test: skip locally, but fail in CI (it must run there)."""
    if connection.vendor == "postgresql":
        return
    message = "needs PostgreSQL: set DATABASE_URL=postgres://..."
    if os.environ.get("CI"):
        pytest.fail(f"CI must run this on PostgreSQL, not {connection.vendor}: {message}")
    pytest.skip(message)


def run_at_once(*calls) -> list[Exception]:
    """Run each callable in its own thread, released together; the exceptions they raised."""
    start = threading.Barrier(len(calls))
    errors: list[Exception] = []

    def run(call) -> None:
        try:
            start.wait(timeout=10)
            call()
        except Exception as error:  # every outcome is asserted by the caller
            errors.append(error)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run, args=(call,)) for call in calls]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not any(thread.is_alive() for thread in threads)
    return errors


def race(buyers, listing, quantity: int) -> tuple[int, list[Exception]]:
    """Every buyer tries to buy `quantity` at the same moment; returns (successes, errors)."""
    start = threading.Barrier(len(buyers))
    won: list[int] = []
    errors: list[Exception] = []
    addresses = {buyer.pk: buyer.addresses.get() for buyer in buyers}

    def attempt(buyer) -> None:
        try:
            start.wait(timeout=10)
            place_checkout(buyer=buyer, lines=[(listing, quantity)], address=addresses[buyer.pk])
            won.append(buyer.pk)
        except Exception as error:  # every outcome is asserted by the test
            errors.append(error)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=attempt, args=(buyer,)) for buyer in buyers]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not any(thread.is_alive() for thread in threads)
    return len(won), errors


def make_buyers(count: int):
    buyers = [UserFactory(username=f"racer{n}") for n in range(count)]
    for buyer in buyers:
        address_of(buyer)
    return buyers


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_ten_buyers_racing_for_the_last_item_sell_it_exactly_once():
    require_postgresql()
    listing = listing_by(SellerFactory(username="amina"), quantity=1)

    won, errors = race(make_buyers(BUYERS), listing, quantity=1)

    assert won == 1
    assert len(errors) == BUYERS - 1
    assert all(isinstance(error, OutOfStock) for error in errors), errors
    listing.refresh_from_db()
    assert (listing.quantity, listing.status) == (0, FixedPriceListing.Status.SOLD_OUT)
    assert OrderItem.objects.filter(listing=listing).count() == 1


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_racing_buyers_never_buy_more_than_the_stock():
    require_postgresql()
    listing = listing_by(SellerFactory(username="amina"), quantity=5)

    won, errors = race(make_buyers(BUYERS), listing, quantity=2)

    # 5 in stock, 2 each: two buyers win, the third finds one left and is refused.
    assert won == 2
    assert all(isinstance(error, OutOfStock) for error in errors), errors
    listing.refresh_from_db()
    assert listing.quantity == 1
    sold = sum(OrderItem.objects.filter(listing=listing).values_list("quantity", flat=True))
    assert sold == 4


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_the_same_checkout_form_submitted_at_once_buys_only_once():
    require_postgresql()
    listing = listing_by(SellerFactory(username="amina"), quantity=5)
    (buyer,) = make_buyers(1)
    address = buyer.addresses.get()
    start = threading.Barrier(5)
    numbers: list[str] = []

    def submit() -> None:
        try:
            start.wait(timeout=10)
            checkout = place_checkout(
                buyer=buyer, lines=[(listing, 1)], address=address, idempotency_key="f" * 32
            )
            numbers.append(checkout.number)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=submit) for _ in range(5)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    assert len(numbers) == 5 and len(set(numbers)) == 1
    listing.refresh_from_db()
    assert listing.quantity == 4
