"""API accounts: register and log in for a token, log out and revoke, addresses, notices."""

import re

import pytest

from marketplace.models import Address, ApiToken, User
from marketplace.tests.api_support import token_client, world  # noqa: F401 (fixtures)
from marketplace.tests.factories.catalog import city

PASSWORD = "tez-barish-2026"


def register(client=None, **fields):
    body = {
        "username": "hina",
        "email": "hina@example.pk",
        "password": PASSWORD,
        "first_name": "Hina",
        **fields,
    }
    return (client or token_client()).post("/api/register/", body, format="json")


@pytest.mark.django_db
@pytest.mark.parametrize("path", ["/api/register/", "/api/auth/register/"])
def test_registering_returns_a_working_token(path):
    client = token_client()
    response = client.post(
        path,
        {"username": "hina", "email": "hina@example.pk", "password": PASSWORD, "first_name": "H"},
        format="json",
    )
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["user"]["username"] == "hina"
    client.credentials(HTTP_AUTHORIZATION=f"Token {body['token']}")
    assert client.get("/api/me/").json()["email"] == "hina@example.pk"
    # Only a digest is stored: the key itself is nowhere in the database.
    assert not ApiToken.objects.filter(key_digest=body["token"]).exists()


@pytest.mark.django_db
def test_registering_as_a_seller_opens_the_shop_through_the_same_service():
    response = register(role="seller", shop_name="Hina Ajrak")
    assert response.status_code == 201
    assert response.json()["user"]["shop"]["name"] == "Hina Ajrak"
    assert User.objects.get(username="hina").seller_profile.shop_name == "Hina Ajrak"


@pytest.mark.django_db
def test_registration_errors_are_the_forms_own_messages(buyer):
    response = register(email=buyer.email, password="123")
    assert response.status_code == 400
    body = response.json()
    assert body["code"] == "invalid"
    assert "already exists" in body["errors"]["email"][0]
    assert body["errors"]["password2"]  # Django's password validators, as on the page
    assert not User.objects.filter(username="hina").exists()


@pytest.mark.django_db
def test_a_seller_without_a_shop_name_is_refused():
    response = register(role="seller")
    assert response.status_code == 400
    assert response.json()["errors"]["shop_name"]


@pytest.mark.django_db
@pytest.mark.parametrize("path", ["/api/login/", "/api/auth/login/"])
def test_login_by_username_or_email_gives_one_token_per_device(buyer, path):
    client = token_client()
    first = client.post(path, {"username": "bilal", "password": "correct-horse-battery"})
    second = client.post(
        path,
        {"username": buyer.email, "password": "correct-horse-battery", "name": "Pixel 8"},
        format="json",
    )
    assert (first.status_code, second.status_code) == (200, 200)
    assert first.json()["token"] != second.json()["token"]
    assert sorted(ApiToken.objects.filter(user=buyer).values_list("name", flat=True)) == [
        "",
        "Pixel 8",
    ]


@pytest.mark.django_db
def test_a_wrong_password_is_a_json_400(buyer):
    response = token_client().post(
        "/api/login/", {"username": "bilal", "password": "nope"}, format="json"
    )
    assert response.status_code == 400
    assert response.json()["code"] == "invalid"
    assert "do not match" in response.json()["message"]


@pytest.mark.django_db
def test_login_has_the_sites_cool_off(buyer, settings):
    settings.LOGIN_FAILURE_LIMIT = 2
    settings.LOGIN_IP_FAILURE_LIMIT = 2
    client = token_client()
    for _attempt in range(2):
        client.post("/api/login/", {"username": "bilal", "password": "nope"}, format="json")
    response = client.post(
        "/api/login/", {"username": "bilal", "password": "correct-horse-battery"}, format="json"
    )
    assert response.status_code == 429
    assert response.json()["code"] == "throttled"
    # The page's login form is cooling off for the same account.
    page = token_client().post(
        "/accounts/login/", {"username": "bilal", "password": "correct-horse-battery"}
    )
    assert page.status_code == 429


@pytest.mark.django_db
def test_logout_revokes_only_the_token_it_was_sent_with(buyer):
    phone, laptop = token_client(buyer), token_client(buyer)
    assert phone.post("/api/logout/").status_code == 204
    assert phone.get("/api/me/").status_code == 401
    assert laptop.get("/api/me/").status_code == 200


@pytest.mark.django_db
def test_a_user_lists_and_revokes_their_tokens(buyer, rival):
    client = token_client(buyer)
    other = token_client(buyer)
    rivals = ApiToken.issue(user=rival)[0]
    tokens = client.get("/api/tokens/").json()["results"]
    assert len(tokens) == 2
    assert all("key" not in t and "token" not in t for t in tokens)
    target = max(t["id"] for t in tokens)
    assert client.delete(f"/api/tokens/{target}/").status_code == 204
    assert client.delete(f"/api/tokens/{rivals.pk}/").status_code == 404
    assert [client.get("/api/me/").status_code, other.get("/api/me/").status_code].count(401) == 1
    assert ApiToken.objects.filter(pk=rivals.pk).exists()


