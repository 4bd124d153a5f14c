"""Sellers' "Get paid" pages against the Stripe emulator: create the account, onboard, return."""

import pytest
from django.urls import reverse

from marketplace.models import ConnectedAccount
from marketplace.tests.payments_fixtures import objects
from marketplace.tests.stripe_support import control, http

pytestmark = pytest.mark.django_db


def test_a_new_seller_is_told_payouts_are_not_set_up(seller_client):
    page = seller_client.get(reverse("payouts_setup")).content.decode()

    assert "Not set up yet" in page
    assert 'id="payouts-start"' in page


def test_starting_creates_an_express_account_in_pakistan_and_goes_to_onboarding(
    emulator, seller, seller_client, settings
):
    settings.STRIPE_CONNECT_COUNTRY = "PK"

    response = seller_client.post(reverse("payouts_start"))

    account = ConnectedAccount.objects.get(user=seller)
    assert response.status_code == 302
    assert response["Location"].startswith(emulator)
    [created] = objects(emulator, "account")
    assert (created["id"], created["type"], created["country"]) == (
        account.stripe_account_id,
        "express",
        "PK",
    )
    assert not account.ready


def test_starting_twice_keeps_one_account(emulator, seller, seller_client):
    seller_client.post(reverse("payouts_start"))
    seller_client.post(reverse("payouts_start"))

    assert ConnectedAccount.objects.filter(user=seller).count() == 1
    assert len(objects(emulator, "account")) == 1


def test_onboarding_on_the_hosted_page_then_return_shows_ready(emulator, seller, seller_client):
    link = seller_client.post(reverse("payouts_start"))["Location"]
    # The seller fills in the emulator's onboarding page, which sends them back to us.
    status, headers, _body = http("POST", f"{link}/complete", data=b"")
    assert status in {302, 303}
    return_url = headers["Location"]
    assert return_url.endswith(reverse("payouts_return"))

    response = seller_client.get(reverse("payouts_return"), follow=True)

    page = response.content.decode()
    assert "You are ready to be paid" in page
    assert ConnectedAccount.objects.get(user=seller).ready


def test_returning_unfinished_shows_what_is_missing(emulator, seller, seller_client):
    seller_client.post(reverse("payouts_start"))

    response = seller_client.get(reverse("payouts_return"), follow=True)

    page = response.content.decode()
    assert "Almost there" in page
    assert 'id="payouts-continue"' in page


def test_an_expired_link_is_replaced_by_a_fresh_one(emulator, seller, seller_client):
    seller_client.post(reverse("payouts_start"))

    response = seller_client.get(reverse("payouts_refresh"))

    assert response.status_code == 302
    assert response["Location"].startswith(emulator)
    assert ConnectedAccount.objects.filter(user=seller).count() == 1


def test_an_account_disabled_by_the_provider_is_no_longer_ready(emulator, seller, seller_client):
    seller_client.post(reverse("payouts_start"))
    account = ConnectedAccount.objects.get(user=seller)
    control(emulator, f"accounts/{account.stripe_account_id}/enable")
    seller_client.get(reverse("payouts_return"))
    control(emulator, f"accounts/{account.stripe_account_id}/disable")

    seller_client.get(reverse("payouts_return"))

    account.refresh_from_db()
    assert not account.ready


def test_the_provider_being_down_is_a_message_not_an_error(seller_client, settings):
    settings.STRIPE_API_BASE = "http://127.0.0.1:9"

    response = seller_client.post(reverse("payouts_start"), follow=True)

    assert response.status_code == 200
    assert "unavailable right now" in response.content.decode()
    assert not ConnectedAccount.objects.exists()


@pytest.mark.parametrize("name", ["payouts_setup", "payouts_refresh", "payouts_return"])
def test_buyers_cannot_set_up_payouts(buyer_client, name):
    assert buyer_client.get(reverse(name)).status_code == 403


def test_payouts_need_a_login(client):
    response = client.get(reverse("payouts_setup"))

    assert response.status_code == 302
    assert reverse("login") in response["Location"]


def test_the_refresh_link_never_creates_an_account(emulator, seller, seller_client):
    response = seller_client.get(reverse("payouts_refresh"))

    assert response.status_code == 302
    assert response["Location"] == reverse("payouts_setup")
    assert not ConnectedAccount.objects.exists()
    assert objects(emulator, "account") == []
