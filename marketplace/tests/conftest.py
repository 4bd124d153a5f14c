"""Shared fixtures: named personas and test-wide settings, and the CI policy for markers.

CI policy: a test marked `postgres` runs only on PostgreSQL. In CI (the CI environment
variable set, as `.ci/run` does) it FAILS when the database is anything else, so a
misconfigured CI can never go green by skipping; locally on SQLite it is skipped. Browser tests
follow the same rule for a missing Chromium (marketplace/tests/browser/conftest.py).

Transactional tests (`transaction=True`, `transactional_db`: Channels consumers, threads,
browser tests) end with a flush that empties every table, reference data from migrations
included. Every such test is therefore given `serialized_rollback=True`, which reloads the
migrated data before it runs, so provinces, cities and categories are always there.
"""

import os
import uuid
from io import StringIO
from urllib.parse import urlsplit

import pytest
from django.db import connection

from marketplace.tests.courier_support import courier, courier_callbacks  # noqa: F401 (fixtures)
from marketplace.tests.factories.accounts import SellerFactory, UserFactory
from marketplace.tests.factories.ledger import provider_refunds  # noqa: F401 (fixture)
from marketplace.tests.jazzcash_support import jazzcash  # noqa: F401 (fixture)
from marketplace.tests.live_settings import FAST_PASSWORD_HASHERS
from marketplace.tests.payments_fixtures import emulator, receiver  # noqa: F401 (fixtures)

PASSWORD = "correct-horse-battery"


def pytest_configure(config):
    worker = os.environ.get("PYTEST_XDIST_WORKER")
    if worker and os.environ.get("REDIS_URL"):
        _redis_database_of_this_worker(int(worker.removeprefix("gw")))


def _redis_database_of_this_worker(index: int) -> None:
    """Under pytest-xdist (`make test`), give each worker a Redis database of its own.

    Each worker has its own test database, so the same ids (auction 1, ...) exist in all of
    them: sharing Redis, one worker's live server would serve another's cached pages and
    their auction events would cross. REDIS_URL is rewritten for this process and the
    processes it starts (browser tests' Daphne, the benchmarks' servers), and the settings
    read from it are evaluated again: the cache, and the channel layer, whose channel names
    carry the database number (pub/sub ignores it). django-q2 read its broker settings at
    start-up: tasks the tests enqueue go to the first database, where nothing consumes them.
    """
    import runpy

    from django.conf import settings
    from redis.connection import parse_url

    url = os.environ["REDIS_URL"]
    first = int(parse_url(url).get("db") or 0)
    if index >= 15:
        raise pytest.UsageError("Redis has 16 databases: run at most 15 workers with REDIS_URL")
    database = (first + 1 + index) % 16
    os.environ["REDIS_URL"] = urlsplit(url)._replace(path=f"/{database}").geturl()
    fresh = runpy.run_path(str(settings.BASE_DIR / "madeinpk" / "settings.py"))
    for name in ("REDIS_URL", "CHANNEL_LAYERS", "CACHES", "Q_CLUSTER"):
        setattr(settings, name, fresh[name])
    from channels.layers import channel_layers

    channel_layers.backends = {}  # none made yet, normally: made afresh from the new settings


def pytest_collection_modifyitems(items):
    # Browser tests last: Playwright's sync API leaves an event loop in the main thread for
    # the rest of the session, which breaks async_to_sync in any test that would follow.
    items.sort(key=lambda item: item.get_closest_marker("browser") is not None)
    for item in items:
        marker = item.get_closest_marker("django_db")
        kwargs = dict(marker.kwargs) if marker else {}
        transactional = kwargs.get("transaction") or "transactional_db" in item.fixturenames
        if transactional and not kwargs.get("serialized_rollback"):
            kwargs.update(transaction=True, serialized_rollback=True)
            item.add_marker(pytest.mark.django_db(*marker.args if marker else (), **kwargs), False)


def _reload_serialized_rows(creation, data: str) -> None:
    """Django's `deserialize_db_from_string` (serialized_rollback's reload of the migrated data
    before every transactional test), with the same raw INSERTs in batches: one statement per
    table instead of an UPDATE and an INSERT per row (about 500 rows: contenttypes,
    permissions, cities, categories, schedules), which took about a second per test.

    Rows with many-to-many data or a model that has save signals, and every row of a table
    that is not empty (before the first flush), are saved one by one as Django does."""
    from django.core import serializers
    from django.db import transaction
    from django.db.models import signals

    connection = creation.connection
    table_names = set()
    pending: dict[type, list] = {}
    with transaction.atomic(using=connection.alias):
        with connection.constraint_checks_disabled():
            for obj in serializers.deserialize("json", StringIO(data), using=connection.alias):
                model = type(obj.object)
                table_names.add(model._meta.db_table)
                signalled = signals.pre_save.has_listeners(model) or (
                    signals.post_save.has_listeners(model)
                )
                if obj.m2m_data or signalled or obj.object.pk is None:
                    obj.save()
                else:
                    pending.setdefault(model, []).append(obj.object)
            for model, objects in pending.items():
                fields = model._meta.local_concrete_fields
                size = max(1, connection.ops.bulk_batch_size(fields, objects))
                manager = model._base_manager.using(connection.alias)
                if manager.exists():
                    # Not flushed yet (the session's first transactional test): update in place.
                    for instance in objects:
                        instance.save_base(raw=True, using=connection.alias)
                    continue
                for start in range(0, len(objects), size):
                    batch = objects[start : start + size]
                    manager._insert(batch, fields=fields, raw=True, using=connection.alias)
        # As Django does: constraint checks were off while loading.
        connection.check_constraints(table_names=table_names)


