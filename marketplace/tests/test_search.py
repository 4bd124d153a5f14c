"""Search as Pakistanis type it: Urdu script, Roman Urdu spellings, English, plurals, typos."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.db import connection
from django.urls import reverse
from django.utils import timezone

from marketplace.models import Product, SearchSynonym
from marketplace.queries.catalog import clear_reference_cache
from marketplace.queries.search import (
    clear_synonym_cache,
    close_title_words,
    did_you_mean,
    normalize,
    suggestions,
)
from marketplace.services.listings import refresh_search_vector
from marketplace.tests.factories.catalog import ProductFactory, category, city

pytestmark = pytest.mark.django_db
URL = reverse("product_list")

LISTINGS = {
    "ajrak": "Hand-printed ajrak shawl",
    "ajrak-ur": "سندھی اجرک، ہاتھ کی چھپائی",
    "khussa": "Multani khussa shoes",
    "khussa-ur": "کھسّہ زری والا",  # with a shadda: normalised away
    "pottery": "Blue pottery vase",
    "pottery-ur": "مٹی کے برتن کا سیٹ",
    "phulkari": "Phulkari dupatta",
    "rug": "Hand-knotted rug",
    "lamp": "Brass lamp",
}

CASES = [
    ("اجرک", {"ajrak", "ajrak-ur"}),
    ("ajrak", {"ajrak", "ajrak-ur"}),
    ("کھسہ", {"khussa", "khussa-ur"}),
    ("كهسه", {"khussa", "khussa-ur"}),  # Arabic kaf and heh typed for Urdu ones
    ("khussa", {"khussa", "khussa-ur"}),
    ("khusa", {"khussa", "khussa-ur"}),
    ("khussay", {"khussa", "khussa-ur"}),
    ("Khussa Shoes", {"khussa", "khussa-ur"}),
    ("potery", {"pottery", "pottery-ur"}),
    ("pottery", {"pottery", "pottery-ur"}),
    ("مٹی کے برتن", {"pottery", "pottery-ur"}),
    ("phulkary", {"phulkari"}),
    ("پھلکاری", {"phulkari"}),
    ("rugs", {"rug"}),
    ("vases", {"pottery"}),
    ("multani", {"khussa"}),
    ("ملتانی", {"khussa"}),
    ("brass lamps", {"lamp"}),
    ("zzqx", set()),
]
TYPO_CASES = [  # PostgreSQL only: trigram similarity on the words of titles
    ("phulkri", {"phulkari"}),
    ("dupata", {"phulkari"}),
    ("brass lmap", {"lamp"}),  # no title word is close to "lmap": the closest known term
]


@pytest.fixture(autouse=True)
def _fresh_caches():
    clear_reference_cache()
    clear_synonym_cache()
    yield
    clear_reference_cache()
    clear_synonym_cache()


@pytest.fixture
def listings() -> dict[int, str]:
    # A neutral category: a concept's category would otherwise match every listing.
    other = category("other-handmade")
    ids = {}
    for key, title in LISTINGS.items():
        ids[ProductFactory(title=title, description="", category=other).pk] = key
    refresh_search_vector(list(ids))
    return ids


def found(client, listings, query) -> set[str]:
    response = client.get(URL, {"q": query})
    return {listings[p.pk] for p in response.context["products"]}


@pytest.mark.parametrize(("query", "expected"), CASES)
def test_query_finds_the_same_listings_in_every_script_and_spelling(
    client, listings, query, expected
):
    assert found(client, listings, query) == expected


@pytest.mark.postgres
@pytest.mark.parametrize(("query", "expected"), TYPO_CASES)
def test_postgresql_forgives_typos_in_titles(client, listings, query, expected):
    assert connection.vendor == "postgresql"
    assert found(client, listings, query) == expected


@pytest.mark.postgres
def test_a_typo_is_corrected_against_the_words_of_listed_titles(listings):
    assert close_title_words(["phulkri", "dupata", "zzqx"]) == {
        "phulkri": ["phulkari"],
        "dupata": ["dupatta"],
    }
    ProductFactory(title="Zardozi clutch", description="")  # not yet through the service
    assert close_title_words(["zardozy"]) == {}
    refresh_search_vector(
        list(Product.objects.filter(title="Zardozi clutch").values_list("pk", flat=True))
    )
    assert close_title_words(["zardozy"]) == {"zardozy": ["zardozi"]}


def test_a_concept_finds_the_listings_of_its_category(client, listings):
    carpet = ProductFactory(
        title="Handmade from Kashan", description="", category=category("kilims-dhurries")
    )
    refresh_search_vector([carpet.pk])
    response = client.get(URL, {"q": "دری"})
    assert [p.pk for p in response.context["products"]] == [carpet.pk]


def test_urdu_text_is_normalised():
    assert normalize("كهسّه") == normalize("کھسہ") == normalize("کہسہ")
    assert normalize("Café") == "cafe"


def test_a_synonym_saved_in_the_admin_takes_effect_at_once(client, listings):
    assert found(client, listings, "chiragh") == {"lamp"}
    assert found(client, listings, "batti") == set()
    concept = SearchSynonym.objects.get(name="lamp")
    concept.terms += "\nbatti"
    concept.save()
    assert found(client, listings, "batti") == {"lamp"}


def test_did_you_mean_offers_the_closest_known_term(client, listings):
    assert did_you_mean("phulkri") == "phulkari"
    assert did_you_mean("ajrak") is None
    response = client.get(URL, {"q": "ajrk"})
    assert response.context["did_you_mean"] == "ajrak"
    assert "?q=ajrak" in response.text
    assert client.get(URL, {"q": "ajrak"}).context["did_you_mean"] is None


def test_suggestions_complete_what_is_typed_in_any_script():
    assert suggestions("khu") == ["khusa", "Khussa and footwear"]  # one spelling per concept
    assert "اجرک" in suggestions("اجر")
    assert suggestions("k") == []


def test_the_suggestions_endpoint_returns_links_to_searches(client):
    response = client.get(reverse("product_suggest"), {"q": "phul"}, headers={"HX-Request": "true"})
    assert response.status_code == 200
    assert "?q=phulkari" in response.text or "?q=phulkary" in response.text
    assert "<html" not in response.text


def test_a_sale_price_is_the_price_filters_use(client):
    now = timezone.now()
    on_sale = ProductFactory(
        title="On sale",
        display_price=Decimal("1000"),
        fixed_price__price=Decimal("1000"),
        fixed_price__sale_percent=50,
        fixed_price__sale_starts_at=now - timedelta(days=1),
        fixed_price__sale_ends_at=now + timedelta(days=1),
    )
    ended = ProductFactory(
        title="Sale over",
        display_price=Decimal("1000"),
        fixed_price__price=Decimal("1000"),
        fixed_price__sale_percent=50,
        fixed_price__sale_starts_at=now - timedelta(days=3),
        fixed_price__sale_ends_at=now - timedelta(days=1),
    )
    cheap = [p.pk for p in client.get(URL, {"max_price": "600"}).context["products"]]
    assert cheap == [on_sale.pk]
    dear = {p.pk for p in client.get(URL, {"min_price": "600"}).context["products"]}
    assert dear == {ended.pk}


def test_a_city_outside_the_chosen_province_is_refused_with_a_notice(client):
    response = client.get(URL, {"province": "sindh", "city": "lahore"})
    filters = response.context["filters"]
    assert filters.city is None and filters.province.slug == "sindh"
    assert any("Lahore" in n or "city" in n for n in filters.notices)


def test_the_city_list_narrows_to_the_chosen_province(client):
    page = client.get(URL, {"province": "sindh"}).text
    cities = page[
        page.index('id="browse-city"') : page.index("</select>", page.index('id="browse-city"'))
    ]
    assert city("Karachi").slug in cities
    assert city("Lahore").slug not in cities
    partial = client.get(URL, {"province": "sindh"}, headers={"HX-Request": "true"}).text
    assert 'hx-swap-oob="true"' in partial and city("Lahore").slug not in partial


@pytest.mark.parametrize("query", ["khussa", "rugs", "اجرک", "ajrk"])
def test_search_queries_per_page_do_not_grow_with_data(
    client, django_assert_max_num_queries, query
):
    def make(count: int) -> None:
        for n in range(count):
            product = ProductFactory(title=f"Khussa and ajrak rug {n}", description="")
            product.images.create(image="x.jpg", thumbnail="x-thumb.jpg", width=10, height=10)
            refresh_search_vector([product.pk])

    make(3)
    client.get(URL, {"q": query})  # loads the per-process reference and synonym tables
    with django_assert_max_num_queries(8) as small:
        client.get(URL, {"q": query})
    make(30)
    with django_assert_max_num_queries(8) as large:
        client.get(URL, {"q": query})
    assert len(large.captured_queries) == len(small.captured_queries)


def test_did_you_mean_prefers_the_spelling_listed_first_on_a_tie():
    # "dupata" is as close to the listed variant "duppata" as to "dupatta", listed before it.
    assert did_you_mean("dupata") == "dupatta"
