"""Issue 14: returns through the API go through services.returns, as the order page does."""

from decimal import Decimal

import pytest

from marketplace.models import Order, Refund, ReturnRequest
from marketplace.services import ledger
from marketplace.tests.api_support import token_client
from marketplace.tests.factories.ledger import deliver, sold

pytestmark = pytest.mark.django_db

ASK = {"reason": "wrong_item", "details": "Green, not blue."}


@pytest.fixture
def delivered(seller, buyer):
    order = sold(seller, buyer)
    deliver(order, days_ago=1)
    return order


def url(order, action=""):
    return f"/api/orders/{order.number}/return/" + (f"{action}/" if action else "")


def test_the_buyer_asks_and_the_seller_accepts_and_the_buyer_is_refunded(
    delivered, seller, buyer, provider_refunds
):
    asked = token_client(buyer).post(url(delivered), ASK, format="json")
    assert asked.status_code == 201, asked.content
    assert (asked.json()["status"], asked.json()["reason"]) == ("requested", "wrong_item")

    accepted = token_client(seller).post(url(delivered, "accept"), format="json")

    assert accepted.status_code == 200, accepted.content
    assert accepted.json()["status"] == "accepted"
    assert Refund.objects.get(order=delivered).status == Refund.Status.SUCCEEDED
    assert Order.objects.get(pk=delivered.pk).status == Order.Status.REFUNDED
    assert ledger.balances(seller).pending == Decimal("0.00")


def test_the_seller_refuses_with_a_reason_and_the_buyer_disputes(delivered, seller, buyer):
    token_client(buyer).post(url(delivered), ASK, format="json")

    empty = token_client(seller).post(url(delivered, "refuse"), {}, format="json")
    refused = token_client(seller).post(
        url(delivered, "refuse"), {"refusal_reason": "Blue in the photos."}, format="json"
    )
    disputed = token_client(buyer).post(url(delivered, "dispute"), {"note": "See the box."})

    assert empty.status_code == 400
    assert refused.json()["status"] == "refused"
    assert disputed.json()["status"] == "disputed"
    assert ReturnRequest.objects.get().dispute_note == "See the box."


def test_the_seller_cannot_ask_for_a_return_of_their_own_sale(delivered, seller):
    response = token_client(seller).post(url(delivered), ASK, format="json")

    assert response.status_code == 403
    assert response.json()["code"] == "not_buyer"
    assert not ReturnRequest.objects.exists()


def test_the_buyer_cannot_accept_their_own_return(delivered, buyer, provider_refunds):
    token_client(buyer).post(url(delivered), ASK, format="json")

    response = token_client(buyer).post(url(delivered, "accept"), format="json")

    assert response.status_code == 400
    assert provider_refunds == []
