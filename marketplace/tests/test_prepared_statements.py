"""PostgreSQL prepared statements (DB_PREPARED_STATEMENTS, on by default): a search is planned for its words.

After five runs on a connection psycopg prepares a statement, and PostgreSQL may then use one
generic plan for every search of that shape, blind to how common its words are.
`planned_for_their_values` keeps the statements inside it unprepared; the browse page runs a
search inside it.
"""

import pytest
from django.db import connection, connections
from django.http import QueryDict

from marketplace.queries import catalog
from marketplace.queries.catalog import BrowseFilters, browse_page
from marketplace.queries.prepared import first_object, planned_for_their_values

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
@pytest.mark.parametrize(("query", "planned_apart"), [("vase", True), ("", False)])
def test_a_search_is_planned_for_its_words_and_a_browse_is_not(monkeypatch, query, planned_apart):
    entered = []
    real = catalog.planned_for_their_values

    def spy(*args, **kwargs):
        entered.append(True)
        return real(*args, **kwargs)

    monkeypatch.setattr(catalog, "planned_for_their_values", spy)
    browse_page(BrowseFilters.from_query(QueryDict(f"q={query}" if query else "")), 1)
    assert bool(entered) is planned_apart


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
