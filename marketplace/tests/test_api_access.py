"""Who may call each API endpoint: anonymous, the owner, another user and staff.

Someone else's object is a 404 (as on the pages), a buyer calling a seller's endpoint a 403,
no credentials a 401; staff get nothing more through the API than any other user.
"""

import pytest

from marketplace.tests.api_support import (  # noqa: F401
    more_world,
    photo,
    staff,
    token_client,
    world,
)
from marketplace.tests.factories.catalog import category, city

PERSONAS = ("anonymous", "owner", "other", "staff")
PASSWORD = "correct-horse-battery"


def product_fields(world) -> dict:
    return {
        "title": "Ajrak",
        "description": "Block-printed.",
        "category": category().pk,
        "condition": "new",
        "city": city("Multan").pk,
    }


def new_listing(world):
    return {**product_fields(world), "price": "900", "quantity": "2", "images": [photo()]}


def new_auction(world):
    fields = {"starting_price": "900", "duration_days": "3", "images": [photo()]}
    return {**product_fields(world), **fields}


def new_address(world):
    return {"full_name": "Omar", "phone": "03001234567", "line1": "1 Mall", "city": city().pk}


def registration(world):
    return {
        "username": "hina",
        "email": "h@example.pk",
        "password": "tez-2026-barish",
        "first_name": "H",
    }


