"""Login throttling (django-axes) and password-reset throttling, as a hostile user meets them."""

import re
from pathlib import Path

import pytest
from django.contrib.auth import get_user
from django.core import mail
from django.core.cache.backends.base import BaseCache
from django.test import RequestFactory
from django.urls import reverse
from django.utils import translation

from marketplace.auth import client_ip
from marketplace.tests.conftest import PASSWORD
from marketplace.tests.factories import UserFactory
from marketplace.tests.login_throttle_helpers import time_passes

COOL_OFF = "Too many failed log-in attempts"


def login(client, username, password=PASSWORD, ip="10.0.0.1", url="login", **headers):
    return client.post(
        reverse(url), {"username": username, "password": password}, REMOTE_ADDR=ip, **headers
    )


def fail(client, username, times, **kwargs):
    for _ in range(times):
        login(client, username, "wrong-password", **kwargs)


@pytest.fixture(autouse=True)
def _limits(settings):
    settings.LOGIN_FAILURE_LIMIT = 3
    settings.LOGIN_IP_FAILURE_LIMIT = 6
    settings.LOGIN_COOLOFF_SECONDS = 60
    settings.LOGIN_COOLOFF_MAX_SECONDS = 600
    settings.TRUSTED_PROXY_COUNT = 0


class BrokenCache(BaseCache):
    """A cache whose server is down: every call raises, as redis-py does then."""

    def __init__(self, location, params):
        super().__init__(params)

    def _fail(self, *args, **kwargs):
        raise ConnectionError("cache server unreachable")

    add = get = set = touch = delete = clear = get_many = incr = has_key = _fail


@pytest.fixture
def broken_cache(settings):
    settings.CACHES = {"default": {"BACKEND": f"{__name__}.BrokenCache"}}


# --- per (account, address) ------------------------------------------------------------------


@pytest.mark.django_db
def test_failures_from_another_address_do_not_lock_the_owner_out(client, buyer):
    fail(client, "bilal", 5, ip="203.0.113.66")

    response = login(client, "bilal", ip="10.0.0.1")

    assert response.status_code == 302
    assert get_user(client) == buyer


@pytest.mark.django_db
def test_the_admin_log_in_counts_per_pair_too(client):
    UserFactory(username="boss", is_staff=True, is_superuser=True)
    fail(client, "boss", 3, ip="203.0.113.66", url="admin:login")

    assert COOL_OFF in login(client, "boss", ip="203.0.113.66", url="admin:login").text
    response = login(client, "boss", ip="10.0.0.1", url="admin:login")
    assert response.status_code == 302
    assert get_user(client).username == "boss"


@pytest.mark.django_db
def test_one_address_trying_many_names_cools_off_at_its_own_limit(client, buyer):
    for name in ("alpha", "beta", "gamma", "delta", "epsilon"):
        fail(client, name, 1, ip="203.0.113.66")
    assert login(client, "bilal", "wrong-password", ip="203.0.113.66").status_code == 429

    assert login(client, "bilal", ip="203.0.113.66").status_code == 429
    assert login(client, "bilal", ip="10.0.0.1").status_code == 302


@pytest.mark.django_db
def test_logging_in_to_an_own_account_does_not_reset_the_address_count(client, buyer, rival):
    for name in ("alpha", "beta", "gamma", "delta"):
        fail(client, name, 1, ip="203.0.113.66")
    assert login(client, "rabia", ip="203.0.113.66").status_code == 302
    client.logout()

    fail(client, "epsilon", 1, ip="203.0.113.66")

    assert login(client, "zeta", "wrong-password", ip="203.0.113.66").status_code == 429


# --- the cool-off ------------------------------------------------------------------------


@pytest.mark.django_db
def test_the_cool_off_doubles_with_each_lockout_of_the_pair(client, buyer):
    fail(client, "bilal", 3)
    assert "try again in 1 minute " in login(client, "bilal").text

    time_passes(seconds=61)
    fail(client, "bilal", 3)
    second = login(client, "bilal")
    time_passes(seconds=61)
    still = login(client, "bilal")
    time_passes(seconds=60)
    after = login(client, "bilal")

    assert "try again in 2 minutes" in second.text
    assert still.status_code == 429
    assert after.status_code == 302


@pytest.mark.django_db
def test_the_cool_off_message_is_in_urdu_for_an_urdu_reader(client, buyer):
    fail(client, "bilal", 3)
    with translation.override("ur"):
        expected = translation.gettext(
            "Too many failed log-in attempts. For your safety, logging in is paused: "
            "try again in %(minutes)d minute (after %(time)s)."
        )
    assert expected != "" and "Too many" not in expected

    response = login(client, "bilal", HTTP_ACCEPT_LANGUAGE="ur")

    assert response.status_code == 429
    assert expected.split("%")[0].strip() in response.text


@pytest.mark.django_db
def test_the_log_in_works_while_the_cache_is_down(client, buyer, broken_cache):
    assert login(client, "bilal", "wrong-password").status_code == 200
    fail(client, "bilal", 2)
    assert login(client, "bilal").status_code == 429

    assert login(client, "bilal", ip="10.0.0.2").status_code == 302


