"""Issue 13 (1, 2): a seller nobody could pay sees what is missing instead of a listing form,
buyers see why an item cannot be bought, and Stripe's unfinished details read as plain words;
English and Urdu, phone and desktop."""

import pytest

from marketplace.models import ConnectedAccount
from marketplace.services.cart import add_to_cart
from marketplace.tests.browser.test_i18n_a11y import _phone_page, page_problems
from marketplace.tests.factories.accounts import SellerFactory
from marketplace.tests.factories.orders import listing_by


@pytest.fixture
def newcomer(db):
    seller = SellerFactory(username="nadia", first_name="Nadia", payouts=False)
    ConnectedAccount.objects.create(
        user=seller,
        stripe_account_id="acct_nadia",
        requirements_due=["business_type", "individual.dob.day", "tos_acceptance.ip"],
    )
    return seller


@pytest.mark.parametrize(("language", "direction"), [("en", "ltr"), ("ur", "rtl")])
def test_unready_seller_pages_fit_and_pass_axe(
    browser, live_url, newcomer, buyer, screenshot, language, direction
):
    listing = listing_by(newcomer, title="Ajrak shawl")
    add_to_cart(user=buyer, listing=listing, quantity=1)
    for user in (newcomer, buyer):
        user.language = language
        user.save(update_fields=["language"])
    problems = []
    pages = {
        newcomer: {
            "sell": "/sell/listings/new/",
            "auction": "/sell/auctions/new/",
            "payouts": "/sell/payouts/",
        },
        buyer: {"product": listing.product.get_absolute_url(), "cart": "/cart/"},
    }
    for user, paths in pages.items():
        context, page = _phone_page(browser, live_url, user, language)
        for name, path in paths.items():
            response = page.goto(path)
            assert response.status == 200, name
            problems += page_problems(page, name, language, direction)
            screenshot(page, f"{name}-{language}")
            if name == "payouts":
                assert "individual.dob" not in page.inner_text("#payout-requirements")
            if name in ("sell", "auction"):
                assert page.locator("#payouts-missing").is_visible()
            if name == "product":
                assert page.locator("#seller-not-ready").is_visible()
                assert page.locator("#buy-form").count() == 0
        context.close()
    assert problems == []
