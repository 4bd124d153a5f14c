"""The cart, "Buy now" and the checkout page: rules, hostile input and what the buyer sees."""

from decimal import Decimal

import pytest
from django.urls import reverse

from marketplace.exceptions import OutOfStock, PurchaseRejected
from marketplace.models import Address, CartItem, Checkout, FixedPriceListing, Order
from marketplace.services.cart import add_to_cart, remove_cart_item, update_cart_item
from marketplace.tests.factories.accounts import SellerFactory
from marketplace.tests.factories.catalog import city
from marketplace.tests.factories.orders import address_of, listing_by, order_for

pytestmark = pytest.mark.django_db


def messages_of(response) -> list[str]:
    return [str(message) for message in response.context["messages"]]


def flashed(client) -> list[str]:
    """The messages waiting for the next page (read off the cart page, which shows them)."""
    return messages_of(client.get(reverse("cart_detail")))


# --- Services -------------------------------------------------------------------------------


def test_adding_to_the_cart_remembers_the_quantity_and_the_price_seen(seller, buyer):
    vase = listing_by(seller, price="2500")

    item = add_to_cart(user=buyer, listing=vase, quantity=2)

    assert (item.quantity, item.price_when_added) == (2, Decimal("2500.00"))


def test_adding_the_same_item_again_adds_to_the_quantity(seller, buyer):
    vase = listing_by(seller, quantity=5)
    add_to_cart(user=buyer, listing=vase, quantity=2)

    add_to_cart(user=buyer, listing=vase, quantity=1)

    assert CartItem.objects.get(user=buyer, listing=vase).quantity == 3


def test_adding_more_than_the_stock_says_how_many_are_available(seller, buyer):
    vase = listing_by(seller, quantity=2, title="Blue pottery vase")

    with pytest.raises(OutOfStock, match="Only 2 of “Blue pottery vase” available"):
        add_to_cart(user=buyer, listing=vase, quantity=3)
    assert not CartItem.objects.exists()


def test_adding_beyond_the_stock_counts_what_is_already_in_the_cart(seller, buyer):
    vase = listing_by(seller, quantity=2)
    add_to_cart(user=buyer, listing=vase, quantity=2)

    with pytest.raises(OutOfStock, match="already have 2 in your cart"):
        add_to_cart(user=buyer, listing=vase, quantity=1)


def test_a_seller_cannot_put_their_own_listing_in_the_cart(seller):
    with pytest.raises(PurchaseRejected, match="your own listing"):
        add_to_cart(user=seller, listing=listing_by(seller), quantity=1)


@pytest.mark.parametrize("status", ["withdrawn", "sold_out"])
def test_an_unavailable_listing_cannot_go_in_the_cart(seller, buyer, status):
    vase = listing_by(seller, quantity=0 if status == "sold_out" else 2)
    FixedPriceListing.objects.filter(pk=vase.pk).update(status=status)

    with pytest.raises(PurchaseRejected):
        add_to_cart(user=buyer, listing=vase, quantity=1)


@pytest.mark.parametrize("quantity", [0, -1])
def test_adding_zero_or_fewer_is_refused(seller, buyer, quantity):
    with pytest.raises(PurchaseRejected, match="1 or more"):
        add_to_cart(user=buyer, listing=listing_by(seller), quantity=quantity)


def test_a_blocked_buyer_cannot_fill_a_cart(seller, buyer):
    buyer.block("Did not pay")

    with pytest.raises(PurchaseRejected, match="blocked"):
        add_to_cart(user=buyer, listing=listing_by(seller), quantity=1)


def test_updating_a_cart_line_sets_its_quantity(seller, buyer):
    item = add_to_cart(user=buyer, listing=listing_by(seller, quantity=5), quantity=1)

    update_cart_item(item=item, quantity=4)

    item.refresh_from_db()
    assert item.quantity == 4


