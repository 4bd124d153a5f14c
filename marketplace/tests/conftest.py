"""Shared fixtures: named personas and test-wide settings."""

import uuid

import pytest

from marketplace.tests.factories import SellerFactory, UserFactory
from marketplace.tests.payments_fixtures import emulator, receiver  # noqa: F401 (fixtures)

PASSWORD = "correct-horse-battery"


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
def _fast_password_hasher(settings):
    # The real hasher costs ~0.3 s per password; tests hash one for every user they create.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


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
def _media_root(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture(autouse=True)
def _reference_data(request):
    """Give transactional tests the provinces, cities and categories of migration 0002.

    A transactional test ends by flushing every table, reference data included; reseeding
    (idempotently) at the start of each one is simpler and sturdier than serialized_rollback,
    which clashes with the content types Django recreates after a flush.
    """
    marker = request.node.get_closest_marker("django_db")
    transactional = (marker is not None and marker.kwargs.get("transaction")) or (
        "transactional_db" in request.fixturenames
    )
    if not transactional:
        return
    request.getfixturevalue("transactional_db")
    from marketplace.models import Category, City, Province
    from marketplace.seed_data import seed_categories, seed_locations

    seed_locations(Province, City)
    seed_categories(Category)


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
