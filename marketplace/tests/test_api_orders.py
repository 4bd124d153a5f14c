"""API selling and buying: listings, cart and checkout with the payment page, orders, after-sale."""

import re
from decimal import Decimal

import pytest

from marketplace.models import Complaint, Feedback, Message, Order, PaymentAttempt, Product
from marketplace.tests.api_support import photo, token_client, world  # noqa: F401 (fixtures)
from marketplace.tests.factories.catalog import category, city
from marketplace.tests.factories.fulfilment import shipped_order
from marketplace.tests.factories.orders import address_of, listing_by
from marketplace.tests.payments_fixtures import onboard

MONEY = re.compile(r"^\d+\.\d{2}$")


def listing_body(**fields) -> dict:
    return {
        "title": "Ajrak shawl",
        "description": "Block-printed in Hala.",
        "category": category().pk,
        "condition": "new",
        "city": city("Multan").pk,
        "price": "4500",
        "quantity": "3",
        **fields,
    }


@pytest.mark.parametrize("path", ["/api/listings/", "/api/products/"])
def test_a_seller_lists_an_item_with_photos(seller, path):
    client = token_client(seller)
    body = listing_body(images=[photo("a.jpg"), photo("b.jpg")])
    response = client.post(path, body, format="multipart")
    assert response.status_code == 201, response.json()
    product = response.json()
    assert (product["kind"], product["price"], len(product["images"])) == (
        "fixed_price",
        "4500.00",
        2,
    )
    assert product["created_at"].endswith("+05:00")
    assert Product.objects.get(pk=product["id"]).seller == seller
    listed = token_client().get("/api/listings/").json()["results"]
    assert [p["id"] for p in listed] == [product["id"]]


def test_a_listing_needs_a_photo_as_on_the_page(seller):
    response = token_client(seller).post("/api/listings/", listing_body(), format="multipart")
    assert response.status_code == 400
    assert response.json()["errors"]["images"]


def test_a_seller_edits_price_and_photos(world, seller):
    client = token_client(seller)
    product = world["product"]
    old = product.images.get()
    response = client.patch(
        f"/api/products/{product.pk}/",
        {"price": "2700.50", "images": [photo()], "remove_images": [old.pk]},
        format="multipart",
    )
    assert response.status_code == 200, response.json()
    assert response.json()["fixed_price"]["price"] == "2700.50"
    assert [i["id"] for i in response.json()["images"]] != [old.pk]
    # Removing the last photo is refused by the form, as on the page.
    last = response.json()["images"][0]["id"]
    refused = client.patch(f"/api/products/{product.pk}/", {"remove_images": [last]}, format="json")
    assert refused.status_code == 400
    assert product.images.count() == 1


def test_a_seller_starts_an_auction(seller):
    body = {
        **listing_body(images=[photo()]),
        "starting_price": "1500",
        "reserve_price": "2000",
        "duration_days": "3",
    }
    response = token_client(seller).post("/api/auctions/", body, format="multipart")
    assert response.status_code == 201, response.json()
    auction = response.json()
    assert (auction["status"], auction["has_reserve"], auction["minimum_next_bid"]) == (
        "live",
        True,
        "1500.00",
    )
    assert "reserve_price" not in auction  # hidden from bidders


def test_a_buyer_may_not_list(buyer):
    response = token_client(buyer).post("/api/auctions/", {}, format="json")
    assert response.status_code == 403


def test_browse_filters_are_the_sites(seller):
    listing_by(seller, price="900.00", title="Khussa")
    listing_by(seller, price="9000.00", title="Rug")
    client = token_client()
    titles = [p["title"] for p in client.get("/api/products/?max_price=1000").json()["results"]]
    assert titles == ["Khussa"]
    prices = [p["price"] for p in client.get("/api/products/?sort=price_desc").json()["results"]]
    assert prices == ["9000.00", "900.00"]
    assert all(MONEY.match(price) for price in prices)


# --- Cart, checkout, payment ----------------------------------------------------------------


@pytest.fixture
def ready_seller(emulator, seller):
    onboard(emulator, seller)
    return seller