FEEDBACK = {
    "seller_rating": 5,
    "communication": 5,
    "shipping_speed": 5,
    "item_as_described": True,
    "platform_rating": 5,
}

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
    ("reviews", "get", "/api/products/{delivered_product.pk}/reviews/"),
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
    "/api/favourites/",
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
    ("shop-delivery", "get", "/api/shop/delivery/", None, "seller", (401, 200, 403, 403)),
    (
        "shop-delivery-put",
        "put",
        "/api/shop/delivery/",
        {"delivery_fee_mode": "flat", "delivery_fee": "200", "dispatch_days": 2},
        "seller",
        (401, 200, 403, 403),
    ),
    (
        "shop-delivery-patch",
        "patch",
        "/api/shop/delivery/",
        {"dispatch_days": 3},
        "seller",
        (401, 200, 403, 403),
    ),
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
    ("auth-logout", "post", "/api/auth/logout/", None, "buyer", (401, 204, 204, 204)),
    ("register", "post", "/api/register/", registration, "buyer", (201, 201, 201, 201)),
    ("auth-register", "post", "/api/auth/register/", registration, "buyer", (201,) * 4),
    (
        "login",
        "post",
        "/api/login/",
        {"username": "bilal", "password": PASSWORD},
        "buyer",
        (200, 200, 200, 200),
    ),
    (
        "auth-login",
        "post",
        "/api/auth/login/",
        {"username": "bilal", "password": PASSWORD},
        "buyer",
        (200, 200, 200, 200),
    ),
    ("token-revoke", "delete", "/api/tokens/{token.pk}/", None, "buyer", (401, 204, 404, 404)),
    ("product-create", "post", "/api/products/", new_listing, "seller", (401, 201, 403, 403)),
    ("listing-create", "post", "/api/listings/", new_listing, "seller", (401, 201, 403, 403)),
    ("auction-create", "post", "/api/auctions/", new_auction, "seller", (401, 201, 403, 403)),
    (
        "product-put",
        "put",
        "/api/products/{product.pk}/",
        lambda world: {**product_fields(world), "price": "950", "quantity": "1"},
        "seller",
        (401, 200, 403, 403),
    ),
    ("address-create", "post", "/api/addresses/", new_address, "buyer", (401, 201, 201, 201)),
    (
        "address-patch",
        "patch",
        "/api/addresses/{address.pk}/",
        {"label": "Ghar"},
        "buyer",
        (401, 200, 404, 404),
    ),
    (
        "address-put",
        "put",
        "/api/addresses/{address.pk}/",
        new_address,
        "buyer",
        (401, 200, 404, 404),
    ),
    (
        "cart-add",
        "post",
        "/api/cart/",
        lambda world: {"listing": world["listing"].pk},
        "buyer",
        (401, 201, 201, 201),
    ),
    # The other user and staff have nothing in their carts (and no address).
    ("checkout", "post", "/api/checkout/", {}, "buyer", (401, 201, 400, 400)),
    ("purchase", "post", "/api/listings/{listing.pk}/purchase/", {}, "buyer", (401, 201, 400, 400)),
    # The order is paid: nothing to pay, not shipped yet, not delivered yet.
    ("pay", "post", "/api/checkouts/{checkout.number}/pay/", None, "buyer", (401, 400, 404, 404)),
    (
        "pay-jazzcash",
        "post",
        "/api/checkouts/{checkout.number}/pay/",
        {"method": "jazzcash"},
        "buyer",
        (401, 400, 404, 404),
    ),
    (
        "confirm-delivery",
        "post",
        "/api/orders/{order.number}/confirm-delivery/",
        None,
        "buyer",
        (401, 400, 404, 404),
    ),
    (
        "feedback",
        "post",
        "/api/orders/{order.number}/feedback/",
        FEEDBACK,
        "buyer",
        (401, 400, 404, 404),
    ),
    (
        "conversation-start",
        "post",
        "/api/conversations/",
        lambda world: {"product": world["product"].pk},
        "buyer",
        (401, 201, 201, 201),
    ),
    (
        "complaint-create",
        "post",
        "/api/complaints/",
        {"category": "other", "subject": "s", "description": "d"},
        "buyer",
        (401, 201, 201, 201),
    ),
    # Follow-ups: cancel, reply to feedback, reviews, favourites, a checkout's address.
    (
        "order-cancel",
        "post",
        "/api/orders/{unpaid.number}/cancel/",
        {"reason": "Galti se kharida."},
        "buyer",
        (401, 200, 404, 404),
    ),
    (
        "feedback-reply",
        "post",
        "/api/orders/{delivered.number}/feedback/reply/",
        {"reply": "Shukriya!"},
        "seller",
        (401, 200, 404, 404),
    ),
    # Only a buyer who had the item delivered may review it (the service's rule: 400).
    (
        "review-create",
        "post",
        "/api/products/{delivered_product.pk}/reviews/",
        {"rating": 5, "title": "Khoobsurat", "text": "Rang bilkul tasveer jaise."},
        "buyer",
        (401, 201, 400, 400),
    ),
    (
        "favourite-add",
        "post",
        "/api/favourites/",
        lambda world: {"product": world["product"].pk},
        "buyer",
        (401, 201, 201, 201),
    ),
    (
        "favourite-remove",
        "delete",
        "/api/favourites/{product.pk}/",
        None,
        "buyer",
        (401, 204, 404, 404),
    ),
    # Cash on delivery: the buyer confirms their COD order; the paid checkout cannot switch.
    (
        "order-confirm-cod",
        "post",
        "/api/orders/{cod.number}/confirm-cod/",
        None,
        "buyer",
        (401, 200, 404, 404),
    ),
    (
        "order-confirm-cod-seller",
        "post",
        "/api/orders/{cod.number}/confirm-cod/",
        None,
        "seller",
        (401, 403, 404, 404),
    ),
    (
        "checkout-cash-on-delivery",
        "post",
        "/api/checkouts/{checkout.number}/cash-on-delivery/",
        None,
        "buyer",
        (401, 400, 404, 404),
    ),
    (
        "checkout-address",
        "post",
        "/api/checkouts/{checkout.number}/address/",
        lambda world: {"address": world["address"].pk},
        "buyer",
        (401, 200, 404, 404),
    ),
    # Returns: the buyer asks on a delivered order; the seller answers the one waiting.
    (
        "return-open",
        "post",
        "/api/orders/{delivered.number}/return/",
        {"reason": "damaged", "details": "Cracked in transit."},
        "buyer",
        (401, 201, 404, 404),
    ),
    (
        "return-get",
        "get",
        "/api/orders/{returned.number}/return/",
        None,
        "buyer",
        (401, 200, 404, 404),
    ),
    (
        "return-get-seller",
        "get",
        "/api/orders/{returned.number}/return/",
        None,
        "seller",
        (401, 200, 404, 404),
    ),
    (
        "return-refuse",
        "post",
        "/api/orders/{returned.number}/return/refuse/",
        {"refusal_reason": "It was worn."},
        "seller",
        (401, 200, 404, 404),
    ),
    # The order has no payment to refund (the refund path says so); accepted in test_api_returns.
    (
        "return-accept",
        "post",
        "/api/orders/{returned.number}/return/accept/",
        None,
        "seller",
        (401, 400, 404, 404),
    ),
    # Not refused yet: nothing to take to staff.
    (
        "return-dispute",
        "post",
        "/api/orders/{returned.number}/return/dispute/",
        {"note": "Please look."},
        "buyer",
        (401, 400, 404, 404),
    ),
    # No refund on this order: a 404 for everyone; a real one in test_api_refunds.
    (
        "refund-get",
        "get",
        "/api/orders/{returned.number}/refund/",
        None,
        "buyer",
        (401, 404, 404, 404),
    ),
    (
        "refund-account",
        "post",
        "/api/orders/{returned.number}/refund/",
        {"kind": "jazzcash", "wallet_number": "03001234567", "account_title": "Bilal"},
        "buyer",
        (401, 404, 404, 404),
    ),
    (
        "place_bid",
        "post",
        "/api/auctions/{auction.pk}/place_bid/",
        {"amount": "1100.00"},
        "seller",
        (401, 400, 201, 201),
    ),
]


