"""Bad input is a JSON 4xx with a message and a code, never HTML and never a 500."""

import functools
import random
import re

import pytest

from marketplace.models import ApiToken
from marketplace.tests.api_support import staff, token_client, world  # noqa: F401 (fixtures)

HOSTILE = [
    None,
    "",
    " ",
    [],
    {},
    [1, 2],
    {"a": {"b": []}},
    True,
    -1,
    0,
    2**70,
    "NaN",
    "-Infinity",
    "1e400",
    "١٢٣",  # Arabic-Indic digits
    "0x10",
    "12.345",
    "\x00",
    "<script>alert(1)</script>",
    "x" * 20_000,
    "9" * 400,
    "2026-13-45T99:99",
    "'; DROP TABLE marketplace_order; --",
]
SELLER_PATHS = ("/api/products/", "/api/listings/", "/api/auctions/", "/mark-shipped/")


@functools.cache
def write_operations() -> list[tuple[str, str, tuple[str, ...]]]:
    """(method, path template, body fields) of every write the schema documents."""
    spec = token_client().get("/api/schema/?format=json").json()
    components = spec["components"]["schemas"]
    operations = []
    for path, item in sorted(spec["paths"].items()):
        for method in ("post", "put", "patch"):
            if method not in item or path in {"/api/logout/", "/api/auth/logout/"}:
                continue
            content = item[method].get("requestBody", {}).get("content", {})
            schema = next(iter(content.values()), {}).get("schema", {})
            ref = schema.get("$ref", "").rsplit("/", 1)[-1]
            fields = tuple(components.get(ref, {}).get("properties", {}))
            operations.append((method, path, fields))
    return operations


def concrete(path: str, world, seller) -> str:
    ids = {
        "/api/orders/{number}": world["order"].number,
        "/api/checkouts/{number}": world["checkout"].number,
        "/api/complaints/{number}": world["complaint"].number,
        "/api/products/{id}": world["product"].pk,
        "/api/listings/{id}": world["listing"].pk,
        "/api/auctions/{id}": world["auction"].pk,
        "/api/addresses/{id}": world["address"].pk,
        "/api/cart/{id}": world["cart_item"].pk,
        "/api/conversations/{id}": world["conversation"].pk,
        "/api/notifications/{id}": world["notification"].pk,
        "/api/sellers/{id}": seller.pk,
        "/api/tokens/{id}": ApiToken.objects.first().pk,
    }
    for template, value in ids.items():
        path = path.replace(template, template.split("{")[0] + str(value))
    assert "{" not in path, path
    return path


def assert_json_4xx(response, what) -> None:
    assert response.status_code < 500, (what, response.status_code, response.content[:300])
    if response.status_code >= 400:
        assert response["Content-Type"].startswith("application/json"), what
        body = response.json()
        assert isinstance(body["message"], str) and body["message"], what
        assert re.fullmatch(r"[a-z_]+", body["code"]), (what, body)


def test_hostile_values_in_every_field_of_every_write(world, seller, buyer, settings):
    settings.LOGIN_FAILURE_LIMIT = 10_000
    settings.LOGIN_IP_FAILURE_LIMIT = 10_000
    clients = {"seller": token_client(seller), "buyer": token_client(buyer)}
    operations = write_operations()
    assert len(operations) > 20
    rng = random.Random(18)
    for method, template, fields in operations:
        path = concrete(template, world, seller)
        client = clients["seller" if any(p in template for p in SELLER_PATHS) else "buyer"]
        bodies = [dict.fromkeys(fields, value) for value in HOSTILE]
        bodies += [{f: rng.choice(HOSTILE) for f in fields} for _ in range(8)]
        bodies += [[], "just a string", 12, None]
        for body in bodies:
            response = getattr(client, method)(path, body, format="json")
            assert_json_4xx(response, (method, path, str(body)[:80]))


@pytest.mark.parametrize(
    ("content_type", "data", "status", "code"),
    [
        ("application/json", b"{not json", 400, "parse_error"),
        ("application/json", b"[" * 5000, 400, "parse_error"),
        ("application/json", b'{"amount": 1e999999}', 400, None),
        ("text/plain", b"amount=5", 415, "unsupported_media_type"),
        ("application/json", b'{"body": "\\ud800"}', 400, None),
    ],
)
def test_unreadable_bodies(world, buyer, content_type, data, status, code):
    response = token_client(buyer).generic(
        "POST", f"/api/auctions/{world['auction'].pk}/bids/", data, content_type=content_type
    )
    assert_json_4xx(response, data[:40])
    assert response.status_code == status
    if code:
        assert response.json()["code"] == code


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("method", "path", "status", "code"),
    [
        ("get", "/api/no-such-thing/", 404, "not_found"),
        ("get", "/api/products/99999999999999999999999/", 404, "not_found"),
        ("get", "/api/orders/%00/", 401, "not_authenticated"),
        ("delete", "/api/products/", 401, "not_authenticated"),
        ("post", "/api/categories/", 405, "method_not_allowed"),
        ("get", "/api/auctions/1/place_bid/", 405, "method_not_allowed"),
        ("get", "/api/products/?page=999", 404, "not_found"),
        ("get", "/api/products/?page=abc", 404, "not_found"),
    ],
)
def test_routing_errors_are_json(method, path, status, code):
    response = getattr(token_client(), method)(path)
    assert_json_4xx(response, path)
    assert (response.status_code, response.json()["code"]) == (status, code)


@pytest.mark.django_db
@pytest.mark.parametrize(
    "query",
    [
        "min_price=abc",
        "max_price=-5",
        "sort=%27;--",
        "category=%00",
        "per_page=-1",
        "per_page=100000",
        "q=" + "x" * 5000,
        "province=9999&city=nowhere",
        "type=both",
        "q=vase%00&category=pottery%00",
    ],
)
def test_browse_ignores_bad_filters_as_the_page_does(query):
    response = token_client().get(f"/api/products/?{query}")
    assert response.status_code == 200
    assert "results" in response.json()


@pytest.mark.parametrize(
    "path", ["/api/orders/%00/", "/api/complaints/a%00b/", "/api/checkouts/%00/pay/"]
)
def test_a_nul_in_a_path_is_a_404(world, buyer, path):
    response = token_client(buyer).get(path)
    if path.endswith("/pay/"):
        response = token_client(buyer).post(path)
    assert (response.status_code, response.json()["code"]) == (404, "not_found")


def test_staff_get_json_errors_too(world, staff):
    response = token_client(staff).post(
        f"/api/orders/{world['order'].number}/mark-shipped/", {}, format="json"
    )
    assert response.status_code == 404
    assert response.json()["code"] == "not_found"


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("method", "path", "code"),
    [
        ("get", "/api/me/", "not_authenticated"),
        ("post", "/api/categories/", "method_not_allowed"),
        ("get", "/api/nowhere/", "not_found"),
    ],
)
def test_drfs_own_refusals_speak_urdu_too(method, path, code):
    response = getattr(token_client(), method)(path, HTTP_ACCEPT_LANGUAGE="ur")
    assert response.json()["code"] == code
    assert re.search("[\u0600-\u06ff]", response.json()["message"]), response.json()
