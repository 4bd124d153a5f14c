"""Sessions read from the cache (marketplace/sessions.py, the engine when Redis is set): a
signed-in page reads no session row, the copy lives SESSION_CACHE_SECONDS at most, a logout
ends it, a cache outage falls back to the database, and a WebSocket bid still re-checks the
database row."""

import socket
import time

import pytest
from django.contrib.sessions.models import Session
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from marketplace import consumers
from marketplace.sessions import SessionStore

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _cached_sessions(settings):
    settings.SESSION_ENGINE = "marketplace.sessions"
    settings.SESSION_CACHE_SECONDS = 300


def signed_in(client) -> bool:
    response = client.get(reverse("order_list"))
    return response.status_code == 200


def session_queries(queries) -> list[str]:
    return [q["sql"] for q in queries.captured_queries if "django_session" in q["sql"]]


def test_a_signed_in_page_reads_its_session_from_the_cache_not_the_database(client, buyer):
    client.force_login(buyer)
    with CaptureQueriesContext(connection) as queries:
        assert signed_in(client)
    assert session_queries(queries) == []
    assert Session.objects.filter(session_key=client.session.session_key).exists()


def test_the_database_row_is_read_when_the_copy_is_gone(client, buyer):
    from django.core.cache import cache

    client.force_login(buyer)
    key = client.session.session_key
    cache.delete(SessionStore(key).cache_key)
    with CaptureQueriesContext(connection) as queries:
        assert signed_in(client)
    assert len(session_queries(queries)) == 1
    with CaptureQueriesContext(connection) as queries:
        assert signed_in(client)  # cached again by that read
    assert session_queries(queries) == []


def test_the_copy_lives_session_cache_seconds_at_most(client, buyer, settings):
    settings.SESSION_CACHE_SECONDS = 1
    client.force_login(buyer)
    # The row goes as a logout's would while the cache could not be told.
    Session.objects.filter(session_key=client.session.session_key).delete()
    assert signed_in(client)  # the cached copy, for now
    time.sleep(1.2)
    assert not signed_in(client)


def test_logging_out_ends_the_session_in_the_cache_as_well(client, buyer):
    client.force_login(buyer)
    old_cookie = client.cookies["sessionid"].value
    assert signed_in(client)
    client.post(reverse("logout"))
    client.cookies["sessionid"] = old_cookie
    assert not signed_in(client)


def test_sessions_carry_on_from_the_database_while_the_cache_is_down(client, buyer, settings):
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        closed_port = sock.getsockname()[1]
    settings.CACHES = {
        "default": {
            "BACKEND": "madeinpk.cache.FailOpenRedisCache",
            "LOCATION": f"redis://127.0.0.1:{closed_port}/0",
            "OPTIONS": {"socket_connect_timeout": 0.5, "socket_timeout": 0.5},
        }
    }
    client.force_login(buyer)
    assert signed_in(client)
    client.post(reverse("logout"))
    assert not signed_in(client)


def test_a_websocket_bid_rechecks_the_database_row_not_the_copy(client, buyer):
    client.force_login(buyer)
    key = client.session.session_key
    scope = {"user": buyer, "session": SessionStore(key)}
    assert consumers.session_is_valid(scope)

    Session.objects.filter(session_key=key).delete()  # the copy is still in the cache
    assert SessionStore(key).load()  # ... as an HTTP request would find it
    assert not consumers.session_is_valid(scope)


def test_a_cache_that_raises_costs_nothing_but_the_cache(client, buyer, settings):
    settings.CACHES = {"default": {"BACKEND": "marketplace.tests.test_login_throttle.BrokenCache"}}
    client.force_login(buyer)
    assert signed_in(client)
    client.post(reverse("logout"))
    assert not signed_in(client)
