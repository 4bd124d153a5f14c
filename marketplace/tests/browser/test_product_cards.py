"""Issue 13, item 8: a long shop name on a product card ends in an ellipsis inside the card,
in English and in Urdu, on a phone."""

import pytest

from marketplace.tests.browser.conftest import PHONE, overflows_horizontally
from marketplace.tests.factories.accounts import SellerFactory
from marketplace.tests.factories.catalog import ProductFactory

LONG_NAME = "عمران ٹرک آرٹ اینڈ کرافٹس، راولپنڈی کی پرانی دکان Imran Truck Art and Crafts"


@pytest.mark.parametrize("language", ["en", "ur"])
def test_a_long_shop_name_is_cut_with_an_ellipsis_inside_the_card(page, language):
    seller = SellerFactory(seller_profile__shop_name=LONG_NAME)
    ProductFactory(seller=seller, title="Truck-art kettle")
    page.set_viewport_size(PHONE)
    page.goto("/products/")
    page.click(f"form.language-menu button[value={language}]")

    link = page.locator(".product-card .card-seller a").first
    card = page.locator(".product-card").first
    fits = page.evaluate(
        """([link, card]) => {
            const l = link.getBoundingClientRect(), c = card.getBoundingClientRect();
            return {inside: l.left >= c.left - 0.5 && l.right <= c.right + 0.5,
                    cut: link.scrollWidth > link.clientWidth,
                    ellipsis: getComputedStyle(link).textOverflow};
        }""",
        [link.element_handle(), card.element_handle()],
    )

    assert fits == {"inside": True, "cut": True, "ellipsis": "ellipsis"}
    assert link.get_attribute("title") == LONG_NAME
    assert not overflows_horizontally(page)
