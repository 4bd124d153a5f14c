"""Issue 13 (1): a seller nobody could pay cannot publish, and buyers never reach a checkout
they cannot pay."""

import pytest
from django.urls import reverse
from django.utils import translation

from marketplace.exceptions import PurchaseRejected
from marketplace.models import AuctionListing, Checkout, ConnectedAccount, PayoutMethod, Product
from marketplace.payout_requirements import describe, describe_all
from marketplace.services import payouts
from marketplace.services.cart import add_to_cart
from marketplace.services.orders import place_checkout
from marketplace.tests.api_support import photo, token_client
from marketplace.tests.factories.accounts import SellerFactory
from marketplace.tests.factories.ledger import bank_method
from marketplace.tests.factories.orders import address_of, listing_by


@pytest.fixture
def newcomer(db):
    """Nadia opened a shop a minute ago and has not said how she is paid."""
    return SellerFactory(username="nadia", first_name="Nadia", payouts=False)


def test_a_seller_without_a_way_to_be_paid_is_not_ready(newcomer, seller):
    assert payouts.unready_sellers([newcomer.pk, seller.pk]) == {newcomer.pk}
    assert not payouts.can_receive_payouts(newcomer)


def test_a_payout_method_in_its_hold_already_lets_a_seller_sell(newcomer):
    bank_method(newcomer, held=True)
    assert (
        PayoutMethod.objects.get(seller=newcomer).hold_until
        > PayoutMethod.objects.get(seller=newcomer).created_at
    )
    assert payouts.can_receive_payouts(newcomer)


def test_a_ready_stripe_account_lets_a_seller_sell_and_an_unfinished_one_does_not(newcomer):
    account = ConnectedAccount.objects.create(user=newcomer, stripe_account_id="acct_nadia")
    assert not payouts.can_receive_payouts(newcomer)
    account.payouts_enabled = account.transfers_active = True
    account.save()
    assert payouts.can_receive_payouts(newcomer)


@pytest.mark.parametrize("url_name", ["listing_create", "auction_create"])
def test_the_sell_pages_show_what_is_missing_instead_of_the_form(client, newcomer, url_name):
    client.force_login(newcomer)
    page = client.get(reverse(url_name)).content.decode()
    assert 'id="payouts-missing"' in page
    assert reverse("payout_method") in page and reverse("payouts_setup") in page
    assert 'name="title"' not in page


@pytest.mark.parametrize("url_name", ["listing_create", "auction_create"])
def test_posting_a_listing_without_a_way_to_be_paid_publishes_nothing(client, newcomer, url_name):
    client.force_login(newcomer)
    response = client.post(reverse(url_name), {"title": "Ajrak", "images": [photo()]})
    assert 'id="payouts-missing"' in response.content.decode()
    assert not Product.objects.filter(seller=newcomer).exists()
    assert not AuctionListing.objects.exists()


@pytest.mark.parametrize("url_name", ["listing_create", "auction_create"])
def test_a_seller_with_a_held_payout_method_gets_the_form(client, newcomer, url_name):
    bank_method(newcomer, held=True)
    client.force_login(newcomer)
    page = client.get(reverse(url_name)).content.decode()
    assert 'name="title"' in page and 'id="payouts-missing"' not in page


@pytest.mark.parametrize("path", ["/api/products/", "/api/auctions/"])
def test_the_api_refuses_to_publish_for_a_seller_nobody_could_pay(newcomer, path):
    response = token_client(newcomer).post(path, {"title": "Ajrak"}, format="multipart")
    assert response.status_code == 400
    assert response.json()["code"] == "payouts_missing"
    assert not Product.objects.exists()


def test_the_product_page_offers_no_buy_now_for_a_seller_nobody_could_pay(client, newcomer, buyer):
    listing = listing_by(newcomer)
    client.force_login(buyer)  # a visitor is offered a login link, not the form
    page = client.get(listing.product.get_absolute_url()).content.decode()
    assert 'id="seller-not-ready"' in page
    assert reverse("buy_now", args=[listing.pk]) not in page
    PayoutMethod.objects.create(
        seller=newcomer,
        kind="jazzcash",
        wallet_number="03001234567",
        account_title="Nadia",
        hold_until=listing.product.created_at,
        created_at=listing.product.created_at,
    )
    page = client.get(listing.product.get_absolute_url()).content.decode()
    assert reverse("buy_now", args=[listing.pk]) in page


def test_the_cart_offers_no_place_order_for_a_seller_nobody_could_pay(client, newcomer, buyer):
    listing = listing_by(newcomer)
    add_to_cart(user=buyer, listing=listing, quantity=1)
    client.force_login(buyer)
    page = client.get(reverse("cart_detail")).content.decode()
    assert "cannot be bought yet" in page
    assert reverse("checkout_start") not in page


def test_checkout_refuses_a_seller_nobody_could_pay_and_reserves_nothing(newcomer, seller, buyer):
    theirs, ours = listing_by(newcomer, quantity=2), listing_by(seller)
    with pytest.raises(PurchaseRejected) as refused:
        place_checkout(buyer=buyer, lines=[(ours, 1), (theirs, 1)], address=address_of(buyer))
    assert refused.value.code == "seller_not_ready"
    assert theirs.product.title in refused.value.message
    theirs.refresh_from_db()
    assert theirs.quantity == 2 and not Checkout.objects.exists()


# Issue 13 (2): Stripe's requirement codes in plain words.


def test_each_requirement_code_is_a_plain_phrase_once():
    codes = [
        "business_type",
        "individual.dob.day",
        "individual.dob.month",
        "individual.first_name",
        "individual.last_name",
        "tos_acceptance.ip",
        "tos_acceptance.date",
        "person_1A2b.relationship.title",
        "external_account",
    ]
    assert describe_all(codes) == [
        "Whether you sell as a person or as a company",
        "Your date of birth",
        "Your name",
        "Accepting Stripe's terms of service",
        "The bank account (IBAN) to pay you into",
        "Other details Stripe asks for",
    ]


def test_a_code_matches_its_longest_prefix_only_at_a_dot():
    assert describe("individual.verification.document") == "A photo of your CNIC"
    assert describe("individual.dobby") == "Your personal details"
    assert describe("companyx") == "Other details Stripe asks for"


def test_the_payouts_page_shows_plain_words_not_codes_in_both_languages(client, newcomer):
    ConnectedAccount.objects.create(
        user=newcomer,
        stripe_account_id="acct_nadia",
        requirements_due=["business_type", "individual.dob.day", "tos_acceptance.ip"],
    )
    client.force_login(newcomer)
    page = client.get(reverse("payouts_setup")).content.decode()
    assert "Your date of birth" in page
    for code in ("business_type", "individual.dob.day", "tos_acceptance.ip"):
        assert code not in page
    newcomer.language = "ur"
    newcomer.save(update_fields=["language"])
    urdu = client.get(reverse("payouts_setup")).content.decode()
    with translation.override("ur"):
        assert str(describe("individual.dob.day")) in urdu
    assert "Your date of birth" not in urdu
