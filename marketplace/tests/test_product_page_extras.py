"""Issue 13, items 7 and 9: product and auction pages open the full photo, offer a WhatsApp
share link and link previews, say how delivery and returns work; Help covers them."""

from decimal import Decimal
from urllib.parse import quote

import pytest
from django.urls import reverse

from marketplace.services.listings import save_images
from marketplace.tests.factories.catalog import AuctionProductFactory, ProductFactory
from marketplace.tests.test_images import photo

pytestmark = pytest.mark.django_db


@pytest.fixture
def vase(seller):
    product = ProductFactory(
        seller=seller, title="Blue vase", fixed_price__price="4500", display_price="4500"
    )
    save_images(product=product, files=[photo(size=(1200, 900))], start_position=0)
    return product


def page_of(client, product) -> str:
    return client.get(reverse("product_detail", args=[product.pk]), follow=True).content.decode()


def test_the_product_page_has_link_previews_with_title_price_and_absolute_photo(client, vase):
    page = page_of(client, vase)
    image_url = vase.images.first().image.url

    assert '<meta property="og:title" content="Blue vase · Rs 4,500">' in page
    assert f'<meta property="og:image" content="http://testserver{image_url}">' in page
    assert '<meta property="product:price:amount" content="4500.00">' in page
    assert '<meta property="product:price:currency" content="PKR">' in page
    assert '<meta name="twitter:card" content="summary_large_image">' in page


def test_the_main_photo_links_to_the_full_size_file(client, vase):
    page = page_of(client, vase)
    image_url = vase.images.first().image.url

    assert f'<a href="{image_url}" class="photo-zoom"' in page
    assert "Full size" in page


def test_the_whatsapp_share_link_carries_the_title_and_the_page_address(client, vase):
    page = page_of(client, vase)
    address = f"http://testserver{reverse('product_detail', args=[vase.pk])}"

    expected = "https://wa.me/?text=" + quote(f"Blue vase {address}", safe="")
    assert f'href="{expected}"' in page


def test_the_product_page_says_how_delivery_and_returns_work_and_links_help(client, vase):
    page = page_of(client, vase)

    assert "by courier after you pay" in page
    assert f'href="{reverse("help")}#returns-title"' in page
    assert f'href="{reverse("help")}#delivery-title"' in page


def test_the_auction_page_has_the_same_previews_share_link_and_full_photo(client, seller):
    product = AuctionProductFactory(seller=seller, title="Ajrak shawl")
    save_images(product=product, files=[photo()], start_position=0)

    page = client.get(reverse("auction_detail", args=[product.auction.pk])).content.decode()

    assert '<meta property="og:title" content="Ajrak shawl · Rs ' in page
    assert 'class="photo-zoom"' in page
    assert 'id="share-whatsapp"' in page


@pytest.mark.parametrize("language", ["en", "ur"])
def test_help_covers_buying_paying_delivery_returns_selling_fees_blocking_and_contact(
    client, language, settings
):
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = language
    page = client.get(reverse("help")).content.decode()

    for section in (
        "buying",
        "increments",
        "paying",
        "delivery",
        "returns",
        "selling",
        "fees",
        "blocking",
        "contact",
    ):
        assert f'id="{section}-title"' in page
        assert f'href="#{section}-title"' in page
    assert reverse("complaint_create") in page


def test_help_states_the_rules_from_the_settings(client, settings):
    settings.PLATFORM_FEE_RATE = Decimal("0.025")
    settings.CHECKOUT_HOLD_MINUTES = 40
    settings.MAX_OPEN_UNPAID_CHECKOUTS = 2
    settings.PAYMENT_VIOLATIONS_BEFORE_BLOCK = 4

    page = client.get(reverse("help")).content.decode()

    assert "keeps 2.5% of the order total" in page
    assert "We hold the items for 40 minutes" in page
    assert "up to 2 checkouts waiting for payment" in page
    assert "After 4 such orders" in page
    settings.PLATFORM_FEE_RATE = Decimal("0.02")
    assert "keeps 2% of the order total" in client.get(reverse("help")).content.decode()


def test_every_page_links_a_favicon_in_svg_and_png_that_exist(client):
    from django.contrib.staticfiles import finders

    page = client.get(reverse("home")).content.decode()

    assert '<link rel="icon" href="/static/img/favicon.svg" type="image/svg+xml">' in page
    assert '<link rel="icon" href="/static/img/favicon-32.png" type="image/png"' in page
    for name in ("img/favicon.svg", "img/favicon-32.png", "img/apple-touch-icon.png"):
        assert finders.find(name), name
