"""Cancel, reply to feedback, reviews, favourites and a checkout's address over the API: the
site's services and rules, nothing of their own."""

import pytest

from marketplace.models import Favourite, Order
from marketplace.tests.api_support import more_world, staff, token_client, world  # noqa: F401
from marketplace.tests.factories.orders import address_of
from marketplace.tests.factories.payments import won_auction_order


def test_cancelling_puts_the_order_and_its_refusal_through_the_models_rule(
    more_world, seller, buyer
):
    paid = more_world["order"]
    refusal = paid.cancel_refusal(seller)  # the seller of a paid order asks staff instead
    response = token_client(seller).post(f"/api/orders/{paid.number}/cancel/", {}, format="json")
    assert response.status_code in {400, 403}
    assert response.json() == {"message": refusal.message, "code": refusal.code}

    unpaid = more_world["unpaid"]
    assert unpaid.can_cancel(buyer)
    response = token_client(buyer).post(
        f"/api/orders/{unpaid.number}/cancel/", {"reason": "Galti"}, format="json"
    )
    assert response.status_code == 200
    assert response.json()["status"] == Order.Status.CANCELLED
    unpaid.refresh_from_db()
    assert unpaid.status == Order.Status.CANCELLED
    again = token_client(buyer).post(f"/api/orders/{unpaid.number}/cancel/", {}, format="json")
    assert again.json()["code"] == "closed"


def test_only_the_seller_replies_to_feedback_and_only_once(more_world, seller, buyer):
    url = f"/api/orders/{more_world['delivered'].number}/feedback/reply/"
    refused = token_client(buyer).post(url, {"reply": "Mein bhi!"}, format="json")
    assert (refused.status_code, refused.json()["code"]) == (403, "not_seller")
    client = token_client(seller)
    assert client.post(url, {"reply": ""}, format="json").status_code == 400
    replied = client.post(url, {"reply": "Shukriya!"}, format="json")
    assert replied.status_code == 200
    assert replied.json()["seller_reply"] == "Shukriya!"
    public = token_client().get(f"/api/sellers/{seller.pk}/feedback/").json()["results"]
    assert [f["seller_reply"] for f in public] == ["Shukriya!"]
    again = client.post(url, {"reply": "Phir se"}, format="json")
    assert (again.status_code, again.json()["code"]) == (400, "replied")


def test_a_review_is_listed_with_its_summary_and_left_once(more_world, buyer):
    url = f"/api/products/{more_world['delivered_product'].pk}/reviews/"
    review = {"rating": 4, "title": "Acha", "text": "Rang pakka hai."}
    client = token_client(buyer)
    assert client.post(url, review, format="json").status_code == 201
    listed = token_client().get(url).json()
    assert [r["title"] for r in listed["results"]] == ["Acha"]
    assert listed["results"][0]["buyer"] == "b***l"
    assert listed["summary"] == {"average": 4.0, "count": 1}
    again = client.post(url, review, format="json")
    assert (again.status_code, again.json()["code"]) == (400, "already_reviewed")
    out_of_range = client.post(url, {**review, "rating": 6}, format="json")
    assert out_of_range.status_code == 400


def test_reviews_of_a_withdrawn_listing_are_hidden_like_its_page(more_world, seller, buyer):
    from marketplace.services import listings

    product = more_world["delivered_product"]
    listings.withdraw_listing(seller=seller, product=product)
    url = f"/api/products/{product.pk}/reviews/"
    assert token_client(buyer).get(url).status_code == 404
    assert token_client(seller).get(url).status_code == 200


def test_favourites_are_saved_listed_and_forgotten(more_world, buyer):
    client = token_client(buyer)
    other = more_world["delivered_product"]
    assert client.post("/api/favourites/", {"product": other.pk}, format="json").status_code == 201
    listed = [p["id"] for p in client.get("/api/favourites/").json()["results"]]
    assert set(listed) == {more_world["product"].pk, other.pk}
    assert client.delete(f"/api/favourites/{other.pk}/").status_code == 204
    assert client.delete(f"/api/favourites/{other.pk}/").status_code == 404
    assert list(Favourite.objects.filter(user=buyer).values_list("product", flat=True)) == [
        more_world["product"].pk
    ]


def test_a_hidden_product_cannot_be_saved(more_world, seller, buyer):
    from marketplace.services import listings

    product = more_world["delivered_product"]
    listings.withdraw_listing(seller=seller, product=product)
    response = token_client(buyer).post("/api/favourites/", {"product": product.pk}, format="json")
    assert response.status_code == 404


@pytest.mark.django_db
def test_a_won_auction_is_sent_to_the_address_chosen_for_its_checkout(seller, buyer, outsider):
    order = won_auction_order(seller, buyer)
    assert not order.has_shipping_address
    home = address_of(buyer, city_name="Karachi", line1="12 Clifton")
    url = f"/api/checkouts/{order.checkout.number}/address/"
    client = token_client(buyer)

    someone_elses = address_of(outsider)
    refused = client.post(url, {"address": someone_elses.pk}, format="json")
    assert (refused.status_code, refused.json()["code"]) == (400, "bad_address")

    chosen = client.post(url, {"address": home.pk}, format="json")
    assert chosen.status_code == 200
    order.refresh_from_db()
    assert order.has_shipping_address
    assert (order.ship_line1, order.ship_city) == ("12 Clifton", "Karachi")


def test_the_api_imports_no_html_view_but_the_shared_lookups():
    import ast
    from pathlib import Path

    import marketplace.api

    imported = set()
    for path in Path(marketplace.api.__file__).parent.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom) and node.module:
                names = [f"{node.module}.{alias.name}" for alias in node.names]
                imported.update([node.module, *names] if node.module != "marketplace" else names)
            elif isinstance(node, ast.Import):
                imported.update(alias.name for alias in node.names)
    views = {name for name in imported if name.startswith("marketplace.views")}
    assert views <= {"marketplace.views.access"} | {
        name for name in views if name.startswith("marketplace.views.access.")
    }
    assert "marketplace.views.access" in views
