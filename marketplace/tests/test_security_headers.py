"""Issue 12, item 13: a Content-Security-Policy without inline script, and private pages that
no cache keeps."""

import re

import pytest
from django.urls import reverse

from marketplace.tests.factories.accounts import UserFactory
from marketplace.tests.factories.catalog import ProductFactory

pytestmark = pytest.mark.django_db


def policy(response) -> dict[str, list[str]]:
    header = response["Content-Security-Policy"]
    directives = (part.strip().split() for part in header.split(";") if part.strip())
    return {name: values for name, *values in directives}


def test_pages_carry_a_policy_without_inline_script(client):
    csp = policy(client.get(reverse("home")))
    assert csp["default-src"] == ["'self'"]
    assert "'unsafe-inline'" not in csp["script-src"]
    assert "'unsafe-eval'" not in csp["script-src"]
    assert "'unsafe-inline'" not in csp["style-src-elem"]
    assert csp["object-src"] == ["'none'"]
    assert csp["frame-ancestors"] == ["'none'"]
    assert csp["base-uri"] == ["'self'"]


INLINE_SCRIPT = re.compile(r"<script(?![^>]*\bsrc=)(?![^>]*\bnonce=)[^>]*>", re.I)
INLINE_HANDLER = re.compile(r"\s(on[a-z]+|hx-on[:-][\w:-]*)\s*=", re.I)


@pytest.mark.parametrize("name", ["home", "product_list", "help", "login", "register"])
def test_public_pages_have_no_inline_script_or_handlers(client, name):
    ProductFactory()
    html = client.get(reverse(name)).text
    assert not INLINE_SCRIPT.search(html)
    assert not INLINE_HANDLER.search(html)


def test_htmx_is_told_not_to_add_its_own_style_element(client):
    assert '"includeIndicatorStyles": false' in client.get(reverse("home")).text


def test_every_template_is_free_of_inline_script_and_handlers(settings):
    from pathlib import Path

    offenders = []
    for path in Path(settings.BASE_DIR, "templates").rglob("*.html"):
        text = path.read_text()
        if INLINE_SCRIPT.search(text) or INLINE_HANDLER.search(text) or "javascript:" in text:
            offenders.append(str(path))
    assert offenders == []


def test_a_signed_in_users_page_is_private_and_not_stored(client, buyer):
    client.force_login(buyer)
    for url in [
        reverse("home"),
        reverse("profile"),
        reverse("cart_detail"),
        reverse("product_list"),
    ]:
        header = client.get(url)["Cache-Control"]
        assert "private" in header and "no-store" in header, url


def test_an_anonymous_page_with_a_csrf_token_is_private(client):
    response = client.get(reverse("login"))
    assert "csrfmiddlewaretoken" in response.text
    assert "private" in response["Cache-Control"] and "no-store" in response["Cache-Control"]


def test_an_anonymous_page_without_a_token_keeps_caching_to_the_browser(client):
    # The middleware adds nothing where nothing private is on the page.
    from django.http import HttpResponse
    from django.test import RequestFactory

    from marketplace.middleware import PrivateCacheControlMiddleware

    request = RequestFactory().get("/help/")
    from django.contrib.auth.models import AnonymousUser

    request.user = AnonymousUser()
    response = PrivateCacheControlMiddleware(lambda r: HttpResponse("hi"))(request)
    assert not response.has_header("Cache-Control")


def test_a_view_that_sets_its_own_cache_control_keeps_it(client):
    client.force_login(UserFactory(is_staff=True, is_superuser=True))
    # The admin marks its pages never_cache itself.
    assert "no-cache" in client.get("/admin/")["Cache-Control"]


def test_public_product_photos_stay_cacheable(buyer, settings):
    from django.http import HttpResponse
    from django.test import RequestFactory

    from marketplace.middleware import PrivateCacheControlMiddleware

    request = RequestFactory().get(settings.MEDIA_URL + "products/p.jpg")
    request.user = buyer
    response = PrivateCacheControlMiddleware(lambda r: HttpResponse(b"jpeg"))(request)
    assert not response.has_header("Cache-Control")


def test_the_hash_allowed_for_the_admins_one_inline_style_matches_djangos_template(settings):
    # Django's admin/change_list.html writes one <style> when a list has no actions; the
    # policy allows exactly that text by its hash, which changes if Django changes it.
    import base64
    import hashlib
    from pathlib import Path

    import django.contrib.admin

    template = Path(django.contrib.admin.__file__).parent / "templates/admin/change_list.html"
    text = template.read_text()
    body = text[text.index("<style>") + len("<style>") : text.index("</style>")]
    digest = base64.b64encode(hashlib.sha256(body.encode()).digest()).decode()
    allowed = settings.CONTENT_SECURITY_POLICY["DIRECTIVES"]["style-src-elem"]
    assert f"'sha256-{digest}'" in allowed
