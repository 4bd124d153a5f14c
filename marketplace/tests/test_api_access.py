"""Who may call each API endpoint: anonymous, the owner, another user and staff.

Someone else's object is a 404 (as on the pages), a buyer calling a seller's endpoint a 403,
no credentials a 401; staff get nothing more through the API than any other user.
"""

import pytest

from marketplace.tests.api_support import staff, token_client, world  # noqa: F401 (fixtures)

PERSONAS = ("anonymous", "owner", "other", "staff")

# (id, method, path, body, owner persona, statuses for anonymous, owner, other, staff)
PUBLIC = [
    ("products", "get", "/api/products/"),
    ("product", "get", "/api/products/{product.pk}/"),
    ("listings", "get", "/api/listings/"),
    ("auctions", "get", "/api/auctions/"),
    ("auction", "get", "/api/auctions/{auction.pk}/"),
    ("bids", "get", "/api/auctions/{auction.pk}/bids/"),
    ("categories", "get", "/api/categories/"),
    ("provinces", "get", "/api/provinces/"),
    ("cities", "get", "/api/cities/"),
    ("seller-feedback", "get", "/api/sellers/{seller.pk}/feedback/"),
    ("schema", "get", "/api/schema/"),
    ("docs", "get", "/api/docs/"),
]
OWN_LISTS = [
    "/api/me/",
    "/api/tokens/",
    "/api/addresses/",
    "/api/notifications/",
    "/api/cart/",
    "/api/my-bids/",
    "/api/orders/",
    "/api/conversations/",
    "/api/complaints/",
]
ROWS = [
    *[(name, method, path, None, "buyer", (200, 200, 200, 200)) for name, method, path in PUBLIC],
    *[(path, "get", path, None, "buyer", (401, 200, 200, 200)) for path in OWN_LISTS],
    # The buyer's own objects.
    ("address", "get", "/api/addresses/{address.pk}/", None, "buyer", (401, 200, 404, 404)),
    ("order", "get", "/api/orders/{order.number}/", None, "buyer", (401, 200, 404, 404)),
    ("order-seller", "get", "/api/orders/{order.number}/", None, "seller", (401, 200, 404, 404)),
    ("checkout", "get", "/api/checkouts/{checkout.number}/", None, "buyer", (401, 200, 404, 404)),
    (
        "conversation",
        "get",
        "/api/conversations/{conversation.pk}/",
        None,
        "buyer",
        (401, 200, 404, 404),
    ),
    (
        "messages",
        "get",
        "/api/conversations/{conversation.pk}/messages/",
        None,
        "seller",
        (401, 200, 404, 404),
    ),
    (
        "message-send",
        "post",
        "/api/conversations/{conversation.pk}/messages/",
        {"body": "Kal bhej dein ge."},
        "seller",
        (401, 201, 404, 404),
    ),
    (
        "complaint",
        "get",
        "/api/complaints/{complaint.number}/",
        None,
        "buyer",
        (401, 200, 404, 404),
    ),
    (
        "notification-read",
        "post",
        "/api/notifications/{notification.pk}/read/",
        None,
        "buyer",
        (401, 200, 404, 404),
    ),
    ("read-all", "post", "/api/notifications/read-all/", None, "buyer", (401, 200, 200, 200)),
    (
        "address-delete",
        "delete",
        "/api/addresses/{address.pk}/",
        None,
        "buyer",
        (401, 204, 404, 404),
    ),
    (
        "address-default",
        "post",
        "/api/addresses/{address.pk}/default/",
        None,
        "buyer",
        (401, 200, 404, 404),
    ),
    ("cart-remove", "delete", "/api/cart/{cart_item.pk}/", None, "buyer", (401, 200, 404, 404)),
    (
        "cart-update",
        "patch",
        "/api/cart/{cart_item.pk}/",
        {"quantity": 2},
        "buyer",
        (401, 200, 404, 404),
    ),
    # The seller's.
    ("sell-listings", "get", "/api/sell/listings/", None, "seller", (401, 200, 403, 403)),
    (
        "mark-shipped",
        "post",
        "/api/orders/{order.number}/mark-shipped/",
        {"courier": "TCS", "tracking_number": "TCS-777"},
        "seller",
        (401, 200, 404, 404),
    ),
    (
        "product-edit",
        "patch",
        "/api/products/{product.pk}/",
        {"price": "2600.00"},
        "seller",
        (401, 200, 403, 403),
    ),
    (
        "product-withdraw",
        "delete",
        "/api/products/{product.pk}/",
        None,
        "seller",
        (401, 204, 403, 403),
    ),
    # Anyone logged in, the rules decide (the seller may not bid on their own auction).
    (
        "bid",
        "post",
        "/api/auctions/{auction.pk}/bids/",
        {"amount": "1100.00"},
        "seller",
        (401, 400, 201, 201),
    ),
    ("logout", "post", "/api/logout/", None, "buyer", (401, 204, 204, 204)),
]