def test_updating_a_cart_line_beyond_the_stock_is_refused(seller, buyer):
    item = add_to_cart(user=buyer, listing=listing_by(seller, quantity=2), quantity=1)

    with pytest.raises(OutOfStock, match="Only 2"):
        update_cart_item(item=item, quantity=3)
    item.refresh_from_db()
    assert item.quantity == 1


def test_removing_a_cart_line_deletes_it(seller, buyer):
    item = add_to_cart(user=buyer, listing=listing_by(seller), quantity=1)

    remove_cart_item(item=item)

    assert not CartItem.objects.exists()


# --- Adding from the product page -----------------------------------------------------------


def test_add_to_cart_without_javascript_goes_back_with_a_message(buyer_client, seller):
    vase = listing_by(seller, title="Blue pottery vase")

    response = buyer_client.post(reverse("cart_add", args=[vase.pk]), {"quantity": "2"})

    assert response.url == vase.product.get_absolute_url()
    assert CartItem.objects.get().quantity == 2
    assert flashed(buyer_client) == ["Added “Blue pottery vase” to your cart."]


def test_add_to_cart_with_htmx_updates_the_buy_box_and_the_cart_count(buyer_client, seller):
    vase = listing_by(seller)

    response = buyer_client.post(
        reverse("cart_add", args=[vase.pk]), {"quantity": "1"}, headers={"HX-Request": "true"}
    )

    page = response.content.decode()
    assert response.status_code == 200
    assert 'id="buy-box"' in page
    assert "View cart" in page
    assert 'id="cart-count" hx-swap-oob="true"' in page


@pytest.mark.parametrize("quantity", ["0", "-1", "abc", "", "1.5", "1000000000", "10" * 20])
def test_a_bad_quantity_added_to_the_cart_gives_a_message_and_adds_nothing(
    buyer_client, seller, quantity
):
    vase = listing_by(seller, quantity=3)

    response = buyer_client.post(reverse("cart_add", args=[vase.pk]), {"quantity": quantity})

    assert response.url == vase.product.get_absolute_url()
    assert len(flashed(buyer_client)) == 1
    assert not CartItem.objects.exists()


def test_a_bad_quantity_with_htmx_is_shown_in_the_buy_box(buyer_client, seller):
    vase = listing_by(seller, quantity=3)

    response = buyer_client.post(
        reverse("cart_add", args=[vase.pk]),
        {"quantity": "1000000000"},
        headers={"HX-Request": "true"},
    )

    assert response.status_code == 200
    assert "Only 3 of" in response.content.decode()


def test_adding_a_listing_that_does_not_exist_says_so(buyer_client):
    response = buyer_client.post(reverse("cart_add", args=[999999]), {"quantity": "1"})

    assert response.url == reverse("product_list")
    assert flashed(buyer_client) == ["That item does not exist or is no longer for sale."]


def test_add_to_cart_only_accepts_post(buyer_client, seller):
    response = buyer_client.get(reverse("cart_add", args=[listing_by(seller).pk]))

    assert response.status_code == 405


def test_a_seller_adding_their_own_listing_is_told_why_not(seller_client, seller):
    vase = listing_by(seller)

    seller_client.post(reverse("cart_add", args=[vase.pk]), {"quantity": "1"})

    assert "your own listing" in flashed(seller_client)[0]
    assert not CartItem.objects.exists()


# --- The cart page --------------------------------------------------------------------------


def test_the_cart_groups_items_by_seller_with_subtotals(buyer_client, seller, buyer):
    kashif = SellerFactory(username="kashif", seller_profile__shop_name="Kashif Woodworks")
    add_to_cart(user=buyer, listing=listing_by(seller, price="1000"), quantity=2)
    add_to_cart(user=buyer, listing=listing_by(kashif, price="700"), quantity=1)
    add_to_cart(user=buyer, listing=listing_by(seller, price="300"), quantity=1)

    response = buyer_client.get(reverse("cart_detail"))

    basket = response.context["basket"]
    assert [(group.seller, group.subtotal) for group in basket.groups] == [
        (seller, Decimal("2300.00")),
        (kashif, Decimal("700.00")),
    ]
    assert basket.total == Decimal("3000.00")
    page = response.content.decode()
    assert "Amina Pottery" in page and "Kashif Woodworks" in page
    assert "Rs 3,000" in page


