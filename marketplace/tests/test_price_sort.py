"""Sorting by price sorts by what the buyer pays: a running sale applied, an auction's bid."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from marketplace.queries.catalog import clear_reference_cache
from marketplace.tests.factories.catalog import AuctionProductFactory, ProductFactory

pytestmark = pytest.mark.django_db
URL = reverse("product_list")
API_URL = "/api/products/"


@pytest.fixture(autouse=True)
def _fresh_reference_data():
    clear_reference_cache()
    yield
    clear_reference_cache()


def fixed(title: str, price: str, *, sale: int | None = None, sale_days: tuple = (-1, 1)):
    now = timezone.now()
    extra = {}
    if sale is not None:
        extra = {
            "fixed_price__sale_percent": sale,
            "fixed_price__sale_starts_at": now + timedelta(days=sale_days[0]),
            "fixed_price__sale_ends_at": now + timedelta(days=sale_days[1]),
        }
    return ProductFactory(
        title=title, display_price=Decimal(price), fixed_price__price=Decimal(price), **extra
    )


def auction(title: str, starting: str, current: str):
    return AuctionProductFactory(
        title=title,
        display_price=Decimal(current),
        auction__starting_price=Decimal(starting),
        auction__current_price=Decimal(current),
    )


def titles(client, **params) -> list[str]:
    return [p.title for p in client.get(URL, params).context["products"]]


def test_price_sorts_use_the_sale_price_and_the_current_bid(client):
    fixed("Rs 1000, half off now", "1000", sale=50)  # pays 500
    fixed("Rs 700", "700")
    fixed("Rs 600, sale over", "600", sale=50, sale_days=(-3, -1))  # pays 600
    fixed("Rs 900, sale to come", "900", sale=50, sale_days=(1, 3))  # pays 900
    auction("Auction from Rs 100, bid Rs 800", "100", "800")
    cheapest_first = [
        "Rs 1000, half off now",
        "Rs 600, sale over",
        "Rs 700",
        "Auction from Rs 100, bid Rs 800",
        "Rs 900, sale to come",
    ]
    assert titles(client, sort="price_asc") == cheapest_first
    assert titles(client, sort="price_desc") == cheapest_first[::-1]


def test_a_sale_price_is_sorted_consistently_with_the_price_filter(client):
    fixed("Rs 1000, half off now", "1000", sale=50)
    fixed("Rs 550", "550")
    fixed("Rs 650", "650")
    assert titles(client, sort="price_asc", max_price="600") == [
        "Rs 1000, half off now",
        "Rs 550",
    ]
    assert titles(client, sort="price_desc", min_price="520") == ["Rs 650", "Rs 550"]


@pytest.mark.parametrize("sort", ["price_asc", "price_desc"])
def test_every_page_of_a_price_sort_is_in_the_order_the_buyer_pays(client, sort):
    """Pages past the first, and sales far from their list price, land where they belong
    (only rows that can be on the requested pages are sorted)."""
    paid = {}
    for n in range(1, 31):
        product = fixed(f"Rs {n * 100}", str(n * 100))
        paid[product.title] = n * 100
    for list_price, percent in [("9500", 90), ("19990", 90), ("150", 10), ("2950", 50)]:
        product = fixed(f"Rs {list_price} less {percent}%", list_price, sale=percent)
        paid[product.title] = Decimal(list_price) * (100 - percent) / 100
    bid = auction("Auction at Rs 1050", "100", "1050")
    paid[bid.title] = 1050
    expected = sorted(paid, key=paid.get, reverse=sort == "price_desc")
    pages = []
    for page in (1, 2, 3):
        pages += titles(client, sort=sort, per_page="12", page=str(page))
    assert pages == expected


def test_the_api_sorts_by_the_price_the_buyer_pays(client):
    fixed("Rs 1000, half off now", "1000", sale=50)
    fixed("Rs 700", "700")
    auction("Auction bid Rs 600", "100", "600")
    response = client.get(API_URL, {"sort": "price_asc", "per_page": "2", "page": "1"})
    assert [p["title"] for p in response.json()["results"]] == [
        "Rs 1000, half off now",
        "Auction bid Rs 600",
    ]
    response = client.get(API_URL, {"sort": "price_asc", "per_page": "2", "page": "2"})
    assert [p["title"] for p in response.json()["results"]] == ["Rs 700"]
