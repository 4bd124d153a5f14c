"""Production shape: pooled PostgreSQL connections, a cache that fails open, Redis calls that
give up fast, error pages (issue 11)."""

import importlib.util
import logging
import runpy
import socket
import time
from pathlib import Path

import pytest
import redis
from django.db import connection

from madeinpk.cache import FailOpenDatabaseCache, FailOpenRedisCache

SETTINGS = Path(__file__).resolve().parents[2] / "madeinpk" / "settings.py"


def _settings_with(monkeypatch, **env: str) -> dict:
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    return runpy.run_path(str(SETTINGS))


def _closed_port() -> int:
    """A loopback port nothing listens on (connections are refused at once)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_postgresql_uses_a_bounded_pool_sized_by_setting(monkeypatch):
    settings = _settings_with(
        monkeypatch, DATABASE_URL="postgres://u@127.0.0.1:5432/db", DB_POOL_MAX_SIZE="7"
    )
    db = settings["DATABASES"]["default"]
    assert db["CONN_MAX_AGE"] == 0  # Django refuses persistent connections with a pool
    assert db["OPTIONS"]["pool"]["max_size"] == 7
    assert db["OPTIONS"]["pool"]["min_size"] <= 7
    assert db["CONN_HEALTH_CHECKS"]  # broken connections are replaced when taken


def test_pool_size_zero_turns_the_pool_off_for_forking_workers(monkeypatch):
    settings = _settings_with(
        monkeypatch, DATABASE_URL="postgres://u@127.0.0.1:5432/db", DB_POOL_MAX_SIZE="0"
    )
    db = settings["DATABASES"]["default"]
    assert "pool" not in db.get("OPTIONS", {})
    assert db["CONN_MAX_AGE"] == 0


def test_sqlite_has_no_pool(monkeypatch):
    monkeypatch.delenv("DATABASE_URL", raising=False)
    settings = _settings_with(monkeypatch)
    assert "pool" not in settings["DATABASES"]["default"]["OPTIONS"]


def test_redis_clients_give_up_fast_without_backoff(monkeypatch):
    settings = _settings_with(monkeypatch, REDIS_URL="redis://127.0.0.1:6379/0")
    layer_host = settings["CHANNEL_LAYERS"]["default"]["CONFIG"]["hosts"][0]
    broker = settings["Q_CLUSTER"]["redis"]
    cache = settings["CACHES"]["default"]["OPTIONS"]
    for options in (layer_host, broker, cache):
        assert options["socket_connect_timeout"] <= 1
        assert options["socket_timeout"] <= 2
        # At most one immediate retry, and only on a connection error, never a timeout.
        assert options["retry"].get_retries() == 1
        assert options["retry"]._backoff.compute(1) == 0
        assert not any(
            issubclass(redis.TimeoutError, e) for e in options["retry"]._supported_errors
        )
    assert broker["host"] == "127.0.0.1" and broker["port"] == 6379


def test_redis_cache_fails_open_while_redis_is_down(caplog):
    from madeinpk.settings import redis_options

    cache = FailOpenRedisCache(
        f"redis://127.0.0.1:{_closed_port()}/0", {"OPTIONS": redis_options()}
    )
    started = time.monotonic()
    with caplog.at_level(logging.WARNING, logger="madeinpk.cache"):
        assert cache.get("key", "fallback") == "fallback"
        assert cache.get_many(["a", "b"]) == {}
        cache.set("key", 1)
        assert cache.add("key", 1) is False
        cache.delete("key")
    assert time.monotonic() - started < 2
    assert len(caplog.records) == 5
    assert "cache get failed" in caplog.records[0].getMessage()


def test_the_flood_counter_counts_once_per_event_in_one_window_on_redis(monkeypatch):
    from django.conf import settings

    from madeinpk.settings import redis_options
    from marketplace import flood
    from marketplace.tests.conftest import fail_in_ci_else_skip

    if not settings.REDIS_URL:
        fail_in_ci_else_skip("needs Redis (REDIS_URL)")
    cache = FailOpenRedisCache(settings.REDIS_URL, {"OPTIONS": redis_options()})
    monkeypatch.setattr(flood, "cache", cache)
    while True:  # again if the five events straddled two windows
        key, window = f"test-{time.monotonic_ns()}", int(time.time() // 60)
        verdicts = [flood.over_limit(key, limit=3, window=60) for _ in range(5)]
        if int(time.time() // 60) == window:
            break
    assert verdicts == [False, False, False, True, True]
    name = f"flood:{key}:{window}"
    assert cache.get(name) == 5
    assert 0 < cache._cache.get_client(name).ttl(cache.make_and_validate_key(name)) <= 120


def test_the_redis_cache_builds_one_client_and_shares_it_between_threads():
    from concurrent.futures import ThreadPoolExecutor

    from django.conf import settings

    from madeinpk.settings import redis_options
    from marketplace.tests.conftest import fail_in_ci_else_skip

    if not settings.REDIS_URL:
        fail_in_ci_else_skip("needs Redis (REDIS_URL)")
    cache = FailOpenRedisCache(settings.REDIS_URL, {"OPTIONS": redis_options()})
    keys = [f"test-shared-{time.monotonic_ns()}-{n}" for n in range(20)]
    cache.set_many({key: key.upper() for key in keys}, 30)
    client = cache._cache.get_client(keys[0])

    with ThreadPoolExecutor(8) as pool:
        answers = list(pool.map(lambda n: cache.get(keys[n % 20]), range(400)))

    assert answers == [keys[n % 20].upper() for n in range(400)]
    assert cache._cache.get_client(keys[1], write=True) is client
    cache.delete_many(keys)


def test_each_request_s_cache_backend_reuses_the_process_s_redis_connections():
    """Django builds a cache backend per request under Daphne (an asgiref Local per async
    context); each used to open its own connection to Redis."""
    import redis
    from django.conf import settings

    from madeinpk.settings import redis_options
    from marketplace.tests.conftest import fail_in_ci_else_skip

    if not settings.REDIS_URL:
        fail_in_ci_else_skip("needs Redis (REDIS_URL)")

    def connections_made() -> int:
        return redis.Redis.from_url(settings.REDIS_URL).info("stats")["total_connections_received"]

    options = {"OPTIONS": redis_options()}
    FailOpenRedisCache(settings.REDIS_URL, options).get("warm")  # the process's first
    before = connections_made()
    for n in range(30):  # thirty requests, each with a backend of its own
        FailOpenRedisCache(settings.REDIS_URL, options).get(f"request-{n}")
    assert connections_made() - before <= 2  # the counting client's own, and slack


@pytest.mark.django_db(transaction=True)
def test_database_cache_fails_open_without_its_table(caplog):
    cache = FailOpenDatabaseCache("no_such_cache_table", {})
    with caplog.at_level(logging.WARNING, logger="madeinpk.cache"):
        assert cache.get("key") is None
        cache.set("key", 1)
    assert len(caplog.records) == 2


@pytest.mark.django_db(transaction=True)
def test_migrate_alone_creates_the_cache_table(settings):
    settings.CACHES = {
        "default": {"BACKEND": "madeinpk.cache.FailOpenDatabaseCache", "LOCATION": "madeinpk_cache"}
    }
    spec = importlib.util.spec_from_file_location(
        "cache_migration",
        Path(__file__).resolve().parents[1] / "migrations" / "0017_cache_table.py",
    )
    migration = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(migration)
    with connection.schema_editor() as editor:
        editor.execute(f"DROP TABLE IF EXISTS {editor.quote_name('madeinpk_cache')}")
    assert "madeinpk_cache" not in connection.introspection.table_names()

    with connection.schema_editor() as editor:
        migration.create_cache_table(None, editor)

    assert "madeinpk_cache" in connection.introspection.table_names()


# --- Error pages ------------------------------------------------------------------------------


@pytest.mark.django_db
def test_unknown_page_is_a_styled_404_with_a_way_home(client, settings):
    settings.DEBUG = False
    response = client.get("/no-such-page/")
    html = response.content.decode()
    assert response.status_code == 404
    assert "We could not find that page" in html
    assert 'href="/"' in html and "Back to the home page" in html
    assert 'dir="ltr"' in html


@pytest.mark.django_db
def test_error_page_speaks_urdu_right_to_left(client, settings):
    settings.DEBUG = False
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "ur"
    html = client.get("/no-such-page/").content.decode()
    assert 'lang="ur" dir="rtl"' in html
    assert "We could not find that page" not in html
    assert "bootstrap.rtl.min.css" in html


@pytest.mark.django_db
def test_server_error_page_when_the_database_fails(client, settings, monkeypatch):
    from django.db import OperationalError

    from marketplace.views import pages

    def database_gone(*args, **kwargs):
        raise OperationalError("connection refused")

    settings.DEBUG = False
    monkeypatch.setattr(pages, "card_queryset", database_gone)
    client.raise_request_exception = False
    response = client.get("/")
    assert response.status_code == 500
    assert "Something went wrong on our side" in response.content.decode()


def test_server_error_page_needs_no_database(rf):
    from marketplace.views.errors import server_error

    # No django_db mark: any query here would raise.
    response = server_error(rf.get("/"))
    assert response.status_code == 500
    assert b"Try again" in response.content


@pytest.mark.django_db
def test_csrf_failure_is_a_styled_page(settings, buyer):
    from django.test import Client

    settings.DEBUG = False
    client = Client(enforce_csrf_checks=True)
    client.force_login(buyer)  # a visitor's language switch needs no token; a user's does
    response = client.post("/i18n/setlang/", {"language": "ur"})
    assert response.status_code == 403
    assert "This form has expired" in response.content.decode()


@pytest.mark.parametrize("status", [400, 403])
def test_other_error_pages_render(rf, status):
    from marketplace.views import errors

    view = {400: errors.bad_request, 403: errors.permission_denied}[status]
    response = view(rf.get("/"), None)
    assert response.status_code == status
    assert f"Error {status}".encode() in response.content