@pytest.mark.django_db
def test_staff_revoke_a_token_in_the_admin(buyer, admin_client):
    client = token_client(buyer)
    token = ApiToken.objects.get(user=buyer)
    response = admin_client.post(f"/admin/marketplace/apitoken/{token.pk}/delete/", {"post": "yes"})
    assert response.status_code == 302
    assert client.get("/api/me/").status_code == 401


@pytest.mark.django_db
def test_a_deactivated_users_token_stops_working(buyer):
    client = token_client(buyer)
    User.objects.filter(pk=buyer.pk).update(is_active=False)
    response = client.get("/api/me/")
    assert response.status_code == 401
    assert response["WWW-Authenticate"] == "Token"


@pytest.mark.django_db
@pytest.mark.parametrize("header", ["Token", "Token a b", "Token nonsense", "Token ünï"])
def test_bad_token_headers_are_a_json_401(header):
    client = token_client()
    client.credentials(HTTP_AUTHORIZATION=header)
    response = client.get("/api/products/")
    assert response.status_code == 401
    assert response.json()["code"] == "authentication_failed"


@pytest.mark.django_db
def test_the_site_session_works_and_needs_its_csrf_token(buyer):
    from rest_framework.test import APIClient

    client = APIClient(enforce_csrf_checks=True)
    client.force_login(buyer)
    assert client.get("/api/me/").status_code == 200
    refused = client.post("/api/notifications/read-all/")
    assert refused.status_code == 403
    assert "CSRF" in refused.json()["message"]


@pytest.mark.django_db
def test_the_saved_language_answers_errors_in_urdu(buyer):
    buyer.language = "ur"
    buyer.save(update_fields=["language"])
    response = token_client(buyer).post("/api/addresses/", {}, format="json")
    assert response.status_code == 400
    assert re.search("[\u0600-\u06ff]", response.json()["message"])


# --- Addresses ------------------------------------------------------------------------------


def test_addresses_are_saved_through_the_address_book_service(buyer):
    client = token_client(buyer)
    lahore = city("Lahore")
    body = {
        "full_name": "Bilal Ahmed",
        "phone": "0300-1234567",
        "line1": "12 Mall Road",
        "city": lahore.pk,
        "postal_code": "54000",
    }
    first = client.post("/api/addresses/", body, format="json")
    assert first.status_code == 201, first.json()
    assert first.json()["is_default"] is True  # the first address becomes the default
    assert first.json()["phone"] == "+923001234567"  # the form's normalisation
    second = client.post("/api/addresses/", {**body, "is_default": True}, format="json")
    assert second.json()["is_default"] is True
    assert Address.objects.filter(user=buyer, is_default=True).count() == 1

    patched = client.patch(
        f"/api/addresses/{first.json()['id']}/", {"label": "Dukaan"}, format="json"
    )
    assert patched.status_code == 200
    assert (patched.json()["label"], patched.json()["line1"]) == ("Dukaan", "12 Mall Road")
    bad = client.patch(f"/api/addresses/{first.json()['id']}/", {"postal_code": "5"})
    assert bad.status_code == 400
    assert "five digits" in bad.json()["errors"]["postal_code"][0]

    assert client.delete(f"/api/addresses/{second.json()['id']}/").status_code == 204
    # The remaining address took over as the default.
    assert Address.objects.get(user=buyer).is_default


def test_notifications_are_marked_read_one_or_all(world, buyer):
    client = token_client(buyer)
    notice = world["notification"]
    assert client.get("/api/notifications/?unread=1").json()["count"] == 1
    read = client.post(f"/api/notifications/{notice.pk}/read/")
    assert read.json()["read_at"].endswith("+05:00")
    assert client.get("/api/notifications/?unread=1").json()["count"] == 0
    assert client.post("/api/notifications/read-all/").json() == {"updated": 0}


# --- The account page of apps and devices ---------------------------------------------------


def test_the_account_page_lists_and_revokes_the_users_tokens(client, buyer, rival):
    phone = token_client(buyer)
    ApiToken.objects.filter(user=buyer).update(name="Bilal's phone")
    theirs = ApiToken.issue(user=rival, name="Rabia's laptop")[0]
    client.force_login(buyer)
    page = client.get("/account/apps/")
    assert page.status_code == 200
    assert "Bilal&#x27;s phone" in page.text
    assert "Rabia" not in page.text
    mine = ApiToken.objects.get(user=buyer)
    assert client.post(f"/account/apps/{theirs.pk}/revoke/").status_code == 404
    assert client.post(f"/account/apps/{mine.pk}/revoke/").status_code == 302
    assert phone.get("/api/me/").status_code == 401
    assert ApiToken.objects.filter(pk=theirs.pk).exists()


def test_the_apps_page_needs_a_login(client):
    response = client.get("/account/apps/")
    assert response.status_code == 302
    assert "/accounts/login/" in response["Location"]
