"""Pages and API of delivery and cash on delivery (issue 15): the shop settings, the delivery
estimate, COD at checkout, the confirmation (button and signed link) and who sees what."""

import re
from decimal import Decimal
from urllib.parse import urlencode

import pytest
from django.urls import reverse

from marketplace.models import Checkout, DeliveryRate, Order, PaymentAttempt, Product
from marketplace.services import cod_rules, payment_methods
from marketplace.services.cod import confirm_cod_order
from marketplace.tests.api_support import token_client
from marketplace.tests.factories.catalog import city
from marketplace.tests.factories.orders import address_of, cod_order_for, listing_by, shop_delivery

pytestmark = pytest.mark.django_db


@pytest.fixture
def cod_seller(seller):
    shop_delivery(seller, fee="250", cod=True, dispatch_days=1)  # Multan
    return seller


# --- Shop settings ---------------------------------------------------------------------------


def test_the_seller_sets_fees_by_province_and_cash_on_delivery(seller_client, seller):
    from marketplace.models import Province

    punjab = Province.objects.get(name="Punjab")
    response = seller_client.post(
        reverse("shop_settings"),
        {
            "delivery_fee_mode": "province",
            "delivery_fee": "400",
            f"province_{punjab.pk}": "150",
            "dispatch_days": "3",
            "accepts_cod": "on",
        },
    )

    assert response.status_code == 302
    profile = seller.seller_profile
    profile.refresh_from_db()
    assert (profile.delivery_fee_mode, profile.delivery_fee, profile.dispatch_days) == (
        "province",
        Decimal("400.00"),
        3,
    )
    assert profile.accepts_cod and not profile.cod_for_auctions
    assert list(DeliveryRate.objects.values_list("province__name", "fee")) == [
        ("Punjab", Decimal("150.00"))
    ]


def test_by_province_needs_at_least_one_province(seller_client, seller):
    response = seller_client.post(
        reverse("shop_settings"),
        {"delivery_fee_mode": "province", "delivery_fee": "400", "dispatch_days": "2"},
    )

    assert response.status_code == 200
    assert "at least one province" in response.content.decode()


def test_a_buyer_has_no_shop_settings(buyer_client):
    assert buyer_client.get(reverse("shop_settings")).status_code == 403


# --- The estimate --------------------------------------------------------------------------------


def test_the_product_page_shows_the_estimate_from_the_item_to_the_buyers_city(
    cod_seller, buyer, client
):
    address_of(buyer, city_name="Lahore")
    listing = listing_by(cod_seller)
    Product.objects.filter(pk=listing.product.pk).update(city=city("Karachi"))
    client.force_login(buyer)

    page = client.get(listing.product.get_absolute_url()).content.decode()

    # One day to dispatch, then two to four from Karachi to another province.
    assert "Delivery Rs 250 · 3\u20135 days to Lahore" in page
    assert "Cash on delivery available" in page


def test_without_an_address_the_product_page_shows_the_shops_rule(cod_seller, client):
    page = client.get(listing_by(cod_seller).product.get_absolute_url()).content.decode()

    assert "Delivery Rs 250 · 3\u20135 days" in page


def test_the_cart_adds_delivery_to_the_total(cod_seller, buyer_client, buyer):
    address_of(buyer)
    listing = listing_by(cod_seller, price="1000.00")
    buyer_client.post(reverse("cart_add", args=[listing.pk]), {"quantity": 1})

    page = buyer_client.get(reverse("cart_detail")).content.decode()

    assert "Delivery Rs 250 · 2 days to Lahore" in page  # the item is in Lahore too
    assert "Rs 1,250" in page


# --- Checkout ------------------------------------------------------------------------------------


def _checkout_page(client, listing):
    return client.get(reverse("checkout_start") + f"?listing={listing.pk}&quantity=1")


def test_checkout_offers_cod_when_every_shop_accepts_it(cod_seller, buyer_client, buyer):
    address_of(buyer)

    page = _checkout_page(buyer_client, listing_by(cod_seller)).content.decode()

    assert 'id="method-cod" value="cod">' in page or 'value="cod" checked' in page
    assert "cod-unavailable" not in page


def test_checkout_says_why_cod_is_not_offered(seller, buyer_client, buyer):
    shop_delivery(seller, cod=False)
    address_of(buyer)

    page = _checkout_page(buyer_client, listing_by(seller)).content.decode()

    assert "Amina Pottery does not accept cash on delivery." in page
    assert 'value="cod" disabled' in page


def test_checkout_offers_only_the_methods_the_service_allows(
    cod_seller, buyer_client, buyer, monkeypatch
):
    address_of(buyer)
    monkeypatch.setattr(payment_methods, "placeable_methods", lambda: [Checkout.PaymentMethod.CARD])

    page = _checkout_page(buyer_client, listing_by(cod_seller)).content.decode()

    assert 'id="method-card"' in page
    assert "method-cod" not in page and "method-jazzcash" not in page