def test_the_cart_warns_when_an_item_was_withdrawn(buyer_client, seller, buyer):
    vase = listing_by(seller, title="Blue pottery vase")
    add_to_cart(user=buyer, listing=vase, quantity=1)
    FixedPriceListing.objects.filter(pk=vase.pk).update(status="withdrawn")

    response = buyer_client.get(reverse("cart_detail"))

    assert "“Blue pottery vase” has been withdrawn by the seller." in response.content.decode()
    assert response.context["basket"].total == Decimal("0.00")


def test_the_cart_warns_when_the_stock_fell_below_the_quantity(buyer_client, seller, buyer):
    vase = listing_by(seller, quantity=3, title="Blue pottery vase")
    add_to_cart(user=buyer, listing=vase, quantity=3)
    FixedPriceListing.objects.filter(pk=vase.pk).update(quantity=1)

    response = buyer_client.get(reverse("cart_detail"))

    assert "Only 1 of “Blue pottery vase” available" in response.content.decode()


def test_the_cart_warns_when_the_price_changed_since_adding(buyer_client, seller, buyer):
    vase = listing_by(seller, price="2500")
    add_to_cart(user=buyer, listing=vase, quantity=1)
    FixedPriceListing.objects.filter(pk=vase.pk).update(price=Decimal("2800.00"))

    response = buyer_client.get(reverse("cart_detail"))

    assert "was Rs 2,500 when you added it" in response.content.decode()


def test_an_empty_cart_says_so(buyer_client):
    response = buyer_client.get(reverse("cart_detail"))

    assert "Your cart is empty." in response.content.decode()


def test_changing_a_quantity_without_javascript_redirects_to_the_cart(buyer_client, seller, buyer):
    item = add_to_cart(user=buyer, listing=listing_by(seller, quantity=5), quantity=1)

    response = buyer_client.post(reverse("cart_update", args=[item.pk]), {"quantity": "3"})

    assert response.status_code == 302
    item.refresh_from_db()
    assert item.quantity == 3


def test_changing_a_quantity_with_htmx_returns_the_cart_panel(buyer_client, seller, buyer):
    item = add_to_cart(user=buyer, listing=listing_by(seller, price="1000", quantity=5), quantity=1)

    response = buyer_client.post(
        reverse("cart_update", args=[item.pk]), {"quantity": "2"}, headers={"HX-Request": "true"}
    )

    page = response.content.decode()
    assert page.lstrip().startswith('<div id="cart-panel">')
    assert "Rs 2,000" in page


@pytest.mark.parametrize(
    ("quantity", "message"),
    [
        ("0", "1 or more"),
        ("-1", "1 or more"),
        ("abc", "whole number"),
        ("1000000000", "Only 5 of"),
    ],
)
def test_a_bad_quantity_in_the_cart_is_shown_in_place_with_htmx(
    buyer_client, seller, buyer, quantity, message
):
    item = add_to_cart(user=buyer, listing=listing_by(seller, quantity=5), quantity=1)

    response = buyer_client.post(
        reverse("cart_update", args=[item.pk]),
        {"quantity": quantity},
        headers={"HX-Request": "true"},
    )

    assert response.status_code == 200
    assert message in response.content.decode()
    item.refresh_from_db()
    assert item.quantity == 1


def test_removing_an_item_from_the_cart(buyer_client, seller, buyer):
    item = add_to_cart(user=buyer, listing=listing_by(seller), quantity=1)

    response = buyer_client.post(reverse("cart_remove", args=[item.pk]), follow=True)

    assert "Removed from your cart." in messages_of(response)
    assert not CartItem.objects.exists()


