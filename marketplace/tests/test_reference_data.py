"""Reference data every database has from migration 0002: provinces, cities, categories."""

import pytest

from marketplace.models import Category, City, Province


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
