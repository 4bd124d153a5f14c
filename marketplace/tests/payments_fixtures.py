"""Fixtures and steps for the payment-flow tests (imported by test_payment_*.py)."""

import pytest
from django.urls import reverse

from marketplace import payments
from marketplace.models import ConnectedAccount, SellerTransfer
from marketplace.services import ledger, payouts
from marketplace.tests.stripe_support import WEBHOOK_SECRET, WebhookReceiver, control
from stripe_emulator import start_emulator


@pytest.fixture
def receiver():
    receiver = WebhookReceiver()
    yield receiver
    receiver.close()


@pytest.fixture
def emulator(receiver, settings):
    """The Stripe emulator in-process; its webhooks go to `receiver`, tests post them on."""
    server, base_url = start_emulator(
        port=0, webhook_url=receiver.url, webhook_secret=WEBHOOK_SECRET, retry_delays=(0.1,)
    )
    settings.STRIPE_API_BASE = base_url
    settings.STRIPE_SECRET_KEY = "sk_test_payflow"
    settings.STRIPE_WEBHOOK_SECRET = WEBHOOK_SECRET
    settings.CURRENCY = "PKR"
    yield base_url
    server.close()


@pytest.fixture
def paid_before_the_ledger(monkeypatch):
    """Payments in this test are recorded as they were before the seller ledger (issue 14
    phase 2): an immediate `SellerTransfer` per order instead of a sale. Those rows still
    exist, and the transfers job, reversals and refunds must keep handling them."""

    def immediate_transfer(*, order, payment=None, fee=None):
        SellerTransfer.objects.create(
            order=order,
            payment=payment,
            amount=order.total - fee,
            fee=fee,
            idempotency_key=f"transfer-{order.number}",
        )
        return []

    monkeypatch.setattr(ledger, "record_sale", immediate_transfer)


def onboard(emulator: str, seller) -> ConnectedAccount:
    """The seller creates their account, finishes onboarding, and the site learns of it."""
    payouts.start_payouts_onboarding(
        seller=seller, refresh_url="http://shop.test/r/", return_url="http://shop.test/b/"
    )
    account = ConnectedAccount.objects.get(user=seller)
    control(emulator, f"accounts/{account.stripe_account_id}/enable")
    return payouts.refresh_connected_account(seller=seller)


def start_paying(client, checkout) -> str:
    """The buyer presses Pay; the hosted session's id (from the redirect)."""
    response = client.post(reverse("checkout_pay", args=[checkout.number]))
    assert response.status_code == 302, response
    return response["Location"].rsplit("/", 1)[1]


def deliver(client, payload: bytes, signature: str):
    return client.post(
        "/stripe/webhook/",
        data=payload,
        content_type="application/json",
        HTTP_STRIPE_SIGNATURE=signature,
    )


def pay_and_deliver(client, emulator, receiver, session_id: str):
    """The buyer pays on the hosted page and the completed event reaches our webhook."""
    after = len(receiver.deliveries)
    control(emulator, f"sessions/{session_id}/pay")
    payload, signature = receiver.wait_for("checkout.session.completed", after=after)
    return deliver(client, payload, signature)


def objects(emulator, kind):
    from marketplace.tests.stripe_support import emulator_state

    return [o for o in emulator_state(emulator)["objects"].values() if o["object"] == kind]


__all__ = [
    "deliver",
    "emulator",
    "objects",
    "onboard",
    "pay_and_deliver",
    "payments",
    "receiver",
    "start_paying",
]