@pytest.mark.parametrize("name", ["cart_update", "cart_remove"])
def test_someone_elses_cart_item_is_not_found(client, seller, buyer, rival, name):
    item = add_to_cart(user=rival, listing=listing_by(seller), quantity=1)
    client.force_login(buyer)

    response = client.post(reverse(name, args=[item.pk]), {"quantity": "2"})

    assert response.status_code == 404
    item.refresh_from_db()
    assert item.quantity == 1


# --- Buy now --------------------------------------------------------------------------------


def test_buy_now_goes_to_checkout_for_that_item_alone(buyer_client, seller, buyer):
    in_cart = listing_by(seller)
    add_to_cart(user=buyer, listing=in_cart, quantity=1)
    vase = listing_by(seller)

    response = buyer_client.post(reverse("buy_now", args=[vase.pk]), {"quantity": "2"})

    assert response.url == f"{reverse('checkout_start')}?listing={vase.pk}&quantity=2"
    summary = buyer_client.get(response.url).context["basket"]
    assert [(line.listing, line.quantity) for line in summary.lines] == [(vase, 2)]
    assert CartItem.objects.filter(user=buyer).count() == 1


@pytest.mark.parametrize("quantity", ["0", "-1", "abc", "1000000000"])
def test_buy_now_with_a_bad_quantity_goes_back_with_a_message(buyer_client, seller, quantity):
    vase = listing_by(seller, quantity=3)

    response = buyer_client.post(reverse("buy_now", args=[vase.pk]), {"quantity": quantity})

    assert response.url == vase.product.get_absolute_url()
    assert len(flashed(buyer_client)) == 1


def test_a_seller_cannot_buy_now_their_own_listing(seller_client, seller):
    vase = listing_by(seller)

    seller_client.post(reverse("buy_now", args=[vase.pk]), {"quantity": "1"})

    assert "your own listing" in flashed(seller_client)[0]


def test_buy_now_on_a_withdrawn_listing_is_refused(buyer_client, seller):
    vase = listing_by(seller, title="Blue pottery vase")
    FixedPriceListing.objects.filter(pk=vase.pk).update(status="withdrawn")

    buyer_client.post(reverse("buy_now", args=[vase.pk]), {"quantity": "1"})

    assert flashed(buyer_client) == ["“Blue pottery vase” has been withdrawn by the seller."]


def test_buy_now_for_a_listing_that_does_not_exist_says_so(buyer_client):
    buyer_client.post(reverse("buy_now", args=[424242]), {"quantity": "1"})

    assert flashed(buyer_client) == ["That item does not exist or is no longer for sale."]


# --- The checkout page ----------------------------------------------------------------------


def test_checkout_shows_the_summary_by_seller_and_the_address_book(buyer_client, seller, buyer):
    address_of(buyer, line1="7 Gulberg Main Boulevard")
    add_to_cart(user=buyer, listing=listing_by(seller, price="1500"), quantity=2)

    response = buyer_client.get(reverse("checkout_start"))

    page = response.content.decode()
    assert "7 Gulberg Main Boulevard" in page
    assert "Order from Amina Pottery" in page
    assert "Rs 3,000" in page


def test_checkout_asks_for_an_address_when_the_buyer_has_none(buyer_client, seller, buyer):
    add_to_cart(user=buyer, listing=listing_by(seller), quantity=1)

    response = buyer_client.get(reverse("checkout_start"))

    assert response.context["address_form"] is not None
    assert 'name="address-line1"' in response.content.decode()


def test_the_first_address_at_checkout_is_prefilled_with_the_buyers_name_and_mobile(
    buyer_client, seller, buyer
):
    buyer.first_name, buyer.last_name, buyer.phone = "Bilal", "Ahmed", "+923001234567"
    buyer.save()
    add_to_cart(user=buyer, listing=listing_by(seller), quantity=1)

    page = buyer_client.get(reverse("checkout_start")).content.decode()

    assert 'name="address-full_name" value="Bilal Ahmed"' in page
    assert 'name="address-phone" value="+923001234567"' in page


