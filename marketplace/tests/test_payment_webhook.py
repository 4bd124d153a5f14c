"""The Stripe webhook: only signed, fresh events count; replays, duplicates, events in the wrong
order and events about things we do not know change nothing they should not."""

import json
from decimal import Decimal

import pytest
from django.urls import reverse

from marketplace import payments
from marketplace.models import (
    ConnectedAccount,
    LedgerEntry,
    Order,
    Payment,
    PaymentAttempt,
    SellerTransfer,
    StripeEvent,
)
from marketplace.services import ledger, reconciliation
from marketplace.tests.factories.orders import listing_by, order_for
from marketplace.tests.factories.payments import signed_event
from marketplace.tests.payments_fixtures import (
    deliver,
    objects,
    onboard,
    paid_before_the_ledger,  # noqa: F401 (fixture)
    pay_and_deliver,
    start_paying,
)
from marketplace.tests.stripe_support import control

pytestmark = pytest.mark.django_db

UNKNOWN_TYPE = {
    "id": "evt_unknown_type",
    "object": "event",
    "type": "customer.created",
    "created": 1,
    "data": {"object": {"id": "cus_1", "object": "customer"}},
}


@pytest.fixture
def paying(emulator, seller, buyer, client):
    """A buyer on the hosted page of a one-order checkout: (order, session id)."""
    onboard(emulator, seller)
    order = order_for(buyer, listing_by(seller, price="2500.00"))
    client.force_login(buyer)
    return order, start_paying(client, order.checkout)


def order_status(order) -> str:
    return Order.objects.get(pk=order.pk).status


def test_a_signed_event_is_stored_and_answered_200(emulator, client):
    response = deliver(client, *signed_event(UNKNOWN_TYPE))

    assert response.status_code == 200
    stored = StripeEvent.objects.get()
    assert (stored.event_id, stored.type) == ("evt_unknown_type", "customer.created")
    assert stored.processed_at is not None


def test_the_api_alias_is_the_same_webhook(emulator, client):
    payload, signature = signed_event(UNKNOWN_TYPE)

    response = client.post(
        "/api/stripe/webhook/",
        data=payload,
        content_type="application/json",
        HTTP_STRIPE_SIGNATURE=signature,
    )

    assert response.status_code == 200
    assert reverse("stripe_webhook_api") == "/api/stripe/webhook/"


@pytest.mark.parametrize(
    "make",
    [
        lambda: signed_event(UNKNOWN_TYPE, secret="whsec_wrong"),
        lambda: signed_event(UNKNOWN_TYPE, age=301),
        lambda: (signed_event(UNKNOWN_TYPE)[0], ""),
        lambda: (b'{"id": "evt_other"}', signed_event(UNKNOWN_TYPE)[1]),
    ],
    ids=["bad-signature", "stale-timestamp", "unsigned", "signature-of-another-body"],
)
def test_bad_webhooks_are_refused_with_400_and_stored_nowhere(emulator, client, make):
    response = deliver(client, *make())

    assert response.status_code == 400
    assert not StripeEvent.objects.exists()


def test_the_webhook_only_accepts_post(client):
    assert client.get("/stripe/webhook/").status_code == 405


def test_the_webhook_needs_no_csrf_token(emulator, settings):
    from django.test import Client

    client = Client(enforce_csrf_checks=True)
    payload, signature = signed_event(UNKNOWN_TYPE)

    response = client.post(
        "/stripe/webhook/",
        data=payload,
        content_type="application/json",
        HTTP_STRIPE_SIGNATURE=signature,
    )

    assert response.status_code == 200


def test_a_forged_completed_event_marks_nothing_paid(emulator, paying, client):
    order, session_id = paying
    forged = {
        "id": "evt_forged",
        "object": "event",
        "type": "checkout.session.completed",
        "created": 1,
        "data": {"object": {"id": session_id, "object": "checkout.session"}},
    }

    response = deliver(client, *signed_event(forged, secret="whsec_guess"))

    assert response.status_code == 400
    assert order_status(order) == Order.Status.AWAITING_PAYMENT


def test_a_completed_event_whose_session_is_not_paid_marks_nothing_paid(emulator, paying, client):
    # Correctly signed but claiming "paid" for a session the provider says is unpaid.
    order, session_id = paying
    claim = {
        "id": "evt_claim",
        "object": "event",
        "type": "checkout.session.completed",
        "created": 1,
        "data": {
            "object": {
                "id": session_id,
                "object": "checkout.session",
                "status": "complete",
                "payment_status": "paid",
            }
        },
    }

    response = deliver(client, *signed_event(claim))

    assert response.status_code == 200
    assert order_status(order) == Order.Status.AWAITING_PAYMENT
    assert not Payment.objects.exists()


