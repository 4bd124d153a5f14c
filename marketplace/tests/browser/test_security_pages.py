"""Issue 12 phase 2 pages in Chromium, English and Urdu at phone width: the profile form with
its password field, the e-mail confirmation and undo pages, the listing form's per-order limit
and Help's hold rule; no sideways scrolling, axe finds nothing serious."""

import pytest
from django.urls import reverse

from marketplace.models import User
from marketplace.services.email_change import CONFIRM_SALT, UNDO_SALT, _token
from marketplace.tests.browser.test_i18n_a11y import _phone_page, page_problems


@pytest.mark.parametrize(("language", "direction"), [("en", "ltr"), ("ur", "rtl")])
def test_security_pages_fit_and_pass_axe(
    browser, live_url, seller, screenshot, language, direction
):
    User.objects.filter(pk=seller.pk).update(language=language)
    confirm = _token(seller, old=seller.email, new="new@example.pk", salt=CONFIRM_SALT)
    undo = _token(seller, old=seller.email, new="new@example.pk", salt=UNDO_SALT)
    pages = {
        "profile-edit": reverse("profile_edit"),
        "email-confirm": reverse("email_change_confirm", args=[confirm]),
        "email-undo": reverse("email_change_undo", args=[undo]),
        "listing-form": reverse("listing_create"),
        "help": reverse("help"),
    }
    context, page = _phone_page(browser, live_url, seller, language)
    problems = []
    try:
        for name, path in pages.items():
            page.goto(path)
            problems += page_problems(page, name, language, direction)
            screenshot(page, f"{name}-{language}")
        page.goto(reverse("profile_edit"))
        assert page.locator("input[name=current_password]").count() == 1
        page.goto(reverse("listing_create"))
        assert page.locator("input[name=max_per_order]").input_value() == "5"
    finally:
        context.close()
    assert problems == []
