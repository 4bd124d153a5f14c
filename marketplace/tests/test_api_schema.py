"""The OpenAPI schema validates and lists every API URL; the docs page loads only our files."""

import functools
import re

import pytest
from django.contrib.staticfiles import finders
from django.urls import URLPattern, URLResolver, get_resolver
from openapi_spec_validator import validate

from marketplace.tests.api_support import token_client

NOT_IN_SCHEMA = {"/api/schema/", "/api/docs/"}


@functools.cache
def schema() -> dict:
    """The schema as a client fetches it (generated once for this module: it takes seconds)."""
    response = token_client().get("/api/schema/?format=json")
    assert response.status_code == 200
    return response.json()


def api_routes() -> set[str]:
    """Every path under /api/ that the URL conf routes to the API, as OpenAPI templates."""
    routes = set()
    for top in get_resolver().url_patterns:
        if isinstance(top, URLResolver) and str(top.pattern) == "api/":
            for pattern in top.url_patterns:
                if isinstance(pattern, URLPattern) and not str(pattern.pattern).startswith("^"):
                    route = re.sub(r"<(?:\w+:)?(\w+)>", r"{\1}", str(pattern.pattern))
                    # drf-spectacular names a primary key {id}, as the seed writes it.
                    route = route.replace("{pk}", "{id}")
                    routes.add(f"/api/{route}")
    return routes


@pytest.mark.django_db
def test_the_schema_is_valid_openapi_3():
    spec = schema()
    assert spec["openapi"].startswith("3.")
    validate(spec)


@pytest.mark.django_db
def test_every_api_url_is_in_the_schema():
    routes = api_routes()
    assert len(routes) > 40
    documented = set(schema()["paths"])
    assert routes - NOT_IN_SCHEMA <= documented, sorted(routes - NOT_IN_SCHEMA - documented)


@pytest.mark.django_db
def test_the_seeds_and_the_original_projects_paths_are_all_there():
    paths = set(schema()["paths"])
    seed = {
        "/api/register/",
        "/api/login/",
        "/api/logout/",
        "/api/products/",
        "/api/products/{id}/",
        "/api/auctions/",
        "/api/auctions/{id}/",
        "/api/auctions/{id}/bids/",
        "/api/listings/",
        "/api/listings/{id}/purchase/",
        "/api/orders/",
        "/api/orders/{number}/",
        "/api/orders/{number}/mark-shipped/",
        "/api/conversations/",
        "/api/conversations/{id}/messages/",
        "/api/orders/{number}/feedback/",
        "/api/sellers/{id}/feedback/",
        "/api/complaints/",
        "/api/auth/register/",
        "/api/auth/login/",
        "/api/auctions/{id}/place_bid/",
    }
    assert seed <= paths, sorted(seed - paths)


@pytest.mark.django_db
def test_the_schema_declares_token_and_session_auth():
    schemes = schema()["components"]["securitySchemes"]
    assert schemes["tokenAuth"] == {
        "type": "apiKey",
        "in": "header",
        "name": "Authorization",
        "description": schemes["tokenAuth"]["description"],
    }
    assert "cookieAuth" in schemes


@pytest.mark.django_db
def test_the_docs_page_loads_only_our_own_static_files():
    response = token_client().get("/api/docs/")
    assert response.status_code == 200
    html = response.content.decode()
    references = re.findall(r'(?:src|href)="([^"]+)"', html)
    assert references, html[:500]
    scripts = [url for url in references if not url.startswith("/static/")]
    # Swagger UI's start script is served by the docs view itself (not inline: the CSP), and
    # it names the schema URL the page fetches: ours too.
    assert scripts == ["/api/docs/?script="], references
    for url in references:
        if url.startswith("/static/"):
            assert finders.find(url.removeprefix("/static/")), f"missing static file {url}"
    script = token_client().get(scripts[0]).content.decode()
    assert '"/api/schema/"' in script
    assert "cdn" not in (html + script).lower()


@pytest.mark.django_db
def test_the_webhook_alias_under_api_still_reaches_the_webhook():
    response = token_client().post("/api/stripe/webhook/", b"{}", content_type="application/json")
    # The webhook's own refusal of an unsigned event, not the API's 404.
    assert response.status_code == 400
    assert response.content != b'{"message": "Not found.", "code": "not_found"}'


@pytest.mark.django_db
def test_refusals_are_declared_with_the_shared_error_shape():
    error = {"$ref": "#/components/schemas/Error"}
    operations = schema()["paths"]
    cancel = operations["/api/orders/{number}/cancel/"]["post"]["responses"]
    assert {"200", "400", "401", "403", "404"} <= set(cancel)
    assert cancel["400"]["content"]["application/json"]["schema"] == error
    assert "400" in operations["/api/auctions/{id}/bids/"]["post"]["responses"]
    assert set(operations["/api/categories/"]["get"]["responses"]) == {"200"}
    assert "401" in operations["/api/orders/"]["get"]["responses"]
    assert set(schema()["components"]["schemas"]["Error"]["required"]) == {"message", "code"}
