"""PostgreSQL prepared statements (DB_PREPARED_STATEMENTS, on by default): a search is planned for its words.

After five runs on a connection psycopg prepares a statement, and PostgreSQL may then use one
generic plan for every search of that shape, blind to how common its words are.
`planned_for_their_values` keeps the statements inside it unprepared; the browse page finds its
products inside it (a search's words, a province, a price bound decide the plan), and reads
their cards outside it (the same two statements for every page).
"""

import pytest
from django.db import connection, connections
from django.http import QueryDict

from marketplace.queries import browse, catalog
from marketplace.queries.browse import browse_page
from marketplace.queries.catalog import BrowseFilters
from marketplace.queries.prepared import first_object, planned_for_their_values
from marketplace.tests.factories.catalog import ProductFactory

SQL = "SELECT count(*) FROM marketplace_product WHERE id > %s"


@pytest.fixture
def preparing_connection():
    """A second connection to the test database that prepares a statement on its second run."""
    settings = dict(connections["default"].settings_dict)
    options = {key: value for key, value in settings.get("OPTIONS", {}).items() if key != "pool"}
    settings["OPTIONS"] = {**options, "server_side_binding": True, "prepare_threshold": 1}
    wrapper = connections["default"].__class__(settings, alias="preparing")
    connections["preparing"] = wrapper
    yield wrapper
    wrapper.close()
    del connections["preparing"]


def prepared_here(wrapper) -> list[str]:
    with wrapper.cursor() as cursor:
        cursor.execute("SELECT statement FROM pg_prepared_statements")
        return [row[0] for row in cursor.fetchall() if "marketplace_product" in row[0]]


def run_three_times(wrapper) -> None:
    with wrapper.cursor() as cursor:
        for value in (1, 2, 3):
            cursor.execute(SQL, [value])
            cursor.fetchall()


@pytest.mark.postgres
@pytest.mark.django_db
def test_statements_inside_are_not_prepared_and_outside_they_are(preparing_connection):
    with planned_for_their_values("preparing"):
        run_three_times(preparing_connection)
    assert prepared_here(preparing_connection) == []
    assert preparing_connection.connection.prepare_threshold == 1

    run_three_times(preparing_connection)
    assert len(prepared_here(preparing_connection)) == 1


@pytest.mark.postgres
@pytest.mark.django_db
def test_the_threshold_comes_back_when_the_block_fails(preparing_connection):
    with pytest.raises(ZeroDivisionError), planned_for_their_values("preparing"):
        assert preparing_connection.connection.prepare_threshold is None
        _ = 1 / 0
    assert preparing_connection.connection.prepare_threshold == 1


@pytest.mark.django_db
def test_it_is_a_no_op_where_nothing_is_prepared():
    with planned_for_their_values():
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            assert cursor.fetchone()[0] == 1


@pytest.mark.django_db
@pytest.mark.parametrize("query", ["vase", ""])
def test_a_browse_finds_its_products_planned_for_their_values(monkeypatch, query):
    entered = []
    real = browse.planned_for_their_values

    def spy(*args, **kwargs):
        entered.append(True)
        return real(*args, **kwargs)

    monkeypatch.setattr(browse, "planned_for_their_values", spy)
    browse_page(BrowseFilters.from_query(QueryDict(f"q={query}" if query else "")), 1)
    assert entered


@pytest.mark.postgres
@pytest.mark.django_db
@pytest.mark.parametrize("query", ["vase", ""])
def test_only_the_cards_statements_are_prepared(monkeypatch, query):
    """The statements that find a page's products depend on its filters; the cards' and their
    photos' are the same for every page, so PostgreSQL may keep their plans."""
    from marketplace.services.listings import refresh_search_vector

    refresh_search_vector([ProductFactory(title=title).pk for title in ("Blue vase", "Clay vase")])
    options = {**connection.settings_dict.get("OPTIONS", {}), "prepare_threshold": 1}
    monkeypatch.setitem(connection.settings_dict, "OPTIONS", options)
    connection.ensure_connection()
    raw = connection.connection
    monkeypatch.setattr(raw, "prepare_threshold", 0)  # prepare a statement on its first run
    with connection.cursor() as cursor:
        cursor.execute("DEALLOCATE ALL")
    page, _ = browse_page(BrowseFilters.from_query(QueryDict(f"q={query}" if query else "")), 1)
    assert {p.title for p in page.object_list} == {"Blue vase", "Clay vase"}
    with connection.cursor() as cursor:
        cursor.execute("SELECT statement FROM pg_prepared_statements")
        prepared = [row[0] for row in cursor.fetchall()]
    reading_products = [sql for sql in prepared if 'FROM "marketplace_product" ' in sql]
    assert len(reading_products) == 1  # not the count, the ids (or their ranking)
    assert '"seller_rating_avg"' in reading_products[0]
    assert any('FROM "marketplace_productimage"' in sql for sql in prepared)


# --- first_object: the signed-in user's one statement, planned once ---------------------------