@pytest.fixture(scope="session", autouse=True)
def _fast_serialized_rollback():
    from django.db.backends.base.creation import BaseDatabaseCreation

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(BaseDatabaseCreation, "deserialize_db_from_string", _reload_serialized_rows)
        yield


@pytest.fixture(scope="session")
def django_db_modify_db_settings(request, django_db_modify_db_settings_parallel_suffix):
    """On SQLite, put the test database in a file when browser tests run.

    The Daphne process that serves browser tests must open the same database as the tests;
    an in-memory one is private to this process. Without browser tests it stays in memory.
    """
    from django.conf import settings

    db = settings.DATABASES["default"]
    browser = any(item.get_closest_marker("browser") for item in request.session.items)
    if db["ENGINE"].endswith("sqlite3") and browser and not os.environ.get("SQLITE_TEST_PATH"):
        folder = request.getfixturevalue("tmp_path_factory").mktemp("sqlite")
        db.setdefault("TEST", {})["NAME"] = str(folder / "test_madeinpk.sqlite3")


def fail_in_ci_else_skip(reason: str) -> None:
    """Fail under CI, where every test must really run; skip on a developer's machine."""
    if os.environ.get("CI"):
        pytest.fail(f"{reason} (CI is set: this test must run here)", pytrace=False)
    pytest.skip(reason)


@pytest.fixture(autouse=True)
def _postgres_marker_policy(request):
    if request.node.get_closest_marker("postgres") and connection.vendor != "postgresql":
        fail_in_ci_else_skip(f"needs PostgreSQL, the database is {connection.vendor}")


@pytest.fixture(autouse=True)
def _bids_not_rate_limited(settings):
    """Tests place many bids by one user in a moment (races, growing data): the per-user bid
    limit is lifted; the tests of the limit itself set it (test_security_bid_rate.py)."""
    settings.BID_RATE_LIMIT = 10_000


@pytest.fixture(autouse=True)
def _fast_password_hasher(settings):
    # The browser tests' Daphne uses the same hasher (marketplace/tests/live_settings.py).
    settings.PASSWORD_HASHERS = FAST_PASSWORD_HASHERS


@pytest.fixture(autouse=True)
def _plain_static_storage(settings):
    # The manifest storage needs collectstatic; tests render templates without it.
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }


@pytest.fixture(autouse=True)
def _no_ssl_redirect(settings):
    # DEBUG is off under pytest, which turns on the HTTPS redirect; the test client speaks HTTP.
    settings.SECURE_SSL_REDIRECT = False


@pytest.fixture(autouse=True)
def _no_remembered_minimums():
    # Each test's database is rolled back and its ids reused: what the bid service remembers
    # of an auction's minimum must not outlive the test that saw it.
    from marketplace.services import bid_floor

    bid_floor.forget_all()
    yield
    bid_floor.forget_all()


@pytest.fixture(autouse=True)
def _isolated_cache(settings):
    # A fresh cache per test: login-throttle counters must not leak from one test into the
    # next (with REDIS_URL set the default cache is a shared Redis database).
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.locmem.LocMemCache",
            "LOCATION": f"test-{uuid.uuid4().hex}",
        }
    }


@pytest.fixture(autouse=True)
def _pages_rendered_afresh(settings):
    # Tests read response.context and change rows with factories between two requests: the
    # shared anonymous pages are off, except in test_page_cache.py (and the browser tests).
    settings.PAGE_CACHE_SECONDS = 0


@pytest.fixture(scope="module", autouse=True)
def _fresh_connection_pool_per_module():
    """A new PostgreSQL pool for each test module.

    A test's event loop ends with the test; a connection a worker thread of that loop had
    taken from the pool and not given back (a broadcast cut short as the loop closed) is
    then counted as in use for the rest of the session, and a few WebSocket modules in one
    process could empty the pool of 10 (a bid then waits DB_POOL_TIMEOUT and fails). Daphne's
    loop lives as long as its process, so this is the tests' shape, not production's; the
    cause is not found yet (see BENCHMARKS/closing notes).
    """
    yield
    from django.db import connections

    for wrapper in connections.all(initialized_only=True):
        if getattr(wrapper, "pool", None) is not None:
            wrapper.close()
            wrapper.close_pool()


@pytest.fixture(autouse=True)
def _english_after_each_test():
    """Requests in Urdu leave Urdu active in this thread; later tests expect English."""
    yield
    from django.conf import settings
    from django.utils import translation

    translation.activate(settings.LANGUAGE_CODE)


@pytest.fixture(autouse=True)
def _media_root(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture
def seller(db):
    """Amina runs a blue-pottery shop in Multan."""
    return SellerFactory(
        username="amina", first_name="Amina", seller_profile__shop_name="Amina Pottery"
    )


@pytest.fixture
def buyer(db):
    """Bilal buys from Lahore."""
    return UserFactory(username="bilal", first_name="Bilal")


@pytest.fixture
def rival(db):
    """Rabia competes with Bilal for the same items."""
    return UserFactory(username="rabia", first_name="Rabia")


@pytest.fixture
def outsider(db):
    """Omar has nothing to do with the order or listing under test."""
    return UserFactory(username="omar", first_name="Omar")


@pytest.fixture
def seller_client(client, seller):
    client.force_login(seller)
    return client


@pytest.fixture
def buyer_client(client, buyer):
    client.force_login(buyer)
    return client