def test_cart_checkout_returns_the_hosted_payment_page(emulator, ready_seller, buyer):
    listing = listing_by(ready_seller, price="1250.00", quantity=4)
    address_of(buyer)
    client = token_client(buyer)
    added = client.post("/api/cart/", {"listing": listing.pk, "quantity": 2}, format="json")
    assert added.status_code == 201
    assert added.json()["total"] == "2500.00"
    response = client.post("/api/checkout/", {"expected_total": "2500.00"}, format="json")
    assert response.status_code == 201, response.json()
    checkout = response.json()
    attempt = PaymentAttempt.objects.get()
    # The same hosted page the Pay button redirects to.
    assert checkout["payment_url"] == attempt.url
    assert checkout["payment_url"].startswith(emulator)
    assert (checkout["amount_due"], checkout["orders"][0]["status"]) == (
        "2500.00",
        "awaiting_payment",
    )
    assert client.get("/api/cart/").json()["lines"] == []
    # A fresh page for the same checkout expires the first, as the page's Pay does.
    again = client.post(f"/api/checkouts/{checkout['number']}/pay/")
    assert again.status_code == 200
    assert again.json()["payment_url"] != checkout["payment_url"]
    assert PaymentAttempt.objects.filter(status="open").count() == 1


def test_a_changed_total_buys_nothing(emulator, ready_seller, buyer):
    listing = listing_by(ready_seller, price="1250.00")
    address_of(buyer)
    client = token_client(buyer)
    client.post("/api/cart/", {"listing": listing.pk}, format="json")
    response = client.post("/api/checkout/", {"expected_total": "1000.00"}, format="json")
    assert response.status_code == 400
    assert not Order.objects.exists()


def test_buying_one_listing_now_leaves_the_cart_alone(emulator, ready_seller, buyer):
    kept = listing_by(ready_seller, title="Kept")
    bought = listing_by(ready_seller, price="800.00", title="Bought")
    address_of(buyer)
    client = token_client(buyer)
    client.post("/api/cart/", {"listing": kept.pk}, format="json")
    key = "a" * 32
    first = client.post(
        f"/api/listings/{bought.pk}/purchase/", {"quantity": 1, "idempotency_key": key}
    )
    again = client.post(
        f"/api/listings/{bought.pk}/purchase/", {"quantity": 1, "idempotency_key": key}
    )
    assert first.status_code == 201, first.json()
    assert first.json()["number"] == again.json()["number"]  # a retried request buys once
    assert Order.objects.count() == 1
    assert [line["title"] for line in client.get("/api/cart/").json()["lines"]] == ["Kept"]


def test_payment_that_cannot_start_still_places_the_order_and_says_why(seller, buyer):
    listing = listing_by(seller)  # the seller has not set up payouts
    address_of(buyer)
    response = token_client(buyer).post(f"/api/listings/{listing.pk}/purchase/", {})
    assert response.status_code == 201
    body = response.json()
    assert body["payment_url"] is None
    assert set(body["payment_error"]) == {"message", "code"}


def test_buying_without_an_address_is_refused(seller, buyer):
    listing = listing_by(seller)
    response = token_client(buyer).post(f"/api/listings/{listing.pk}/purchase/", {})
    assert (response.status_code, response.json()["code"]) == (400, "no_address")


def test_out_of_stock_is_the_services_refusal(seller, buyer):
    listing = listing_by(seller, quantity=1)
    response = token_client(buyer).post("/api/cart/", {"listing": listing.pk, "quantity": 5})
    assert response.status_code == 400
    assert response.json()["code"] in {"out_of_stock", "purchase_rejected"}


# --- After the sale -------------------------------------------------------------------------