def test_a_replayed_completed_event_changes_nothing(emulator, receiver, paying, client):
    _order, session_id = paying
    pay_and_deliver(client, emulator, receiver, session_id)
    payload, signature = receiver.wait_for("checkout.session.completed")

    response = deliver(client, payload, signature)

    assert response.status_code == 200
    assert response.content == b"duplicate"
    assert Payment.objects.count() == 1
    assert LedgerEntry.objects.filter(kind=LedgerEntry.Kind.SALE).count() == 1
    assert StripeEvent.objects.filter(type="checkout.session.completed").count() == 1


def test_a_duplicate_delivery_by_the_provider_changes_nothing(emulator, receiver, paying, client):
    order, session_id = paying
    pay_and_deliver(client, emulator, receiver, session_id)
    event_id = StripeEvent.objects.get(type="checkout.session.completed").event_id
    after = len(receiver.deliveries)

    control(emulator, f"events/{event_id}/resend")
    payload, signature = receiver.wait_for("checkout.session.completed", after=after)
    response = deliver(client, payload, signature)

    assert response.status_code == 200
    assert Payment.objects.count() == 1
    assert order_status(order) == Order.Status.PAID


def test_an_expired_event_after_completed_does_nothing(emulator, receiver, paying, client):
    order, session_id = paying
    pay_and_deliver(client, emulator, receiver, session_id)
    late_expiry = {
        "id": "evt_late_expiry",
        "object": "event",
        "type": "checkout.session.expired",
        "created": 1,
        "data": {"object": {"id": session_id, "object": "checkout.session", "status": "expired"}},
    }

    response = deliver(client, *signed_event(late_expiry))

    assert response.status_code == 200
    assert order_status(order) == Order.Status.PAID
    assert PaymentAttempt.objects.get().status == PaymentAttempt.Status.COMPLETE


def test_an_expired_session_leaves_the_order_awaiting_payment(emulator, receiver, paying, client):
    order, session_id = paying
    control(emulator, f"sessions/{session_id}/expire")
    payload, signature = receiver.wait_for("checkout.session.expired")

    response = deliver(client, payload, signature)

    assert response.status_code == 200
    assert order_status(order) == Order.Status.AWAITING_PAYMENT
    assert PaymentAttempt.objects.get().status == PaymentAttempt.Status.EXPIRED


def test_the_buyer_can_pay_again_after_the_page_expired(emulator, receiver, paying, client):
    order, session_id = paying
    control(emulator, f"sessions/{session_id}/expire")
    deliver(client, *receiver.wait_for("checkout.session.expired"))

    again = start_paying(client, order.checkout)
    pay_and_deliver(client, emulator, receiver, again)

    assert order_status(order) == Order.Status.PAID


def test_a_completed_event_for_an_unknown_checkout_is_logged_and_answered_200(
    emulator, receiver, client, buyer, seller, caplog
):
    # A session created outside the site (not one of our attempts).
    checkout_order = order_for(buyer, listing_by(seller))
    session = payments.create_checkout_session(
        checkout=checkout_order.checkout,
        orders=[checkout_order],
        success_url="http://x/",
        cancel_url="http://x/",
        idempotency_key="outside",
    )
    control(emulator, f"sessions/{session.id}/pay")

    response = deliver(client, *receiver.wait_for("checkout.session.completed"))

    assert response.status_code == 200
    assert order_status(checkout_order) == Order.Status.AWAITING_PAYMENT
    assert "not one of ours" in caplog.text


def test_an_event_about_an_unknown_session_id_is_answered_200(emulator, client):
    unknown = {
        "id": "evt_unknown_session",
        "object": "event",
        "type": "checkout.session.expired",
        "created": 1,
        "data": {"object": {"id": "cs_test_nobody", "object": "checkout.session"}},
    }

    assert deliver(client, *signed_event(unknown)).status_code == 200


def test_a_refund_for_an_unknown_charge_is_answered_200(emulator, client):
    refund = {
        "id": "evt_refund_unknown",
        "object": "event",
        "type": "charge.refunded",
        "created": 1,
        "data": {
            "object": {
                "id": "ch_nobody",
                "object": "charge",
                "amount": 1000,
                "amount_refunded": 1000,
                "currency": "pkr",
                "refunded": True,
            }
        },
    }

    assert deliver(client, *signed_event(refund)).status_code == 200


def test_a_full_refund_from_the_dashboard_marks_the_order_refunded_and_reverses_the_sale(
    emulator, receiver, paying, client
):
    order, session_id = paying
    pay_and_deliver(client, emulator, receiver, session_id)
    payment = Payment.objects.get()
    payments.create_refund(charge_or_intent=payment.charge_id, amount=None, idempotency_key="dash")

    response = deliver(client, *receiver.wait_for("charge.refunded"))

    assert response.status_code == 200
    payment.refresh_from_db()
    assert (payment.refunded_amount, payment.status) == (Decimal("2500.00"), "refunded")
    assert order_status(order) == Order.Status.REFUNDED
    assert_sale_reversed(order)
    figures = reconciliation.reconciliation_figures()
    assert [f for f in figures if f["expected"] != f["actual"]] == []