def test_checkout_offers_the_services_choices_in_its_order_with_cods_reason(
    seller, buyer_client, buyer, settings
):
    settings.JAZZCASH_MERCHANT_ID, settings.JAZZCASH_INTEGRITY_SALT = "MC1", "salt"
    shop_delivery(seller, cod=False)
    address_of(buyer)

    page = _checkout_page(buyer_client, listing_by(seller)).content.decode()

    assert re.findall(r'id="method-(\w+)"', page) == ["card", "jazzcash", "cod"]
    assert 'value="cod" disabled aria-describedby="cod-unavailable"' in page
    assert "Amina Pottery does not accept cash on delivery." in page


def test_payment_choices_name_every_placeable_method_and_refuse_only_cod(seller, buyer, settings):
    settings.JAZZCASH_MERCHANT_ID, settings.JAZZCASH_INTEGRITY_SALT = "MC1", "salt"
    profile = shop_delivery(seller, cod=False)

    choices = payment_methods.payment_choices(
        buyer=buyer, profiles=[profile], total=Decimal("1000.00")
    )

    assert [(c.method, c.refusal and c.refusal.code) for c in choices] == [
        ("card", None),
        ("jazzcash", None),
        ("cod", "cod_not_accepted"),
    ]


def test_checkout_tells_a_buyer_with_refused_parcels(cod_seller, buyer_client, buyer, settings):
    from marketplace.services.cod import record_cod_refusal

    settings.COD_REFUSAL_LIMIT = 1
    record_cod_refusal(cod_order_for(buyer, listing_by(cod_seller)))

    page = _checkout_page(buyer_client, listing_by(cod_seller)).content.decode()

    assert "Cash on delivery is not available to you" in page


@pytest.fixture
def by_province_seller(seller):
    """Rs 150 to Punjab, Rs 400 anywhere else; cash on delivery accepted."""
    shop_delivery(seller, fee="400", by_province={"Punjab": "150"}, cod=True)
    return seller


def _reprice(client, url: str, **params):
    """What htmx sends when the address or the new address's city changes (the form's URL
    with the chosen values added)."""
    return client.get(f"{url}&{urlencode(params)}", headers={"HX-Request": "true"})


def _delivery_and_total(page: str) -> tuple[str, str]:
    delivery = re.search(r'id="basket-delivery">([^<]+)<', page).group(1)
    total = re.search(r'id="basket-total">([^<]+)<', page).group(1)
    return delivery, total


def test_a_new_address_sent_with_a_mistake_is_priced_to_its_province_without_javascript(
    by_province_seller, buyer_client
):
    listing = listing_by(by_province_seller, price="1000.00")

    response = buyer_client.post(
        reverse("checkout_start") + f"?listing={listing.pk}&quantity=1",
        {
            "address-full_name": "Bilal Ahmed",
            "address-phone": "",  # forgotten: the page comes back
            "address-line1": "12 Mall Road",
            "address-city": city("Lahore").pk,
            "expected_total": "1000.00",
            "checkout_key": "c" * 32,
            "payment_method": "cod",
        },
    )

    page = response.content.decode()
    assert response.status_code == 200 and not Checkout.objects.exists()
    assert _delivery_and_total(page) == ("Rs 150", "Rs 1,150")
    assert 'value="cod" checked' in page


def test_choosing_the_new_addresss_city_reprices_the_summary_over_htmx(
    by_province_seller, buyer_client
):
    listing = listing_by(by_province_seller, price="1000.00")
    url = reverse("checkout_start") + f"?listing={listing.pk}&quantity=1"

    before = buyer_client.get(url).content.decode()
    lahore = _reprice(
        buyer_client, url, **{"address-city": city("Lahore").pk, "payment_method": "cod"}
    )
    karachi = _reprice(buyer_client, url, **{"address-city": city("Karachi").pk})

    assert _delivery_and_total(before) == ("up to Rs 400", "Rs 1,400")
    assert (
        "hx-trigger=\"change from:[name='address'], change from:[name='address-city']\"" in before
    )
    page = lahore.content.decode()
    assert "<html" not in page and page.lstrip().startswith(
        '<aside class="card" id="checkout-summary"'
    )
    assert _delivery_and_total(page) == ("Rs 150", "Rs 1,150")
    assert 'id="payment-methods" class="mb-2 text-start" hx-swap-oob="true"' in page
    assert 'value="cod" checked' in page  # the buyer's choice stays
    assert _delivery_and_total(karachi.content.decode()) == ("Rs 400", "Rs 1,400")
    assert lahore["Vary"] and "HX-Request" in lahore["Vary"]


def test_the_province_fee_decides_whether_cod_is_under_the_limit(
    by_province_seller, buyer_client, settings
):
    settings.COD_LIMIT = Decimal("1300.00")  # the most (Rs 1,400) is over; Punjab's (1,150) not
    listing = listing_by(by_province_seller, price="1000.00")
    url = reverse("checkout_start") + f"?listing={listing.pk}&quantity=1"

    page = _reprice(buyer_client, url, **{"address-city": city("Lahore").pk}).content.decode()

    assert 'value="cod" disabled' not in page and 'id="method-cod"' in page


