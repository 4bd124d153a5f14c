"""Issue 12, item 11: cancelling an unpaid order closes its checkout's open Stripe page, so
nobody pays for a cancelled order (refunded, but Stripe keeps its fee)."""

import pytest

from marketplace.models import Order, PaymentAttempt
from marketplace.services import cancellation
from marketplace.services.deadlines import check_payment_deadlines
from marketplace.services.orders import place_checkout
from marketplace.tests.factories.orders import address_of, listing_by
from marketplace.tests.payments_fixtures import objects, onboard, start_paying
from marketplace.tests.stripe_support import http

pytestmark = pytest.mark.django_db


@pytest.fixture
def paying(emulator, seller, buyer, client):
    """Bilal placed a checkout and opened its payment page, unpaid."""
    onboard(emulator, seller)
    checkout = place_checkout(
        buyer=buyer,
        lines=[(listing_by(seller, price="2500.00", quantity=3), 1)],
        address=address_of(buyer),
    )
    client.force_login(buyer)
    session_id = start_paying(client, checkout)
    return Order.objects.get(checkout=checkout), session_id


def session(emulator, session_id: str) -> dict:
    [found] = [s for s in objects(emulator, "checkout.session") if s["id"] == session_id]
    return found


def test_cancelling_expires_the_open_page_and_it_cannot_be_paid(
    emulator, paying, buyer, django_capture_on_commit_callbacks
):
    order, session_id = paying

    with django_capture_on_commit_callbacks(execute=True):
        cancellation.cancel_order(order=order, by=buyer, reason="")

    assert session(emulator, session_id)["status"] == "expired"
    assert PaymentAttempt.objects.get(session_id=session_id).status == "expired"
    status, _headers, body = http("POST", f"{emulator}/_emulator/sessions/{session_id}/pay")
    assert status != 200 and b"can no longer be paid" in body
    assert objects(emulator, "charge") == []


def test_a_page_the_provider_could_not_expire_is_expired_by_the_deadline_job(
    emulator, paying, buyer, settings, django_capture_on_commit_callbacks
):
    order, session_id = paying
    settings.STRIPE_API_BASE = "http://127.0.0.1:9"  # the provider is down at cancel time
    with django_capture_on_commit_callbacks(execute=True):
        cancellation.cancel_order(order=order, by=buyer, reason="")
    assert PaymentAttempt.objects.get(session_id=session_id).status == "open"

    settings.STRIPE_API_BASE = emulator
    counts = check_payment_deadlines()

    assert counts["pages_expired"] == 1
    assert session(emulator, session_id)["status"] == "expired"
    assert check_payment_deadlines()["pages_expired"] == 0