def test_ship_deliver_and_leave_feedback(world, seller, buyer):
    order = world["order"]
    shipped = token_client(seller).post(
        f"/api/orders/{order.number}/mark-shipped/",
        {"courier": "Leopards", "tracking_number": "LP-42"},
        format="json",
    )
    assert (shipped.json()["status"], shipped.json()["courier"]) == ("shipped", "Leopards")
    buyer_client = token_client(buyer)
    delivered = buyer_client.post(f"/api/orders/{order.number}/confirm-delivery/")
    assert delivered.json()["status"] == "delivered"
    feedback = buyer_client.post(
        f"/api/orders/{order.number}/feedback/",
        {
            "seller_rating": 5,
            "communication": 4,
            "shipping_speed": 4,
            "item_as_described": True,
            "platform_rating": 5,
            "comment": "Bohat khoob",
        },
        format="json",
    )
    assert feedback.status_code == 201, feedback.json()
    assert Feedback.objects.get().item_as_described is True
    again = buyer_client.post(
        f"/api/orders/{order.number}/feedback/",
        {
            "seller_rating": 1,
            "communication": 1,
            "shipping_speed": 1,
            "item_as_described": False,
            "platform_rating": 1,
        },
        format="json",
    )
    assert again.status_code == 400  # one feedback per order: the service's rule
    public = token_client().get(f"/api/sellers/{seller.pk}/feedback/").json()
    assert public["rating"]["count"] == 1
    assert public["results"][0]["buyer"] == "b***l"
    assert "platform_comment" not in public["results"][0]


def test_shipping_twice_is_an_invalid_transition(seller, buyer):
    order = shipped_order(seller, buyer)
    response = token_client(seller).post(
        f"/api/orders/{order.number}/mark-shipped/",
        {"courier": "TCS", "tracking_number": "2"},
        format="json",
    )
    assert response.status_code == 400
    assert response.json()["code"] == "wrong_status"


def test_orders_narrow_to_bought_or_sold(world, seller, buyer):
    client = token_client(seller)
    assert client.get("/api/orders/?role=seller").json()["count"] == 1
    assert client.get("/api/orders/?role=buyer").json()["count"] == 0
    order = token_client(buyer).get(f"/api/orders/{world['order'].number}/").json()
    assert all(MONEY.match(order[f]) for f in ("subtotal", "shipping_fee", "total"))
    assert order["shipping_address"]["city"] == "Lahore"


def test_a_question_about_a_product_starts_a_conversation(world, seller, rival):
    client = token_client(rival)
    started = client.post("/api/conversations/", {"product": world["product"].pk}, format="json")
    assert started.status_code == 201, started.json()
    pk = started.json()["id"]
    sent = client.post(f"/api/conversations/{pk}/messages/", {"body": "Is it real ajrak?"})
    assert (sent.status_code, sent.json()["is_mine"]) == (201, True)
    seller_client = token_client(seller)
    assert seller_client.get(f"/api/conversations/{pk}/").json()["unread"] == 1
    thread = seller_client.get(f"/api/conversations/{pk}/messages/").json()["results"]
    assert (thread[0]["body"], thread[0]["is_mine"]) == ("Is it real ajrak?", False)
    # Reading the thread marks it read, as the page does.
    assert Message.objects.get(conversation_id=pk).read_at is not None
    too_long = client.post(f"/api/conversations/{pk}/messages/", {"body": "x" * 2001})
    assert too_long.status_code == 400


def test_a_complaint_with_a_photo(world, buyer):
    response = token_client(buyer).post(
        "/api/complaints/",
        {
            "category": "shipping",
            "subject": "Broken",
            "description": "Arrived cracked.",
            "order": world["order"].pk,
            "photo": photo(),
        },
        format="multipart",
    )
    assert response.status_code == 201, response.json()
    assert (response.json()["has_photo"], response.json()["order"]) == (
        True,
        world["order"].number,
    )
    assert Complaint.objects.filter(user=buyer).count() == 2


def test_a_complaint_about_someone_elses_order_is_refused(world, rival):
    response = token_client(rival).post(
        "/api/complaints/",
        {"category": "other", "subject": "x", "description": "y", "order": world["order"].pk},
        format="json",
    )
    assert response.status_code == 400
    assert response.json()["errors"]["order"]


def test_money_is_two_decimal_strings(world):
    auction = token_client().get(f"/api/auctions/{world['auction'].pk}/").json()
    for field in ("starting_price", "current_price", "minimum_next_bid"):
        assert MONEY.match(auction[field]), auction[field]
    assert Decimal(auction["minimum_next_bid"]) == Decimal("1100.00")