# --- the client's address ----------------------------------------------------------------


def request_from(remote_addr, forwarded=None):
    headers = {"HTTP_X_FORWARDED_FOR": forwarded} if forwarded is not None else {}
    return RequestFactory().post("/", REMOTE_ADDR=remote_addr, **headers)


@pytest.mark.parametrize(
    ("proxies", "remote_addr", "forwarded", "expected"),
    [
        (0, "198.51.100.7", "1.2.3.4", "198.51.100.7"),
        (1, "10.0.0.5", "1.2.3.4, 198.51.100.7", "198.51.100.7"),
        (1, "10.0.0.5", "198.51.100.7", "198.51.100.7"),
        (2, "10.0.0.5", "1.2.3.4, 198.51.100.7, 10.0.0.9", "198.51.100.7"),
        (2, "10.0.0.5", "198.51.100.7", "10.0.0.5"),
        (1, "10.0.0.5", None, "10.0.0.5"),
    ],
)
def test_the_client_address_is_the_one_the_outermost_trusted_proxy_appended(
    settings, proxies, remote_addr, forwarded, expected
):
    settings.TRUSTED_PROXY_COUNT = proxies

    assert client_ip(request_from(remote_addr, forwarded)) == expected


@pytest.mark.django_db
def test_forged_forwarded_addresses_do_not_escape_the_address_limit(client, buyer, settings):
    settings.TRUSTED_PROXY_COUNT = 1
    for n, name in enumerate(("alpha", "beta", "gamma", "delta", "epsilon", "zeta")):
        fail(client, name, 1, ip="10.0.0.5", HTTP_X_FORWARDED_FOR=f"1.1.1.{n}, 203.0.113.66")

    response = login(client, "bilal", ip="10.0.0.5", HTTP_X_FORWARDED_FOR="9.9.9.9, 203.0.113.66")
    other_visitor = login(client, "bilal", ip="10.0.0.5", HTTP_X_FORWARDED_FOR="198.51.100.7")

    assert response.status_code == 429
    assert other_visitor.status_code == 302


def test_daphne_does_not_rewrite_the_client_address_from_client_headers():
    # daphne --proxy-headers would put the leftmost X-Forwarded-For entry, which the client
    # chooses, into REMOTE_ADDR; client_ip alone decides, from TRUSTED_PROXY_COUNT.
    procfile = (Path(__file__).resolve().parents[2] / "Procfile").read_text()
    web = next(line for line in procfile.splitlines() if line.startswith("web:"))

    assert "daphne" in web
    assert "--proxy-headers" not in web


# --- password-reset e-mails --------------------------------------------------------------


def reset(client, email, ip="10.0.0.1"):
    return client.post(reverse("password_reset"), {"email": email}, REMOTE_ADDR=ip)


@pytest.mark.django_db
def test_reset_e_mails_to_one_address_are_limited(client, buyer, settings):
    settings.PASSWORD_RESET_EMAIL_LIMIT = 3
    for ip in ("10.0.0.1", "10.0.0.2", "10.0.0.3"):
        assert reset(client, "bilal@example.pk", ip=ip).status_code == 302

    response = reset(client, "BILAL@example.pk", ip="10.0.0.4")

    assert response.status_code == 429
    assert "Too many password-reset requests" in response.text
    assert len(mail.outbox) == 3


@pytest.mark.django_db
def test_reset_requests_from_one_client_are_limited(client, settings):
    settings.PASSWORD_RESET_ADDRESS_LIMIT = 4
    for n in range(4):
        reset(client, f"someone{n}@example.pk")

    assert reset(client, "someone9@example.pk").status_code == 429
    assert reset(client, "someone9@example.pk", ip="10.0.0.2").status_code == 302


@pytest.mark.django_db
def test_the_reset_limit_looks_the_same_for_addresses_without_an_account(client, buyer, settings):
    settings.PASSWORD_RESET_EMAIL_LIMIT = 1
    known = [reset(client, "bilal@example.pk", ip=ip) for ip in ("10.0.0.1", "10.0.0.2")]
    unknown = [reset(client, "nobody@example.pk", ip=ip) for ip in ("10.0.0.3", "10.0.0.4")]

    assert [r.status_code for r in known] == [r.status_code for r in unknown] == [302, 429]
    assert same_page(known[1].text.replace("bilal", "nobody"), unknown[1].text)


def same_page(first: str, second: str) -> bool:
    def without_csrf(text):
        return re.sub(r"(csrfmiddlewaretoken\" value=\"|X-CSRFToken\": \")[^\"]+", "", text)

    return without_csrf(first) == without_csrf(second)


@pytest.mark.django_db
def test_a_reset_is_sent_while_the_cache_is_down(client, buyer, broken_cache, caplog):
    assert reset(client, "bilal@example.pk").status_code == 302

    assert len(mail.outbox) == 1
    assert "password-reset throttle skipped" in caplog.text
