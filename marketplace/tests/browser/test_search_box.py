"""The search box in a browser: did you mean, suggestions as you type, the city list narrowing."""

import pytest
from playwright.sync_api import expect

from marketplace.services.listings import refresh_search_vector
from marketplace.tests.browser.conftest import overflows_horizontally
from marketplace.tests.factories.catalog import ProductFactory, category


@pytest.mark.parametrize("language", ["en", "ur"])
def test_search_suggests_and_corrects_and_narrows_cities(browser, live_url, screenshot, language):
    other = category("other-handmade")
    products = [
        ProductFactory(title=title, description="", category=other)
        for title in ("Multani khussa shoes", "کھسّہ زری والا", "Hand-printed ajrak shawl")
    ]
    refresh_search_vector([p.pk for p in products])
    context = browser.new_context(base_url=live_url)
    context.add_cookies([{"name": "django_language", "value": language, "url": live_url}])
    page = context.new_page()

    page.goto("/products/?q=ajrk")
    link = page.locator("#did-you-mean a")
    assert link.inner_text() == "ajrak"
    link.click()
    page.wait_for_url("**/products/?q=ajrak")
    assert page.locator("#results .card").count() == 1

    page.goto("/products/?q=")
    page.locator("#browse-q").press_sequentially("khu", delay=50)
    suggestion = page.locator("#search-suggestions a", has_text="khusa").first
    suggestion.wait_for()
    page.locator("#results").get_by_text("Multani khussa shoes").wait_for()
    assert not overflows_horizontally(page)
    screenshot(page, f"suggestions-{language}")

    page.select_option("#browse-province", "sindh")
    expect(page.locator("#browse-city option[value=lahore]")).to_have_count(0)
    expect(page.locator("#browse-city option[value=karachi]")).to_have_count(1)
    page.goto("/products/?q=ajrk")
    screenshot(page, f"did-you-mean-{language}")
    context.close()