@pytest.mark.parametrize("persona", PERSONAS)
@pytest.mark.parametrize(
    ("method", "path", "body", "owner", "statuses"),
    [pytest.param(*row[1:], id=row[0]) for row in ROWS],
)
def test_who_may_call_what(
    more_world, seller, buyer, outsider, staff, persona, method, path, body, owner, statuses
):
    world = more_world
    users = {
        "anonymous": None,
        "owner": {"buyer": buyer, "seller": seller}[owner],
        "other": outsider,
        "staff": staff,
    }
    client = token_client(users[persona])
    url = path.format(seller=seller, **world)
    if callable(body):  # built per test: uploads can be read once
        body = body(world)
    has_files = isinstance(body, dict) and "images" in body
    response = getattr(client, method)(url, body, format="multipart" if has_files else "json")
    expected = statuses[PERSONAS.index(persona)]
    assert response.status_code == expected, response.content[:300]
    if expected >= 400:
        # Every refusal is JSON with a message and a code, never an HTML page.
        assert response["Content-Type"].startswith("application/json")
        assert set(response.json()) >= {"message", "code"}


def test_another_seller_cannot_edit_or_withdraw_a_listing(world):
    from marketplace.tests.factories.accounts import SellerFactory

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
    from marketplace.tests.factories.orders import address_of

    address_of(outsider)
    outsider.block("unpaid orders")
    response = token_client(outsider).post(
        f"/api/listings/{world['listing'].pk}/purchase/", {"quantity": 1}, format="json"
    )
    assert response.status_code == 403
    assert response.json()["code"] == "buyer_blocked"


@pytest.mark.django_db
def test_every_operation_in_the_schema_has_a_row_here():
    import re

    def shape(path: str) -> str:
        return re.sub(r"\{[^}]+\}", "{}", path.split("?")[0])

    spec = token_client().get("/api/schema/?format=json").json()
    documented = {
        (method, shape(path))
        for path, item in spec["paths"].items()
        for method in item
        if method in {"get", "post", "put", "patch", "delete"}
    }
    covered = {(method, shape(path)) for _name, method, path, *_rest in ROWS}
    assert documented - covered == set()