def test_placing_the_order_from_the_cart(buyer_client, seller, buyer):
    address = address_of(buyer)
    vase = listing_by(seller, price="1500", quantity=2)
    add_to_cart(user=buyer, listing=vase, quantity=2)

    response = buyer_client.post(
        reverse("checkout_start"), {"address": address.pk, "expected_total": "3000.00"}
    )

    checkout = Checkout.objects.get(buyer=buyer)
    assert response.url == reverse("checkout_detail", args=[checkout.number])
    assert checkout.orders.get().total == Decimal("3000.00")
    assert not CartItem.objects.exists()


def test_placing_the_order_with_a_new_address_saves_it_to_the_address_book(
    buyer_client, seller, buyer
):
    add_to_cart(user=buyer, listing=listing_by(seller), quantity=1)

    response = buyer_client.post(
        reverse("checkout_start"),
        {
            "address-full_name": "Bilal Ahmed",
            "address-phone": "0300-1234567",
            "address-line1": "12 Mall Road",
            "address-city": city("Karachi").pk,
            "address-postal_code": "74000",
        },
    )

    assert response.status_code == 302
    assert Address.objects.get(user=buyer).line1 == "12 Mall Road"
    assert Order.objects.get().ship_province == "Sindh"


def test_a_bad_new_address_is_shown_with_its_errors_and_nothing_is_bought(
    buyer_client, seller, buyer
):
    vase = listing_by(seller)
    add_to_cart(user=buyer, listing=vase, quantity=1)

    response = buyer_client.post(
        reverse("checkout_start"),
        {"address-full_name": "", "address-phone": "12345", "address-postal_code": "abc"},
    )

    assert response.status_code == 200
    assert response.context["address_form"].errors
    assert not Order.objects.exists()
    assert CartItem.objects.filter(user=buyer).exists()


@pytest.mark.parametrize("address", ["", "abc", "999999"])
def test_a_bad_address_choice_is_refused_in_place(buyer_client, seller, buyer, address):
    address_of(buyer)
    add_to_cart(user=buyer, listing=listing_by(seller), quantity=1)

    response = buyer_client.post(reverse("checkout_start"), {"address": address})

    assert response.status_code == 200
    assert response.context["form"].errors["address"]
    assert not Order.objects.exists()


def test_someone_elses_address_cannot_be_chosen(buyer_client, seller, buyer, outsider):
    address_of(buyer)
    theirs = address_of(outsider, line1="Omar's house")
    add_to_cart(user=buyer, listing=listing_by(seller), quantity=1)

    response = buyer_client.post(reverse("checkout_start"), {"address": theirs.pk})

    assert "Choose one of your own addresses." in response.content.decode()
    assert not Order.objects.exists()


def test_an_item_sold_out_meanwhile_is_explained_and_nothing_is_bought(
    buyer_client, seller, buyer, rival
):
    address = address_of(buyer)
    vase = listing_by(seller, quantity=1, title="Blue pottery vase")
    add_to_cart(user=buyer, listing=vase, quantity=1)
    summary = buyer_client.get(reverse("checkout_start")).context["basket"]
    order_for(rival, vase)

    response = buyer_client.post(
        reverse("checkout_start"), {"address": address.pk, "expected_total": str(summary.total)}
    )

    assert response.status_code == 200
    assert "Blue pottery vase" in response.content.decode()
    assert not Order.objects.filter(buyer=buyer).exists()


def test_a_price_change_before_placing_asks_the_buyer_to_confirm_again(buyer_client, seller, buyer):
    address = address_of(buyer)
    vase = listing_by(seller, price="1000")
    add_to_cart(user=buyer, listing=vase, quantity=1)
    FixedPriceListing.objects.filter(pk=vase.pk).update(price=Decimal("1200.00"))

    response = buyer_client.post(
        reverse("checkout_start"), {"address": address.pk, "expected_total": "1000.00"}
    )

    assert "A price changed while you were checking out" in response.content.decode()
    assert not Order.objects.exists()


