"""Listings: create, edit, withdraw through the service and the seller's pages."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone

from marketplace.exceptions import ListingError
from marketplace.models import Favourite, FixedPriceListing, Product, ProductImage
from marketplace.queries.catalog import clear_reference_cache
from marketplace.services.listings import (
    create_fixed_price_listing,
    relist_listing,
    update_fixed_price_listing,
    withdraw_listing,
)
from marketplace.tests.factories.accounts import SellerFactory
from marketplace.tests.factories.auctions import AuctionListingFactory
from marketplace.tests.factories.catalog import (
    AuctionProductFactory,
    ProductFactory,
    category,
    city,
)
from marketplace.tests.test_images import photo

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _fresh_reference_data():
    # Categories and cities are cached per process; each test database starts afresh.
    clear_reference_cache()
    yield
    clear_reference_cache()


def listing_kwargs(**overrides) -> dict:
    return {
        "title": "Multani blue pottery vase",
        "description": "Hand-painted and glazed.",
        "category": category(),
        "condition": Product.Condition.NEW,
        "city": city("Multan"),
        "price": Decimal("4500.00"),
        "quantity": 2,
        **overrides,
    }


def make_listing(seller, images: int = 1, **overrides) -> Product:
    return create_fixed_price_listing(
        seller=seller, images=[photo() for _ in range(images)], **listing_kwargs(**overrides)
    )


def form_data(**overrides) -> dict:
    return {
        "title": "Phulkari dupatta",
        "description": "Hand-embroidered in silk thread.",
        "category": category("phulkari").pk,
        "condition": "new",
        "city": city("Lahore").pk,
        "price": "6500",
        "quantity": "3",
        "sale_percent": "",
        "sale_starts_at": "",
        "sale_ends_at": "",
        **overrides,
    }


# --- Service ----------------------------------------------------------------------------------


def test_creating_a_listing_stores_product_listing_price_and_photos(seller):
    product = make_listing(seller, images=3)
    assert product.fixed_price.price == Decimal("4500.00")
    assert product.display_price == Decimal("4500.00")
    assert list(product.images.values_list("position", flat=True)) == [0, 1, 2]


def test_a_buyer_cannot_create_a_listing(buyer):
    with pytest.raises(ListingError):
        make_listing(buyer)


def test_a_listing_needs_at_least_one_photo(seller):
    with pytest.raises(ListingError):
        make_listing(seller, images=0)
    assert not Product.objects.exists()


def test_a_listing_cannot_have_nine_photos(seller):
    with pytest.raises(ListingError):
        make_listing(seller, images=9)
    assert not Product.objects.exists()


@pytest.mark.parametrize("price", [Decimal("0"), Decimal("-5"), Decimal("100000000.01")])
def test_the_service_refuses_a_zero_negative_or_absurd_price(seller, price):
    with pytest.raises(ListingError):
        make_listing(seller, price=price)


def test_a_bad_photo_in_the_service_creates_nothing(seller):
    from django.core.files.uploadedfile import SimpleUploadedFile

    with pytest.raises(ListingError):
        create_fixed_price_listing(
            seller=seller,
            images=[photo(), SimpleUploadedFile("x.jpg", b"nope")],
            **listing_kwargs(),
        )
    assert not Product.objects.exists()
    assert not FixedPriceListing.objects.exists()


def test_editing_removes_adds_and_reorders_photos(seller):
    product = make_listing(seller, images=3)
    first, second, third = product.images.all()
    update_fixed_price_listing(
        seller=seller,
        product=product,
        new_images=[photo()],
        remove_image_ids=[second.pk],
        image_order=[third.pk, first.pk],
        **listing_kwargs(title="Renamed vase"),
    )
    images = list(product.images.all())
    assert [i.pk for i in images[:2]] == [third.pk, first.pk]
    assert len(images) == 3
    assert Product.objects.get(pk=product.pk).title == "Renamed vase"


def test_editing_cannot_remove_the_last_photo(seller):
    product = make_listing(seller, images=1)
    with pytest.raises(ListingError):
        update_fixed_price_listing(
            seller=seller,
            product=product,
            remove_image_ids=[product.images.get().pk],
            **listing_kwargs(),
        )
    assert product.images.count() == 1


def test_restocking_a_sold_out_listing_puts_it_back_on_sale(seller):
    product = make_listing(seller)
    FixedPriceListing.objects.filter(pk=product.fixed_price_id).update(
        status="sold_out", quantity=0
    )
    update_fixed_price_listing(seller=seller, product=product, **listing_kwargs(quantity=4))
    assert FixedPriceListing.objects.get(pk=product.fixed_price_id).status == "active"


def test_someone_else_cannot_edit_or_withdraw_a_listing(seller):
    product = make_listing(seller)
    other = SellerFactory()
    with pytest.raises(ListingError):
        update_fixed_price_listing(seller=other, product=product, **listing_kwargs())
    with pytest.raises(ListingError):
        withdraw_listing(seller=other, product=product)


def test_a_withdrawn_listing_leaves_the_visible_products_and_can_be_relisted(seller):
    product = make_listing(seller)
    withdraw_listing(seller=seller, product=product)
    assert not Product.objects.visible().filter(pk=product.pk).exists()
    relist_listing(seller=seller, product=product)
    assert Product.objects.visible().filter(pk=product.pk).exists()


def test_the_database_refuses_a_product_that_is_both_listing_types():
    product = ProductFactory()
    with pytest.raises(IntegrityError), transaction.atomic():
        Product.objects.filter(pk=product.pk).update(auction=AuctionListingFactory())


def test_the_database_refuses_a_product_with_neither_listing_type():
    product = ProductFactory()
    with pytest.raises(IntegrityError), transaction.atomic():
        Product.objects.filter(pk=product.pk).update(fixed_price=None)


# --- Seller pages -----------------------------------------------------------------------------


def test_a_seller_lists_an_item_through_the_form(seller_client, seller):
    data = form_data(images=[photo(), photo("PNG")])
    response = seller_client.post(reverse("listing_create"), data)
    product = Product.objects.get(seller=seller)
    assert response.status_code == 302
    assert response.url == product.get_absolute_url()
    assert product.images.count() == 2


def test_a_buyer_opening_the_sell_page_is_told_how_to_become_a_seller(buyer_client):
    response = buyer_client.get(reverse("listing_create"))
    assert response.status_code == 403
    assert "Open my shop" in response.text


def test_the_form_refuses_a_listing_without_photos(seller_client):
    response = seller_client.post(reverse("listing_create"), form_data())
    assert response.status_code == 200
    assert response.context["form"].errors["images"]
    assert not Product.objects.exists()


def test_the_form_refuses_nine_photos(seller_client):
    response = seller_client.post(
        reverse("listing_create"), form_data(images=[photo() for _ in range(9)])
    )
    assert "at most 8 photos" in str(response.context["form"].errors["images"])
    assert not Product.objects.exists()


def test_the_form_refuses_a_non_image_upload_with_its_name(seller_client):
    from django.core.files.uploadedfile import SimpleUploadedFile

    upload = SimpleUploadedFile("invoice.pdf", b"%PDF-1.4 not an image")
    response = seller_client.post(reverse("listing_create"), form_data(images=[upload]))
    assert "invoice.pdf is not a JPEG, PNG or WebP photo" in response.text
    assert not Product.objects.exists()


@pytest.mark.parametrize("price", ["-100", "0", "abc", "100000000000", "1e9"])
def test_the_form_refuses_a_negative_zero_or_absurd_price(seller_client, price):
    response = seller_client.post(
        reverse("listing_create"), form_data(price=price, images=[photo()])
    )
    assert response.status_code == 200
    assert response.context["form"].errors["price"]


@pytest.mark.parametrize("quantity", ["-1", "0", "10001", "2.5"])
def test_the_form_refuses_a_bad_quantity(seller_client, quantity):
    response = seller_client.post(
        reverse("listing_create"), form_data(quantity=quantity, images=[photo()])
    )
    assert response.context["form"].errors["quantity"]


@pytest.mark.parametrize("percent", ["0", "91", "-10"])
def test_the_form_refuses_a_sale_percent_out_of_range(seller_client, percent):
    data = form_data(
        sale_percent=percent,
        sale_starts_at="2026-12-01T10:00",
        sale_ends_at="2026-12-10T10:00",
        images=[photo()],
    )
    response = seller_client.post(reverse("listing_create"), data)
    assert response.context["form"].errors["sale_percent"]


def test_the_form_refuses_a_sale_ending_before_it_starts(seller_client):
    data = form_data(
        sale_percent="20",
        sale_starts_at="2026-12-10T10:00",
        sale_ends_at="2026-12-01T10:00",
        images=[photo()],
    )
    response = seller_client.post(reverse("listing_create"), data)
    assert response.context["form"].errors["sale_ends_at"]
    assert not Product.objects.exists()


def test_a_sale_is_saved_and_shown_as_the_current_price(seller_client, seller):
    now = timezone.localtime()
    data = form_data(
        sale_percent="20",
        sale_starts_at=(now - timedelta(days=1)).strftime("%Y-%m-%dT%H:%M"),
        sale_ends_at=(now + timedelta(days=1)).strftime("%Y-%m-%dT%H:%M"),
        images=[photo()],
    )
    seller_client.post(reverse("listing_create"), data)
    listing = Product.objects.get(seller=seller).fixed_price
    assert listing.current_price() == Decimal("5200.00")


def test_editing_someone_elses_listing_is_404(client):
    product = ProductFactory()
    client.force_login(SellerFactory())
    assert client.get(reverse("listing_edit", args=[product.pk])).status_code == 404
    assert client.post(reverse("listing_withdraw", args=[product.pk])).status_code == 404


def test_an_invalid_photo_on_edit_keeps_the_existing_photos_and_fields(seller_client, seller):
    from django.core.files.uploadedfile import SimpleUploadedFile

    product = make_listing(seller, images=2)
    [first, _second] = product.images.all()
    data = form_data(
        title="Changed",
        images=[SimpleUploadedFile("bad.png", b"garbage")],
        **{f"remove_{first.pk}": "on"},
    )
    response = seller_client.post(reverse("listing_edit", args=[product.pk]), data)
    assert response.status_code == 200
    assert product.images.count() == 2
    assert Product.objects.get(pk=product.pk).title == "Multani blue pottery vase"


def test_editing_through_the_form_reorders_and_removes_photos(seller_client, seller):
    product = make_listing(seller, images=3)
    a, b, c = product.images.all()
    data = form_data(
        **{
            f"position_{a.pk}": "3",
            f"position_{b.pk}": "1",
            f"position_{c.pk}": "2",
            f"remove_{c.pk}": "on",
        }
    )
    response = seller_client.post(reverse("listing_edit", args=[product.pk]), data)
    assert response.status_code == 302
    assert list(product.images.values_list("pk", flat=True)) == [b.pk, a.pk]


def test_the_form_refuses_to_remove_every_photo(seller_client, seller):
    product = make_listing(seller, images=1)
    only = product.images.get()
    data = form_data(**{f"remove_{only.pk}": "on", f"position_{only.pk}": "1"})
    response = seller_client.post(reverse("listing_edit", args=[product.pk]), data)
    assert response.context["form"].errors["images"]
    assert ProductImage.objects.filter(pk=only.pk).exists()


def test_withdraw_asks_for_confirmation_then_withdraws(seller_client, seller):
    product = make_listing(seller)
    url = reverse("listing_withdraw", args=[product.pk])
    assert "Withdraw this listing?" in seller_client.get(url).text
    assert seller_client.post(url).status_code == 302
    assert FixedPriceListing.objects.get(pk=product.fixed_price_id).status == "withdrawn"


def test_my_listings_shows_every_own_product_and_filters_by_status(seller_client, seller):
    active = make_listing(seller, title="Active vase")
    withdrawn = make_listing(seller, title="Old vase")
    withdraw_listing(seller=seller, product=withdrawn)
    ProductFactory(title="Someone else's vase")
    page = seller_client.get(reverse("dashboard_listings")).text
    assert active.title in page and withdrawn.title in page
    assert "Someone else" not in page
    filtered = seller_client.get(reverse("dashboard_listings"), {"status": "withdrawn"}).text
    assert withdrawn.title in filtered and active.title not in filtered


# --- Product detail, shop and favourites ----------------------------------------------------


def test_a_withdrawn_listing_is_404_for_others_and_visible_to_its_seller(client, seller):
    product = make_listing(seller)
    withdraw_listing(seller=seller, product=product)
    url = reverse("product_detail", args=[product.pk])
    assert client.get(url).status_code == 404
    client.force_login(seller)
    assert "You withdrew this listing" in client.get(url).text


def test_product_detail_offers_buy_now_and_add_to_cart(client, buyer):
    product = ProductFactory()
    client.force_login(buyer)
    page = client.get(reverse("product_detail", args=[product.pk])).text
    assert reverse("buy_now", args=[product.fixed_price_id]) in page
    assert reverse("cart_add", args=[product.fixed_price_id]) in page


def test_product_detail_asks_a_visitor_to_log_in_to_buy(client):
    # The visitor's page is shared (no CSRF token): a link to log in, not a form.
    product = ProductFactory()
    page = client.get(reverse("product_detail", args=[product.pk])).text
    assert reverse("buy_now", args=[product.fixed_price_id]) not in page
    assert f"{reverse('login')}?next={product.get_absolute_url()}" in page.replace("%2F", "/")


def test_product_detail_of_an_auction_redirects_to_the_auction(client):
    product = AuctionProductFactory()
    response = client.get(reverse("product_detail", args=[product.pk]))
    assert response.status_code == 302
    assert response.url == reverse("auction_detail", args=[product.auction_id])


def test_the_shop_page_lists_only_the_shops_visible_listings(client, seller):
    on_sale = make_listing(seller, title="Blue bowl")
    withdrawn = make_listing(seller, title="Hidden plate")
    withdraw_listing(seller=seller, product=withdrawn)
    page = client.get(reverse("shop_detail", args=[seller.seller_profile.slug])).text
    assert on_sale.title in page
    assert withdrawn.title not in page
    assert "Amina Pottery" in page


def test_toggling_the_heart_saves_then_unsaves(buyer_client, buyer):
    product = ProductFactory()
    url = reverse("favourite_toggle", args=[product.pk])
    buyer_client.post(url)
    assert Favourite.objects.filter(user=buyer, product=product).exists()
    buyer_client.post(url)
    assert not Favourite.objects.filter(user=buyer, product=product).exists()


def test_the_heart_over_htmx_answers_only_the_heart(buyer_client):
    product = ProductFactory()
    response = buyer_client.post(
        reverse("favourite_toggle", args=[product.pk]), headers={"HX-Request": "true"}
    )
    assert response.text.strip().startswith(f'<form id="heart-{product.pk}"')
    assert 'aria-pressed="true"' in response.text


def test_the_heart_without_javascript_redirects_back(buyer_client):
    product = ProductFactory()
    response = buyer_client.post(
        reverse("favourite_toggle", args=[product.pk]), {"next": "/products/?q=vase"}
    )
    assert response.url == "/products/?q=vase"


def test_the_heart_refuses_to_redirect_off_site(buyer_client):
    product = ProductFactory()
    response = buyer_client.post(
        reverse("favourite_toggle", args=[product.pk]), {"next": "https://evil.example/"}
    )
    assert response.url == product.get_absolute_url()


def test_an_anonymous_heart_goes_to_login(client):
    product = ProductFactory()
    response = client.post(reverse("favourite_toggle", args=[product.pk]))
    assert response.status_code == 302
    assert response.url.startswith(reverse("login"))
    htmx = client.post(
        reverse("favourite_toggle", args=[product.pk]), headers={"HX-Request": "true"}
    )
    assert htmx.headers["HX-Redirect"].startswith(reverse("login"))


def test_a_withdrawn_product_cannot_be_saved(buyer_client):
    product = ProductFactory(fixed_price__status="withdrawn")
    response = buyer_client.post(reverse("favourite_toggle", args=[product.pk]))
    assert response.status_code == 404


def test_the_saved_page_lists_the_users_favourites(buyer_client, buyer):
    saved = ProductFactory(title="Saved khussa")
    ProductFactory(title="Other rug")
    Favourite.objects.create(user=buyer, product=saved)
    page = buyer_client.get(reverse("favourite_list")).text
    assert "Saved khussa" in page and "Other rug" not in page


def test_home_shows_new_listings_and_categories(client):
    ProductFactory(title="Truck-art kettle")
    page = client.get(reverse("home")).text
    assert "Truck-art kettle" in page
    assert "Pottery and ceramics" in page
    assert "Auctions ending soon" not in page


def test_home_shows_ending_soon_auctions_when_there_are_some(client):
    AuctionProductFactory(title="Antique brass lamp")
    page = client.get(reverse("home")).text
    assert "Auctions ending soon" in page
    assert "Antique brass lamp" in page


# --- Admin ------------------------------------------------------------------------------------


@pytest.fixture
def admin_client_logged_in(client):
    from marketplace.tests.factories.accounts import UserFactory

    admin = UserFactory(username="root", is_staff=True, is_superuser=True)
    client.force_login(admin)
    return client


@pytest.mark.parametrize(
    "model", ["category", "product", "fixedpricelisting", "productimage", "favourite"]
)
def test_the_admin_lists_each_catalogue_model(admin_client_logged_in, model):
    ProductFactory()
    response = admin_client_logged_in.get(reverse(f"admin:marketplace_{model}_changelist"))
    assert response.status_code == 200


def test_the_admin_product_page_shows_its_photos(admin_client_logged_in, seller):
    product = make_listing(seller, images=2)
    response = admin_client_logged_in.get(
        reverse("admin:marketplace_product_change", args=[product.pk])
    )
    assert response.status_code == 200
    assert product.images.first().thumbnail.url in response.text


def test_the_admin_action_withdraws_listings(admin_client_logged_in):
    product = ProductFactory()
    admin_client_logged_in.post(
        reverse("admin:marketplace_product_changelist"),
        {"action": "withdraw_listings", "_selected_action": [product.pk]},
    )
    assert FixedPriceListing.objects.get(pk=product.fixed_price_id).status == "withdrawn"


def test_a_product_saved_by_others_too_is_listed_once(buyer_client, buyer, rival):
    product = ProductFactory(title="Popular shawl")
    Favourite.objects.create(user=rival, product=product)
    Favourite.objects.create(user=buyer, product=product)
    response = buyer_client.get(reverse("favourite_list"))
    assert [p.title for p in response.context["products"]] == ["Popular shawl"]


@pytest.mark.django_db
def test_a_product_cannot_be_both_auction_and_fixed_price_in_the_database():
    product = ProductFactory()
    product.auction = AuctionListingFactory()
    with pytest.raises(IntegrityError), transaction.atomic():
        product.save()


@pytest.mark.django_db
def test_a_product_must_have_one_listing():
    product = ProductFactory()
    with pytest.raises(IntegrityError), transaction.atomic():
        Product.objects.filter(pk=product.pk).update(fixed_price=None)
