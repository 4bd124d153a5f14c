"""Issue 14: the return flow on the order page (buyer asks, seller answers, buyer disputes);
someone else's order is a 404 and each action is offered to, and taken from, its party only."""

from zoneinfo import ZoneInfo

import pytest
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import date_format

from marketplace.models import Order, Refund, ReturnRequest
from marketplace.services import returns
from marketplace.tests.factories.accounts import UserFactory
from marketplace.tests.factories.ledger import deliver, sold

pytestmark = pytest.mark.django_db

ASK = {"reason": "damaged", "details": "The spout is chipped."}


@pytest.fixture
def delivered(seller, buyer):
    order = sold(seller, buyer)
    deliver(order, days_ago=1)
    return Order.objects.get(pk=order.pk)


def page(client, user, order) -> str:
    client.force_login(user)
    return client.get(reverse("order_detail", args=[order.number])).content.decode()


def test_the_buyer_is_offered_a_return_inside_the_window_and_the_seller_is_not(
    client, delivered, seller, buyer
):
    assert 'id="ask-return"' in page(client, buyer, delivered)
    assert 'id="ask-return"' not in page(client, seller, delivered)


def test_no_return_is_offered_after_the_window(client, delivered, buyer):
    deliver(delivered, days_ago=30)

    assert 'id="ask-return"' not in page(client, buyer, delivered)
    response = client.get(reverse("order_return", args=[delivered.number]))
    assert response.status_code == 302


def test_the_buyer_asks_for_a_return_from_the_form(client, delivered, buyer):
    client.force_login(buyer)
    form = client.get(reverse("order_return", args=[delivered.number]))
    assert form.status_code == 200 and 'id="return-form"' in form.content.decode()

    response = client.post(reverse("order_return", args=[delivered.number]), ASK)

    assert response.status_code == 302
    request = ReturnRequest.objects.get(order=delivered)
    assert (request.reason, request.details) == ("damaged", "The spout is chipped.")


def test_a_return_without_details_shows_the_error_on_the_form(client, delivered, buyer):
    client.force_login(buyer)

    response = client.post(reverse("order_return", args=[delivered.number]), {"reason": "damaged"})

    assert response.status_code == 200
    assert "Please say what is wrong." in response.content.decode()
    assert not ReturnRequest.objects.exists()


@pytest.mark.parametrize("name", ["order_return", "order_return_accept", "order_return_refuse"])
def test_someone_elses_order_is_a_404(client, delivered, buyer, name):
    returns.open_return(order=delivered, by=buyer, **ASK)
    client.force_login(UserFactory())

    assert client.post(reverse(name, args=[delivered.number]), ASK).status_code == 404


def test_the_seller_refuses_and_the_buyer_takes_it_to_staff(client, delivered, seller, buyer):
    returns.open_return(order=delivered, by=buyer, **ASK)
    seller_page = page(client, seller, delivered)
    assert 'id="return-accept-form"' in seller_page and 'id="return-refuse-form"' in seller_page
    assert 'id="return-accept-form"' not in page(client, buyer, delivered)

    client.force_login(seller)
    client.post(
        reverse("order_return_refuse", args=[delivered.number]),
        {"refusal_reason": "It was used."},
    )
    buyer_page = page(client, buyer, delivered)
    assert "It was used." in buyer_page and 'id="return-dispute-form"' in buyer_page

    client.post(reverse("order_return_dispute", args=[delivered.number]), {"note": "Not so."})

    assert ReturnRequest.objects.get().status == ReturnRequest.Status.DISPUTED
    assert 'id="return-dispute-form"' not in page(client, buyer, delivered)


def test_the_buyer_posting_accept_changes_nothing(client, delivered, buyer, provider_refunds):
    returns.open_return(order=delivered, by=buyer, **ASK)
    client.force_login(buyer)

    response = client.post(reverse("order_return_accept", args=[delivered.number]), follow=True)

    assert ReturnRequest.objects.get().status == ReturnRequest.Status.REQUESTED
    assert not Refund.objects.exists() and provider_refunds == []
    assert response.status_code == 200


def test_the_seller_accepts_from_the_page(client, delivered, seller, buyer, provider_refunds):
    returns.open_return(order=delivered, by=buyer, **ASK)
    client.force_login(seller)

    client.post(reverse("order_return_accept", args=[delivered.number]))

    assert ReturnRequest.objects.get().status == ReturnRequest.Status.ACCEPTED
    assert Refund.objects.get(order=delivered).status == Refund.Status.SUCCEEDED


def test_staff_decide_a_dispute_with_the_admin_action(admin_client, delivered, seller, buyer):
    request = returns.open_return(order=delivered, by=buyer, **ASK)
    returns.refuse_return(request=request, by=seller, reason="Used.")
    returns.dispute_return(request=request, by=buyer)

    response = admin_client.post(
        reverse("admin:marketplace_returnrequest_changelist"),
        {"action": "reject_disputes", "_selected_action": [request.pk]},
        follow=True,
    )

    assert response.status_code == 200
    assert ReturnRequest.objects.get().status == ReturnRequest.Status.REJECTED


def test_the_statement_shows_an_order_held_by_a_return_net_and_drops_it_once_refunded(
    client, delivered, seller, buyer, provider_refunds
):
    request = returns.open_return(order=delivered, by=buyer, **ASK)
    client.force_login(seller)

    held = client.get(reverse("ledger_statement")).content.decode()
    returns.accept_return(request=request, by=seller)
    after = client.get(reverse("ledger_statement")).content.decode()

    assert 'id="pending-orders"' in held
    assert "Rs 2,450" in held  # the sale less the fee, not the gross
    assert "return is open" in held
    assert 'id="pending-orders"' not in after


def test_the_statement_dates_a_refused_return_after_the_buyers_escalation_days(
    client, delivered, seller, buyer
):
    """Delivered a day ago (window ends in 6 days), refused now: held 7 days from now."""
    request = returns.open_return(order=delivered, by=buyer, **ASK)
    refused = returns.refuse_return(request=request, by=seller, reason="It was used.")
    client.force_login(seller)

    html = client.get(reverse("ledger_statement")).content.decode()

    ends = timezone.localtime(refused.escalation_ends_at(), ZoneInfo("Asia/Karachi"))
    assert f"Available from {date_format(ends, 'j M Y')}" in html


def test_accepting_a_return_of_an_order_with_nothing_to_refund_says_why(client, seller, buyer):
    from marketplace.tests.factories.fulfilment import delivered_order

    order = delivered_order(seller, buyer)  # marked paid without a payment (demo orders too)
    returns.open_return(order=order, by=buyer, **ASK)
    client.force_login(seller)

    response = client.post(reverse("order_return_accept", args=[order.number]), follow=True)

    assert response.status_code == 200
    assert "not a paid order that can be refunded" in response.content.decode()
    assert ReturnRequest.objects.get().status == ReturnRequest.Status.REQUESTED