@pytest.mark.parametrize("persona", PERSONAS)
@pytest.mark.parametrize(
    ("method", "path", "body", "owner", "statuses"),
    [pytest.param(*row[1:], id=row[0]) for row in ROWS],
)
def test_who_may_call_what(
    world, seller, buyer, outsider, staff, persona, method, path, body, owner, statuses
):
    users = {
        "anonymous": None,
        "owner": {"buyer": buyer, "seller": seller}[owner],
        "other": outsider,
        "staff": staff,
    }
    client = token_client(users[persona])
    url = path.format(seller=seller, **world)
    response = getattr(client, method)(url, body, format="json")
    expected = statuses[PERSONAS.index(persona)]
    assert response.status_code == expected, response.content[:300]
    if expected >= 400:
        # Every refusal is JSON with a message and a code, never an HTML page.
        assert response["Content-Type"].startswith("application/json")
        assert set(response.json()) >= {"message", "code"}


def test_another_seller_cannot_edit_or_withdraw_a_listing(world):
    from marketplace.tests.factories import SellerFactory

    client = token_client(SellerFactory(username="sana"))
    product = world["product"]
    assert client.patch(f"/api/products/{product.pk}/", {"price": "1.00"}).status_code == 404
    assert client.delete(f"/api/products/{product.pk}/").status_code == 404
    product.fixed_price.refresh_from_db()
    assert (product.fixed_price.price, product.fixed_price.status) == (2500, "active")


def test_the_buyer_cannot_mark_their_order_shipped(world, buyer):
    response = token_client(buyer).post(
        f"/api/orders/{world['order'].number}/mark-shipped/",
        {"courier": "TCS", "tracking_number": "1"},
        format="json",
    )
    assert response.status_code == 403
    assert response.json()["code"] == "not_seller"


def test_a_withdrawn_listing_is_hidden_from_everyone_but_its_seller(world, seller, buyer):
    product = world["product"]
    assert token_client(seller).delete(f"/api/products/{product.pk}/").status_code == 204
    assert token_client(buyer).get(f"/api/products/{product.pk}/").status_code == 404
    assert token_client(seller).get(f"/api/products/{product.pk}/").status_code == 200
    listed = token_client(seller).get("/api/sell/listings/?status=withdrawn").json()
    assert [row["id"] for row in listed["results"]] == [product.pk]


def test_a_blocked_buyer_may_not_bid(world, outsider):
    outsider.block("unpaid orders")
    response = token_client(outsider).post(
        f"/api/auctions/{world['auction'].pk}/bids/", {"amount": "1100"}, format="json"
    )
    assert response.status_code == 403
    assert response.json()["code"] == "blocked"


def test_a_blocked_buyer_may_not_buy(world, outsider):
    from marketplace.tests.factories_orders import address_of

    address_of(outsider)
    outsider.block("unpaid orders")
    response = token_client(outsider).post(
        f"/api/listings/{world['listing'].pk}/purchase/", {"quantity": 1}, format="json"
    )
    assert response.status_code == 403
    assert response.json()["code"] == "buyer_blocked"