def test_choosing_another_saved_address_reprices_the_summary(
    by_province_seller, buyer_client, buyer
):
    address_of(buyer, is_default=True)  # Lahore, preselected
    karachi = address_of(buyer, city_name="Karachi")
    listing = listing_by(by_province_seller, price="1000.00")
    url = reverse("checkout_start") + f"?listing={listing.pk}&quantity=1"

    first = buyer_client.get(url).content.decode()
    other = _reprice(buyer_client, url, address=karachi.pk)

    assert _delivery_and_total(first) == ("Rs 150", "Rs 1,150")
    assert _delivery_and_total(other.content.decode()) == ("Rs 400", "Rs 1,400")


def test_placing_a_cod_order_takes_no_payment(cod_seller, buyer_client, buyer):
    address = address_of(buyer)
    listing = listing_by(cod_seller, price="1000.00")

    response = buyer_client.post(
        reverse("checkout_start") + f"?listing={listing.pk}&quantity=1",
        {
            "address": address.pk,
            "expected_total": "1000.00",
            "checkout_key": "a" * 32,
            "payment_method": "cod",
        },
    )

    checkout = Checkout.objects.get()
    assert response.status_code == 302
    assert checkout.payment_method == "cod"
    assert checkout.orders.get().status == Order.Status.UNCONFIRMED
    assert not PaymentAttempt.objects.exists()
    page = buyer_client.get(response["Location"]).content.decode()
    assert "Confirm order" in page and "pay-button" not in page


# --- Confirming ----------------------------------------------------------------------------------


def test_the_buyer_confirms_from_the_order_page(cod_seller, buyer_client, buyer):
    order = cod_order_for(buyer, listing_by(cod_seller))
    page = buyer_client.get(reverse("order_detail", args=[order.number])).content.decode()
    assert "cod-confirm-button" in page

    buyer_client.post(reverse("order_cod_confirm", args=[order.number]))

    order.refresh_from_db()
    assert order.status == Order.Status.CONFIRMED


def test_the_seller_waits_for_confirmation_then_sees_it_ready_to_ship(
    cod_seller, seller_client, buyer
):
    order = cod_order_for(buyer, listing_by(cod_seller))
    url = reverse("order_detail", args=[order.number])

    before = seller_client.get(url).content.decode()
    assert "waiting for the buyer to confirm" in before
    assert "ship-form" not in before and "cod-confirm-button" not in before
    seller_client.post(reverse("order_cod_confirm", args=[order.number]))
    order.refresh_from_db()
    assert order.status == Order.Status.UNCONFIRMED  # the seller cannot confirm it

    confirm_cod_order(order=order, by=buyer)
    after = seller_client.get(url).content.decode()
    assert "ship-form" in after and "the courier collects Rs 2,750" in after


def test_the_signed_link_asks_first_and_confirms_on_post_without_login(cod_seller, buyer, client):
    order = cod_order_for(buyer, listing_by(cod_seller))
    url = cod_rules.confirm_url(order)

    assert "cod-confirm-link-button" in client.get(url).content.decode()
    order.refresh_from_db()
    assert order.status == Order.Status.UNCONFIRMED  # opening the link changes nothing

    response = client.post(url)

    order.refresh_from_db()
    assert response.status_code == 200 and order.status == Order.Status.CONFIRMED


def test_a_tampered_or_foreign_link_is_not_found(cod_seller, buyer, rival, client):
    order = cod_order_for(buyer, listing_by(cod_seller))
    other = cod_order_for(rival, listing_by(cod_seller))
    token = cod_rules.confirm_token(other)

    assert client.get(cod_rules.confirm_url(order)[:-3] + "xx/").status_code == 404
    wrong = reverse("order_cod_confirm_link", args=[order.number, token])
    assert client.post(wrong).status_code == 404
    order.refresh_from_db()
    assert order.status == Order.Status.UNCONFIRMED


def test_an_outsider_cannot_confirm(cod_seller, buyer, outsider, client):
    order = cod_order_for(buyer, listing_by(cod_seller))
    client.force_login(outsider)

    assert client.post(reverse("order_cod_confirm", args=[order.number])).status_code == 404


# --- API -----------------------------------------------------------------------------------------


def test_the_api_places_and_confirms_a_cod_order(cod_seller, buyer):
    address_of(buyer)
    listing = listing_by(cod_seller, price="1000.00")
    api = token_client(buyer)

    placed = api.post(
        f"/api/listings/{listing.pk}/purchase/", {"payment_method": "cod"}, format="json"
    )

    body = placed.json()
    assert placed.status_code == 201, body
    assert body["payment_method"] == "cod" and body["payment_url"] is None
    [order] = body["orders"]
    assert (order["status"], order["is_cod"], order["total"]) == ("unconfirmed", True, "1250.00")
    confirmed = api.post(f"/api/orders/{order['number']}/confirm-cod/")
    assert confirmed.json()["status"] == "confirmed"


def test_the_api_refuses_cod_with_the_reason(seller, buyer):
    shop_delivery(seller, cod=False)
    address_of(buyer)

    response = token_client(buyer).post(
        f"/api/listings/{listing_by(seller).pk}/purchase/", {"payment_method": "cod"}, format="json"
    )

    assert response.status_code == 400
    assert response.json()["code"] == "cod_not_accepted"