@pytest.mark.usefixtures("paid_before_the_ledger")
def test_a_full_refund_from_the_dashboard_stops_a_transfer_not_sent_before_the_ledger(
    emulator, receiver, paying, client
):
    order, session_id = paying
    pay_and_deliver(client, emulator, receiver, session_id)
    payment = Payment.objects.get()
    payments.create_refund(charge_or_intent=payment.charge_id, amount=None, idempotency_key="dash")

    response = deliver(client, *receiver.wait_for("charge.refunded"))

    assert response.status_code == 200
    assert order_status(order) == Order.Status.REFUNDED
    assert SellerTransfer.objects.get().status == SellerTransfer.Status.CANCELLED
    assert not LedgerEntry.objects.exists()


def assert_sale_reversed(order) -> None:
    """The seller's sale and fee are reversed in full, once, under the order's refund key."""
    refunds = LedgerEntry.objects.filter(order_id=order.pk, kind=LedgerEntry.Kind.REFUND)
    assert [e.key for e in refunds] == [f"refund:order:{order.pk}"]
    seller = Order.objects.get(pk=order.pk).seller
    assert ledger.balances(seller) == ledger.Balances(*(4 * [Decimal("0.00")]))


def test_a_partial_refund_is_recorded_once_even_when_delivered_twice(
    emulator, receiver, paying, client
):
    order, session_id = paying
    pay_and_deliver(client, emulator, receiver, session_id)
    payment = Payment.objects.get()
    payments.create_refund(
        charge_or_intent=payment.charge_id, amount=Decimal("500.00"), idempotency_key="part"
    )
    payload, signature = receiver.wait_for("charge.refunded")
    event_id = json.loads(payload)["id"]

    deliver(client, payload, signature)
    StripeEvent.objects.filter(event_id=event_id).delete()  # as if never seen: a true replay
    deliver(client, payload, signature)

    payment.refresh_from_db()
    assert (payment.refunded_amount, payment.status) == (Decimal("500.00"), "partially_refunded")
    assert order_status(order) == Order.Status.PAID


def test_account_updated_makes_the_seller_ready(emulator, receiver, client, seller):
    from marketplace.services.payouts import start_payouts_onboarding

    start_payouts_onboarding(seller=seller, refresh_url="http://x/", return_url="http://x/")
    account = ConnectedAccount.objects.get(user=seller)
    assert not account.ready
    control(emulator, f"accounts/{account.stripe_account_id}/enable")

    response = deliver(client, *receiver.wait_for("account.updated"))

    assert response.status_code == 200
    account.refresh_from_db()
    assert account.ready and account.requirements_due == []


def test_an_event_for_an_unknown_account_is_answered_200(emulator, client):
    unknown = {
        "id": "evt_acct",
        "object": "event",
        "type": "account.updated",
        "created": 1,
        "account": "acct_nobody",
        "data": {"object": {"id": "acct_nobody", "object": "account", "payouts_enabled": True}},
    }

    assert deliver(client, *signed_event(unknown)).status_code == 200
    assert not ConnectedAccount.objects.exists()


def test_an_event_that_cannot_be_handled_yet_is_answered_503_and_handled_on_redelivery(
    emulator, receiver, paying, client, settings
):
    order, session_id = paying
    control(emulator, f"sessions/{session_id}/pay")
    payload, signature = receiver.wait_for("checkout.session.completed")
    settings.STRIPE_API_BASE = "http://127.0.0.1:9"  # the provider is unreachable

    first = deliver(client, payload, signature)
    settings.STRIPE_API_BASE = emulator
    second = deliver(client, payload, signature)

    assert (first.status_code, second.status_code) == (503, 200)
    assert order_status(order) == Order.Status.PAID


def test_a_refund_that_arrives_before_the_payment_is_applied_once_the_payment_is(
    emulator, receiver, paying, client
):
    order, session_id = paying
    after = len(receiver.deliveries)
    control(emulator, f"sessions/{session_id}/pay")
    completed = receiver.wait_for("checkout.session.completed", after=after)
    charge_id = objects(emulator, "charge")[0]["id"]
    payments.create_refund(charge_or_intent=charge_id, amount=None, idempotency_key="early")
    refunded = receiver.wait_for("charge.refunded")

    assert deliver(client, *refunded).status_code == 200  # nothing to refund yet: it waits
    assert not Payment.objects.exists()
    assert StripeEvent.objects.get(type="charge.refunded").processed_at is None

    assert deliver(client, *completed).status_code == 200

    payment = Payment.objects.get()
    assert (payment.refunded_amount, payment.status) == (Decimal("2500.00"), "refunded")
    assert order_status(order) == Order.Status.REFUNDED
    assert_sale_reversed(order)
    assert StripeEvent.objects.get(type="charge.refunded").processed_at is not None
