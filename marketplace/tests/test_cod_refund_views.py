"""A cash-on-delivery refund through the pages: the seller accepts the return on the order
page, the buyer gives an account on theirs, staff mark it sent (or failed) in the admin."""

import pytest
from django.test import Client
from django.urls import reverse

from marketplace.models import Order, Refund, ReturnRequest
from marketplace.services import remittance, returns
from marketplace.tests.courier_support import cod_order, delivered_parcel
from marketplace.tests.factories.ledger import staff_user

pytestmark = pytest.mark.django_db


@pytest.fixture
def returned_cod(courier, seller, buyer):
    """Bilal's delivered cash-on-delivery order, remitted, and his return request."""
    order = cod_order(seller, buyer)
    delivered_parcel(courier, order, seller)
    remittance.reconcile_report()
    returns.open_return(
        order=order, by=buyer, reason=ReturnRequest.Reason.DAMAGED, details="Chipped."
    )
    return Order.objects.get(pk=order.pk)


def client_for(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def page(client, order) -> str:
    response = client.get(reverse("order_detail", args=[order.number]))
    assert response.status_code == 200
    return response.content.decode()


def test_accepted_on_the_sellers_page_the_buyer_gives_an_account_and_staff_mark_it_sent(
    returned_cod, seller, buyer
):
    order = returned_cod
    sellers, buyers, staff = client_for(seller), client_for(buyer), client_for(staff_user())

    response = sellers.post(reverse("order_return_accept", args=[order.number]))
    assert response.status_code == 302
    refund = Refund.objects.get(order=order)
    assert (refund.provider, refund.status) == (Refund.MANUAL, Refund.Status.PENDING)
    assert 'id="refund-account-form"' not in page(sellers, order)
    assert "The buyer paid in cash" in page(sellers, order)
    assert 'id="refund-account-form"' in page(buyers, order)

    url = reverse("order_refund_account", args=[order.number])
    wrong = buyers.post(
        url, {"kind": "bank", "iban": "PK36SCBL0000001123456703", "account_title": "Bilal"}
    )
    assert wrong.status_code == 200
    assert "check digits are wrong" in wrong.content.decode()
    assert 'value="PK36SCBL0000001123456703"' in wrong.content.decode()  # kept as typed
    assert sellers.post(url, {"kind": "bank"}).status_code == 404  # not the seller's to give

    given = buyers.post(
        url, {"kind": "jazzcash", "wallet_number": "0300-1234567", "account_title": "Bilal"}
    )
    assert given.status_code == 302
    html = page(buyers, order)
    assert "Being sent" in html and "•••• 4567" in html
    assert 'id="refund-account-form"' not in html

    changelist = reverse("admin:marketplace_refund_changelist")
    listed = staff.get(changelist, {"by_hand": "to_send"})
    assert "03001234567" in listed.content.decode()  # staff see the whole number
    marked = staff.post(
        changelist,
        {"action": "mark_refunds_sent", "_selected_action": [refund.pk], "reference": "JC-7781"},
    )
    assert marked.status_code == 302
    refund.refresh_from_db()
    assert (refund.status, refund.stripe_refund_id) == (Refund.Status.SUCCEEDED, "JC-7781")
    html = page(buyers, order)
    assert 'id="refund-reference">JC-7781<' in html
    assert "MadeInPK sent the buyer" in page(sellers, order)
    assert Order.objects.get(pk=order.pk).status == Order.Status.REFUNDED


def test_staff_mark_it_failed_in_the_admin_and_the_buyer_is_asked_again(
    returned_cod, seller, buyer
):
    order = returned_cod
    returns.accept_return(request=ReturnRequest.objects.get(order=order), by=seller)
    buyers, staff = client_for(buyer), client_for(staff_user())
    url = reverse("order_refund_account", args=[order.number])
    buyers.post(url, {"kind": "bank", "iban": "PK36SCBL0000001123456702", "account_title": "B"})
    refund = Refund.objects.get(order=order)
    changelist = reverse("admin:marketplace_refund_changelist")

    no_reason = staff.post(
        changelist, {"action": "mark_refunds_failed", "_selected_action": [refund.pk]}, follow=True
    )
    assert "Say why" in no_reason.content.decode()
    staff.post(
        changelist,
        {
            "action": "mark_refunds_failed",
            "_selected_action": [refund.pk],
            "reason": "Title does not match",
        },
    )

    html = page(buyers, order)
    assert 'id="refund-failed"' in html and "Title does not match" in html
    assert 'id="refund-account-form"' in html


def test_the_return_form_tells_a_cash_buyer_how_the_money_comes_back(courier, seller, buyer):
    order = cod_order(seller, buyer)
    delivered_parcel(courier, order, seller)
    response = client_for(buyer).get(reverse("order_return", args=[order.number]))
    assert response.status_code == 200
    text = response.content.decode()
    assert "by bank transfer or to your JazzCash or Easypaisa wallet" in text
    assert "card you paid with" not in text
