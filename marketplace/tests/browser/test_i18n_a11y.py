"""Phones, Urdu and accessibility in Chromium: the key pages at 360x740 in English and Urdu.

Every page must: answer 200, carry the right `lang` and `dir`, not scroll sideways, keep tap
targets at least 44 px, and pass axe-core (shipped inside the axe-playwright-python package, so
nothing is fetched at run time) without a serious or critical violation. Screenshots of each page land in test-artifacts/screenshots/.
"""

import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import expect

from marketplace.services.cart import add_to_cart
from marketplace.tests.auction_helpers import bid, make_auction
from marketplace.tests.browser.conftest import PHONE, login_as, overflows_horizontally
from marketplace.tests.factories.orders import address_of, listing_by, order_for

# No rule is switched off. If one ever must be, list it here with the reason.
AXE_DISABLED_RULES: dict[str, str] = {}
BLOCKING_IMPACTS = {"serious", "critical"}

AXE_OPTIONS = {
    "resultTypes": ["violations"],
    "rules": {rule: {"enabled": False} for rule in AXE_DISABLED_RULES},
}

# Controls a thumb must hit: visible buttons, fields, button-like links and menu links.
SMALL_TARGETS = """() => [...document.querySelectorAll(
    'button, input:not([type=hidden]):not([type=radio]):not([type=checkbox]), select, textarea,'
    + ' summary, a.btn, .nav-link, .page-link, .dropdown-item')]
  .filter((el) => {
    const box = el.getBoundingClientRect();
    return box.width > 0 && box.height > 0 && getComputedStyle(el).visibility !== 'hidden'
      && !el.closest('.visually-hidden, .visually-hidden-focusable');
  })
  .map((el) => {
    const box = el.getBoundingClientRect();
    return [el.outerHTML.slice(0, 80), Math.round(box.width), Math.round(box.height)];
  })
  .filter(([html, width, height]) => width < 44 || height < 44)"""


@pytest.fixture
def shop(seller, buyer):
    """Something on every key page: a listing, a live auction, a cart line and an order."""
    listing = listing_by(seller, price="12500", title="Multani blue pottery vase")
    other = listing_by(seller, price="3200", title="Phulkari cushion covers")
    auction = make_auction(seller, starting_price="1000", title="Hand-knotted Baluchi rug")
    address_of(buyer)
    order = order_for(buyer, other)
    add_to_cart(user=buyer, listing=listing, quantity=1)
    return {
        "home": "/",
        "search": "/products/?q=vase",
        "product": listing.product.get_absolute_url(),
        "auction": f"/auctions/{auction.pk}/",
        "cart": "/cart/",
        "checkout": "/checkout/",
        "order": f"/orders/{order.number}/",
    }


def _phone_page(browser, live_url, user, language: str):
    context = browser.new_context(base_url=live_url, viewport=PHONE, locale="en-GB")
    context.add_cookies([{"name": "django_language", "value": language, "url": live_url}])
    login_as(context, live_url, user)
    return context, context.new_page()


def page_problems(page, name: str, language: str, direction: str) -> list[str]:
    """What is wrong with the loaded page: language and direction, sideways scrolling at
    360 px, small tap targets, serious or critical axe violations."""
    # Measured once the stylesheets have loaded: a caller that waited for an element of a
    # page just submitted could otherwise measure it unstyled (CI under load did).
    page.wait_for_load_state("load")
    problems = []
    lang, dir_ = page.evaluate("[document.documentElement.lang, document.documentElement.dir]")
    if (lang, dir_) != (language, direction):
        problems.append(f"{name}: lang={lang} dir={dir_}")
    if overflows_horizontally(page):
        problems.append(f"{name}: scrolls sideways at 360 px")
    for target in page.evaluate(SMALL_TARGETS):
        problems.append(f"{name}: tap target smaller than 44 px: {target}")
    for violation in Axe().run(page, options=AXE_OPTIONS).response["violations"]:
        if violation["impact"] in BLOCKING_IMPACTS:
            nodes = [" ".join(node["target"]) for node in violation["nodes"][:5]]
            problems.append(
                f"{name}: axe {violation['impact']} {violation['id']} "
                f"({violation['help']}) at {nodes}"
            )
    return problems


@pytest.mark.parametrize(("language", "direction"), [("en", "ltr"), ("ur", "rtl")])
def test_key_pages_fit_a_phone_and_pass_axe(
    browser, live_url, buyer, shop, screenshot, language, direction
):
    context, page = _phone_page(browser, live_url, buyer, language)
    problems = []
    for name, path in shop.items():
        response = page.goto(path)
        page.wait_for_load_state("load")
        if response.status != 200:
            problems.append(f"{name}: status {response.status}")
            continue
        problems += page_problems(page, name, language, direction)
        screenshot(page, f"{name}-{language}")
    context.close()

    assert problems == []


def test_urdu_pages_show_urdu_prices_and_text(browser, live_url, buyer, shop):
    context, page = _phone_page(browser, live_url, buyer, "ur")

    page.goto(shop["product"])

    assert "12,500 روپے" in page.locator("main").inner_text()
    assert page.get_by_role("button", name="ٹوکری میں ڈالیں").is_visible()
    context.close()


def test_language_menu_switches_the_page_and_remembers_it(page, live_url):
    page.goto("/help/")
    assert page.evaluate("document.documentElement.dir") == "ltr"

    page.locator(".language-menu button[value=ur]").click()
    page.wait_for_load_state()

    assert page.url.endswith("/help/")
    assert page.evaluate("document.documentElement.dir") == "rtl"
    page.goto("/")
    assert page.evaluate("document.documentElement.lang") == "ur"

    page.locator(".language-menu button[value=en]").click()
    page.wait_for_load_state()
    assert page.evaluate("document.documentElement.dir") == "ltr"


def test_browse_filters_fold_away_on_a_phone_so_products_come_first(page, shop):
    page.set_viewport_size(PHONE)
    page.goto("/products/")

    assert not page.evaluate("document.getElementById('browse-filters-box').open")
    first_card = page.locator("#results article").first.bounding_box()
    assert first_card["y"] < PHONE["height"]

    page.locator("#browse-filters-box summary").click()
    assert page.locator("#browse-q").is_visible()


def test_browse_filters_stay_open_on_a_desktop(page, shop):
    page.goto("/products/")

    assert page.evaluate("document.getElementById('browse-filters-box').open")
    assert page.locator("#browse-q").is_visible()


def test_another_bidders_bid_is_announced_to_screen_readers(
    browser, live_url, seller, buyer, rival
):
    auction = make_auction(seller, starting_price="1000", title="Sindhi ajrak shawl")
    bid(auction, buyer, "1000")
    watcher_context, watcher = _phone_page(browser, live_url, buyer, "ur")
    watcher.goto(f"/auctions/{auction.pk}/")
    # Locators, not wait_for_function: the page's CSP refuses evaluating a string.
    expect(watcher.locator("#auction")).to_have_attribute("data-ws-state", "open")
    live = watcher.locator("#bid-live")
    assert live.get_attribute("aria-live") == "polite"

    rival_context, rival_page = _phone_page(browser, live_url, rival, "en")
    rival_page.goto(f"/auctions/{auction.pk}/")
    rival_page.fill("#id_amount", "1500")
    rival_page.locator("[data-bid-submit]").click()

    expect(live).to_contain_text("1,500", timeout=10_000)
    assert "نئی بولی" in live.text_content()
    assert "1,500 روپے" in live.text_content()
    watcher_context.close()
    rival_context.close()
