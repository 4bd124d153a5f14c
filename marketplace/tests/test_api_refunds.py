"""A cash-on-delivery refund through the API: the same service and rules as the order page
(services.manual_refunds), the buyer gives the account, the seller can only look."""

import pytest

from marketplace.models import Refund, ReturnRequest
from marketplace.services import remittance, returns
from marketplace.tests.api_support import token_client
from marketplace.tests.courier_support import cod_order, delivered_parcel

pytestmark = pytest.mark.django_db

WALLET = {"kind": "jazzcash", "wallet_number": "0300-1234567", "account_title": "Bilal Ahmed"}


@pytest.fixture
def owed(courier, seller, buyer):
    """Bilal's delivered COD order, remitted, its return accepted: the refund is owed."""
    order = cod_order(seller, buyer)
    delivered_parcel(courier, order, seller)
    remittance.reconcile_report()
    request = returns.open_return(
        order=order, by=buyer, reason=ReturnRequest.Reason.DAMAGED, details="Chipped."
    )
    returns.accept_return(request=request, by=seller)
    return order


def test_the_buyer_gives_the_account_through_the_api(owed, seller, buyer, outsider):
    url = f"/api/orders/{owed.number}/refund/"
    shown = token_client(buyer).get(url).json()
    assert (shown["provider"], shown["status"], shown["needs_account"]) == (
        "manual",
        "pending",
        True,
    )
    assert shown["amount"] == str(owed.total)
    assert token_client(seller).get(url).status_code == 200
    assert token_client(outsider).get(url).status_code == 404

    wrong = token_client(buyer).post(
        url, {"kind": "bank", "iban": "PK36SCBL0000001123456703", "account_title": "B"}, "json"
    )
    assert wrong.status_code == 400
    assert "iban" in wrong.json()["errors"]
    refused = token_client(seller).post(url, WALLET, "json")
    assert (refused.status_code, refused.json()["code"]) == (403, "not_buyer")

    given = token_client(buyer).post(url, WALLET, "json")
    assert given.status_code == 200, given.content
    body = given.json()
    assert (body["needs_account"], body["payee_kind"], body["account"]) == (
        False,
        "jazzcash",
        "•••• 4567",
    )
    refund = Refund.objects.get(order=owed)
    assert (refund.payee_wallet, refund.status) == ("03001234567", Refund.Status.PENDING)
    again = token_client(buyer).post(url, WALLET, "json")
    assert (again.status_code, again.json()["code"]) == (400, "payee_given")