def test_buy_now_checkout_buys_only_that_item_and_keeps_the_cart(buyer_client, seller, buyer):
    address = address_of(buyer)
    in_cart = listing_by(seller)
    add_to_cart(user=buyer, listing=in_cart, quantity=1)
    vase = listing_by(seller, price="900")
    url = f"{reverse('checkout_start')}?listing={vase.pk}&quantity=1"

    buyer_client.post(url, {"address": address.pk, "expected_total": "900.00"})

    assert [item.listing for item in Order.objects.get().items.all()] == [vase]
    assert CartItem.objects.filter(user=buyer, listing=in_cart).exists()


def test_checkout_with_an_empty_cart_goes_back_to_the_cart(buyer_client):
    response = buyer_client.get(reverse("checkout_start"))

    assert response.url == reverse("cart_detail")


@pytest.mark.parametrize(
    "query", ["listing=abc", "listing=999999", "listing=-3", "listing=" + "9" * 40]
)
def test_checkout_for_a_listing_that_does_not_exist_says_so(buyer_client, query):
    response = buyer_client.get(f"{reverse('checkout_start')}?{query}")

    assert response.status_code == 302
    assert flashed(buyer_client) == ["That item does not exist or is no longer for sale."]


@pytest.mark.parametrize("quantity", ["abc", "0", "-2"])
def test_checkout_with_a_bad_quantity_in_the_link_says_so(buyer_client, seller, quantity):
    vase = listing_by(seller)

    response = buyer_client.get(
        f"{reverse('checkout_start')}?listing={vase.pk}&quantity={quantity}"
    )

    assert response.url == vase.product.get_absolute_url()
    assert len(flashed(buyer_client)) == 1


def test_removing_with_htmx_returns_the_cart_panel_and_the_new_cart_count(
    buyer_client, seller, buyer
):
    item = add_to_cart(user=buyer, listing=listing_by(seller), quantity=1)

    response = buyer_client.post(
        reverse("cart_remove", args=[item.pk]), headers={"HX-Request": "true"}
    )

    page = response.content.decode()
    assert "Your cart is empty." in page
    assert '<span id="cart-count" hx-swap-oob="true"></span>' in page


def test_a_first_address_given_at_checkout_becomes_the_default(buyer_client, seller, buyer):
    add_to_cart(user=buyer, listing=listing_by(seller), quantity=1)

    buyer_client.post(
        reverse("checkout_start"),
        {
            "address-full_name": "Bilal Ahmed",
            "address-phone": "03001234567",
            "address-line1": "12 Mall Road",
            "address-city": city("Lahore").pk,
        },
    )

    assert Address.objects.get(user=buyer).is_default


def test_a_double_click_on_place_order_places_one_order(buyer_client, seller, buyer):
    address = address_of(buyer)
    vase = listing_by(seller, price="900", quantity=3)
    url = f"{reverse('checkout_start')}?listing={vase.pk}&quantity=1"
    key = buyer_client.get(url).context["checkout_key"]
    form = {"address": address.pk, "expected_total": "900.00", "checkout_key": key}

    first = buyer_client.post(url, form)
    second = buyer_client.post(url, form)

    assert first.url == second.url
    assert Order.objects.count() == 1


def test_resubmitting_a_placed_cart_checkout_shows_the_placed_checkout(buyer_client, seller, buyer):
    address = address_of(buyer)
    add_to_cart(user=buyer, listing=listing_by(seller, price="900"), quantity=1)
    key = buyer_client.get(reverse("checkout_start")).context["checkout_key"]
    form = {"address": address.pk, "expected_total": "900.00", "checkout_key": key}
    first = buyer_client.post(reverse("checkout_start"), form)

    second = buyer_client.post(reverse("checkout_start"), form)

    assert second.url == first.url
    assert Order.objects.count() == 1
