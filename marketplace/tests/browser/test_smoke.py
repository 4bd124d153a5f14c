"""The site renders in a real browser, left to right, without sideways scrolling on a phone."""

import pytest

from marketplace.tests.browser.conftest import PHONE, overflows_horizontally


@pytest.mark.parametrize("path", ["/", "/help/"])
def test_page_renders_left_to_right_without_horizontal_overflow_on_a_phone(page, path, screenshot):
    page.set_viewport_size(PHONE)
    response = page.goto(path)

    assert response.status == 200
    assert page.evaluate("document.documentElement.dir") == "ltr"
    assert page.locator("nav").first.is_visible()
    assert not overflows_horizontally(page)
    screenshot(page, "home" if path == "/" else "help")


def test_bootstrap_and_htmx_are_served_from_our_static_files(page):
    page.goto("/")

    # Bootstrap's reboot sets the body margin to 0 (browsers default to 8px).
    assert page.evaluate("getComputedStyle(document.body).margin") == "0px"
    assert page.evaluate("typeof window.htmx") == "object"