def signed_in_user(pk: int):
    from marketplace.models import User

    return first_object(
        "test-user",
        User,
        lambda user: User.objects.select_related("seller_profile").filter(pk=user),
        pk,
    )


def field_values(obj) -> dict:
    return {field.attname: getattr(obj, field.attname) for field in obj._meta.concrete_fields}


@pytest.mark.django_db
def test_first_object_builds_what_the_orm_builds(seller, buyer, django_assert_num_queries):
    from marketplace.models import User

    for user in (seller, buyer, seller):  # the second seller from the kept plan
        expected = User.objects.select_related("seller_profile").get(pk=user.pk)
        with django_assert_num_queries(1):
            found = signed_in_user(user.pk)
            has_shop = hasattr(found, "seller_profile")  # no second query, shop or not
        assert field_values(found) == field_values(expected)
        assert found._state.adding is False and found._state.db == expected._state.db
        assert has_shop is hasattr(expected, "seller_profile")
        if has_shop:
            assert field_values(found.seller_profile) == field_values(expected.seller_profile)
            assert found.seller_profile.user is found
    assert seller.public_name == signed_in_user(seller.pk).public_name == "Amina Pottery"


@pytest.mark.django_db
def test_first_object_finds_nothing_for_an_unknown_id(seller):
    assert signed_in_user(seller.pk + 1000) is None


@pytest.mark.django_db
def test_the_login_backend_gives_active_users_only(buyer):
    from marketplace.auth import UsernameOrEmailBackend

    backend = UsernameOrEmailBackend()
    assert backend.get_user(buyer.pk) == buyer
    assert backend.get_user(str(buyer.pk)) == buyer
    assert backend.get_user("not a number") is None
    buyer.is_active = False
    buyer.save(update_fields=["is_active"])
    assert backend.get_user(buyer.pk) is None


# --- cards_in_order: a page's cards from two statements built once ----------------------------


def loaded_values(obj) -> tuple[dict, set[str]]:
    """The fields loaded, and which are left in the database (deferred)."""
    deferred = obj.get_deferred_fields()
    fields = obj._meta.concrete_fields
    return {
        f.attname: getattr(obj, f.attname) for f in fields if f.attname not in deferred
    }, deferred


def card_as_the_orm_builds_it(product):
    shop = product.seller.seller_profile  # a card shows only its name, address and badge
    return {
        "product": loaded_values(product),
        "rating": (product.seller_rating_avg, product.seller_rating_count),
        "listing": field_values(product.fixed_price) if product.fixed_price_id else None,
        "auction": field_values(product.auction) if product.auction_id else None,
        "city": field_values(product.city),
        "seller": product.seller.pk,
        "shop": {name: getattr(shop, name) for name in ("pk", "shop_name", "slug", "is_verified")},
        "photos": [field_values(image) for image in product.images.all()],
        "main photo": product.main_image.pk if product.main_image else None,
    }


@pytest.mark.django_db
def test_cards_in_order_are_what_the_orm_builds(seller, django_assert_num_queries):
    from marketplace.models import Product, ProductImage
    from marketplace.tests.factories.catalog import AuctionProductFactory

    fixed, bare, auction = (
        ProductFactory(seller=seller, title="Vase"),
        ProductFactory(title="Bowl"),
        AuctionProductFactory(title="Lamp"),
    )
    for position, name in ((2, "second"), (1, "first")):
        ProductImage.objects.create(
            product=fixed,
            image=f"p/{name}.jpg",
            thumbnail=f"p/{name}_t.jpg",
            position=position,
            width=640,
            height=480,
        )
    ProductImage.objects.create(
        product=auction, image="p/a.jpg", thumbnail="p/a_t.jpg", width=640, height=480
    )
    ids = [auction.pk, fixed.pk, bare.pk + 1000, bare.pk, fixed.pk]  # one gone, one twice
    for _ in range(2):  # the second time from the kept plans
        with django_assert_num_queries(2):
            cards = browse.cards_in_order(ids)
            found = [card_as_the_orm_builds_it(card) for card in cards]
        expected = {p.pk: p for p in catalog.card_queryset(Product.objects.filter(pk__in=ids))}
        assert [card.pk for card in cards] == [auction.pk, fixed.pk, bare.pk, fixed.pk]
        assert found == [card_as_the_orm_builds_it(expected[card.pk]) for card in cards]
    assert [image.thumbnail.name for image in cards[1].images.all()] == [
        "p/first_t.jpg",
        "p/second_t.jpg",
    ]
    assert cards[1].images.all()[0].product is cards[1]


@pytest.mark.django_db
def test_more_cards_than_a_kept_statement_takes_come_from_the_orm(monkeypatch):
    from marketplace.queries import prepared

    products = [ProductFactory(title=f"Pot {i}") for i in range(3)]
    monkeypatch.setattr(prepared, "ID_LIST_SIZES", (2,))
    ids = [p.pk for p in products]
    assert [card.pk for card in browse.cards_in_order(ids)] == ids
    assert [card.pk for card in browse.cards_in_order(ids[:2])] == ids[:2]
    assert browse.cards_in_order([]) == []
