from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from marketplace.models import Category, City, Product, Province
from marketplace.money import format_pkr, parse_amount
from marketplace.tests.factories import AuctionListingFactory, ProductFactory
from marketplace.validators import normalize_pk_mobile


@pytest.mark.django_db
def test_every_fresh_database_has_the_seven_provinces_and_their_cities():
    names = set(Province.objects.values_list("name", flat=True))
    assert names == {
        "Punjab",
        "Sindh",
        "Khyber Pakhtunkhwa",
        "Balochistan",
        "Islamabad Capital Territory",
        "Gilgit-Baltistan",
        "Azad Jammu and Kashmir",
    }
    assert City.objects.get(name="Multan").province.name == "Punjab"
    assert City.objects.get(name="Karachi").province.name == "Sindh"


@pytest.mark.django_db
def test_categories_are_seeded_as_a_tree():
    pottery = Category.objects.get(slug="pottery-ceramics")
    assert pottery.children.filter(slug="multani-blue-pottery").exists()
    assert Category.objects.filter(slug="truck-art", parent=None).exists()


@pytest.mark.django_db
def test_a_product_cannot_be_both_auction_and_fixed_price_in_the_database():
    product = ProductFactory()
    product.auction = AuctionListingFactory()
    with pytest.raises(IntegrityError), transaction.atomic():
        product.save()


@pytest.mark.django_db
def test_a_product_must_have_one_listing():
    product = ProductFactory()
    with pytest.raises(IntegrityError), transaction.atomic():
        Product.objects.filter(pk=product.pk).update(fixed_price=None)


@pytest.mark.parametrize(
    ("raw", "normalized"),
    [
        ("0300-1234567", "+923001234567"),
        ("03001234567", "+923001234567"),
        ("+923001234567", "+923001234567"),
        ("+92 300 1234567", "+923001234567"),
    ],
)
def test_pakistani_mobile_numbers_are_normalized(raw, normalized):
    assert normalize_pk_mobile(raw) == normalized


@pytest.mark.parametrize("raw", ["", "12345", "0200-1234567", "+9230012345678", "+44 7700 900123"])
def test_non_pakistani_mobile_numbers_are_refused(raw):
    with pytest.raises(ValidationError):
        normalize_pk_mobile(raw)


@pytest.mark.parametrize(
    ("amount", "text"),
    [(Decimal("12500"), "Rs 12,500"), (Decimal("999.50"), "Rs 999.50"), (Decimal("0"), "Rs 0")],
)
def test_prices_are_formatted_in_rupees(amount, text):
    assert format_pkr(amount) == text


@pytest.mark.parametrize(
    ("raw", "parsed"),
    [
        ("5000.00", Decimal("5000.00")),
        ("12,500", Decimal("12500.00")),
        (Decimal("1"), Decimal("1.00")),
    ],
)
def test_amounts_parse_to_two_place_decimals(raw, parsed):
    assert parse_amount(raw) == parsed


@pytest.mark.parametrize("raw", ["abc", "", None, 5000.5, "1e999", "NaN", "1.005", "Infinity"])
def test_non_money_input_is_refused(raw):
    assert parse_amount(raw) is None
