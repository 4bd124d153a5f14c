"""Issue 13, item 4: on a phone, search, cart and unread counts stay outside the menu, and the
menu opens with or without JavaScript."""

import pytest

from marketplace.tests.browser.conftest import PHONE, login_as, overflows_horizontally


@pytest.mark.parametrize("language", ["en", "ur"])
def test_search_cart_and_unread_counts_are_visible_on_a_phone_with_the_query_filled(
    page, context, live_url, buyer, language
):
    buyer.language = language
    buyer.save(update_fields=["language"])
    login_as(context, live_url, buyer)
    page.set_viewport_size(PHONE)

    page.goto("/products/?q=vase")

    assert not page.is_visible("#nav-main")
    assert page.input_value("#nav-search") == "vase"
    assert page.is_visible("#nav-search")
    assert page.is_visible("a.nav-link[href='/cart/']")
    assert page.is_visible("a.nav-link[href='/notifications/']")
    assert page.is_visible("a.nav-link[href='/messages/']")
    assert not overflows_horizontally(page)


@pytest.mark.parametrize("javascript", [True, False])
def test_the_phone_menu_and_account_menu_open_with_and_without_javascript(
    browser, live_url, buyer, javascript
):
    context = browser.new_context(base_url=live_url, viewport=PHONE, java_script_enabled=javascript)
    login_as(context, live_url, buyer)
    page = context.new_page()
    page.goto("/")
    assert not page.is_visible("#nav-main")

    page.click(".navbar-toggler")
    # Open, not opening: with JavaScript, Bootstrap's collapse animates for 0.35 s and only then
    # adds .show; without it, the link makes #nav-main the :target. Then tap the name, as a person
    # would once the menu has stopped moving.
    page.locator("#nav-main:is(.show, :target)").wait_for(state="visible")
    page.click("#nav-main .dropdown-toggle")
    page.locator("#nav-account").wait_for(state="visible")

    assert page.is_visible("#nav-account a[href='/orders/']")
    context.close()
