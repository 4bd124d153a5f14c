"""Shared fixtures: named personas and test-wide settings."""

import pytest

from marketplace.tests.factories import SellerFactory, UserFactory

PASSWORD = "correct-horse-battery"


@pytest.fixture(autouse=True)
def _plain_static_storage(settings):
    # The manifest storage needs collectstatic; tests render templates without it.
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings):
    # PBKDF2 costs ~0.3 s per user created; tests do not need slow hashes.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


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
