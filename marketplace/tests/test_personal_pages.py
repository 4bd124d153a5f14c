"""Signed-in visitors' catalogue pages from one shared copy (marketplace/personal.py, issue 20):
each sees the page rendered for them, nobody's parts reach anyone else, nothing is stale."""

import pickle
import re
from decimal import Decimal

import pytest
from django.core.cache import cache
from django.test import Client
from django.urls import reverse
from django.utils.translation import gettext, override

from marketplace.models import Favourite, Order
from marketplace.page_cache import KEY_PREFIX
from marketplace.personal import STAND_IN_PK
from marketplace.services.fulfilment import confirm_delivery, mark_shipped
from marketplace.tests.auction_helpers import bid, make_auction
from marketplace.tests.factories.orders import address_of, listing_by, order_for, shop_delivery

LANGUAGES = ["en", "ur"]


@pytest.fixture
def shared(settings):
    settings.PAGE_CACHE_SECONDS = 5
    return settings


@pytest.fixture
def scene(seller, buyer, rival):
    """Amina's shop (delivery priced by province), a listing Bilal saved, an auction Bilal
    leads and Rabia was outbid on; Bilal lives in Lahore."""
    shop_delivery(seller, fee="300", by_province={"Punjab": "150"}, cod=True)
    listing = listing_by(seller, title="Multani blue pottery vase").product
    auction = make_auction(seller, title="Camel skin lamp")
    bid(auction, rival, "1100")
    bid(auction, buyer, "1500")
    Favourite.objects.create(user=buyer, product=listing)
    address_of(buyer)
    return {"listing": listing, "auction": auction}


def page_urls(scene, seller) -> list[str]:
    return [
        reverse("home"),
        reverse("product_list"),
        reverse("product_list") + "?q=vase&sort=newest",
        scene["listing"].get_absolute_url(),
        reverse("auction_detail", args=[scene["auction"].pk]),
        reverse("auction_list"),
        reverse("shop_detail", args=[seller.seller_profile.slug]),
        reverse("help"),
    ]


def normalised(body: str) -> str:
    """The page without what differs between any two responses (token, nonce, clock)."""
    body = re.sub(r'(name="csrfmiddlewaretoken" value=")[^"]+', r"\1TOKEN", body)
    body = re.sub(r'("X-CSRFToken": ")[^"]+', r"\1TOKEN", body)
    body = re.sub(r'nonce="[^"]+"', 'nonce="NONCE"', body)
    body = re.sub(r'data-server-now="[^"]+"', "", body)
    return re.sub(r"\s+", " ", body)


def visit(client, url, language="en"):
    client.cookies["django_language"] = language
    response = client.get(url)
    assert response.status_code == 200, url
    return response


def member_entries() -> list[dict]:
    store = cache._cache  # the test's LocMemCache
    return [
        cache.get(key.split(":", 2)[2]) for key in list(store) if f"{KEY_PREFIX}page:member:" in key
    ]


@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.parametrize("who", ["buyer", "rival", "seller"])
def test_a_page_from_the_shared_copy_is_the_page_rendered_for_them(
    client, settings, scene, seller, buyer, rival, who, language
):
    user = {"buyer": buyer, "rival": rival, "seller": seller}[who]
    client.force_login(user)
    urls = page_urls(scene, seller)
    own = {url: normalised(visit(client, url, language).text) for url in urls}
    settings.PAGE_CACHE_SECONDS = 5
    visit(Client(), urls[0], language)  # a visitor's page beside them changes nothing
    for url in urls:
        visit(client, url, language)  # the copy is rendered (for nobody), then filled in
        again = visit(client, url, language)
        if again.has_header("X-Page-Cache"):
            assert again["X-Page-Cache"] == "hit", url
        assert normalised(again.text) == own[url], url


def test_two_users_share_one_copy_and_see_only_their_own_parts(client, shared, scene, buyer, rival):
    url = reverse("product_list")
    client.force_login(buyer)
    first = visit(client, url)
    other = Client()
    other.force_login(rival)
    second = visit(other, url)
    assert (first["X-Page-Cache"], second["X-Page-Cache"]) == ("miss", "hit")
    saved = f'id="heart-{scene["listing"].pk}"'
    assert "Bilal" in first.text and "Bilal" not in second.text
    assert "Rabia" in second.text and "Rabia" not in first.text
    assert _heart(first.text, saved) == "true"
    assert _heart(second.text, saved) == "false"
    assert _token(first.text) != _token(second.text)
    assert first.cookies["csrftoken"].value != second.cookies["csrftoken"].value


def _heart(body: str, marker: str) -> str:
    form = body[body.index(marker) :]
    return re.search(r'aria-pressed="(\w+)"', form).group(1)


def _token(body: str) -> str:
    return re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', body).group(1)


def test_the_shared_copy_holds_nothing_personal(client, shared, scene, seller, buyer):
    client.force_login(buyer)
    tokens = [_token(visit(client, url).text) for url in page_urls(scene, seller)[:5]]
    entries = member_entries()
    assert len(entries) == 5
    secret = client.cookies["csrftoken"].value
    for entry in entries:
        body = entry["body"].decode()
        stored = pickle.dumps(entry)
        for personal in ("Bilal", "bilal", "12 Mall Road", secret, *tokens):
            assert personal.encode() not in stored
        assert "to Lahore" not in body  # his city, in the delivery estimate
        assert 'aria-pressed="true"' not in body
        assert "You are leading" not in body
        assert "csrfmiddlewaretoken" not in body or entry["csrf"] in body


def test_a_seller_on_their_own_listing_gets_their_own_page(client, shared, scene, seller, buyer):
    url = scene["listing"].get_absolute_url()
    client.force_login(buyer)
    assert "Edit listing" not in visit(client, url).text
    client.force_login(seller)
    page = visit(client, url)
    assert "Edit listing" in page.text
    assert not page.has_header("X-Page-Cache")
    auction = visit(client, reverse("auction_detail", args=[scene["auction"].pk])).text
    assert "This is your auction: you cannot bid on it." in auction


def test_the_viewer_notes_are_each_bidders_own(client, shared, scene, buyer, rival):
    url = reverse("auction_detail", args=[scene["auction"].pk])
    pages = {}
    for user in (buyer, rival):
        client.force_login(user)
        pages[user.username] = visit(client, url).text
    leading = re.compile(r'data-viewer-note="leading" class="[^"]+" >')
    outbid = re.compile(r'data-viewer-note="outbid" class="[^"]+" >')
    assert leading.search(pages["bilal"]) and not outbid.search(pages["bilal"])
    assert outbid.search(pages["rabia"]) and not leading.search(pages["rabia"])


def test_the_delivery_estimate_is_to_each_buyers_city(client, shared, scene, buyer, rival):
    url = scene["listing"].get_absolute_url()
    client.force_login(rival)
    assert "to Lahore" not in visit(client, url).text
    client.force_login(buyer)
    page = visit(client, url)
    assert page["X-Page-Cache"] == "hit"
    assert "to Lahore" in page.text


def test_a_buyer_who_received_the_item_may_review_it(client, shared, seller, buyer, rival):
    listing = listing_by(seller)
    order = order_for(buyer, listing)
    Order.objects.filter(pk=order.pk).update(status=Order.Status.PAID)
    mark_shipped(
        order=Order.objects.get(pk=order.pk), by=seller, courier="TCS", tracking_number="TRK1"
    )
    confirm_delivery(order=Order.objects.get(pk=order.pk), by=buyer)
    url = listing.product.get_absolute_url()
    client.force_login(rival)
    assert "Write a review" not in visit(client, url).text
    client.force_login(buyer)
    page = visit(client, url)
    assert page["X-Page-Cache"] == "hit"
    assert "Write a review" in page.text


def test_the_token_of_a_page_from_the_copy_is_accepted(shared, scene, buyer):
    strict = Client(enforce_csrf_checks=True)
    strict.force_login(buyer)
    url = reverse("product_list")
    visit(strict, url)
    page = visit(strict, url)
    assert page["X-Page-Cache"] == "hit"
    response = strict.post(
        reverse("favourite_toggle", args=[scene["listing"].pk]),
        {"csrfmiddlewaretoken": _token(page.text), "next": url},
    )
    assert response.status_code == 302
    assert not Favourite.objects.filter(user=buyer, product=scene["listing"]).exists()


def test_no_stand_in_row_is_ever_written(client, shared, scene, buyer, seller):
    client.force_login(buyer)
    for url in page_urls(scene, seller):
        visit(client, url)
    assert not Favourite.objects.filter(user_id=STAND_IN_PK).exists()


# --- Nothing stale ---------------------------------------------------------------------------


@pytest.mark.parametrize("language", LANGUAGES)
def test_a_bid_shows_at_once_to_signed_in_viewers(
    client, shared, scene, buyer, rival, language, django_capture_on_commit_callbacks
):
    url = reverse("auction_detail", args=[scene["auction"].pk])
    client.force_login(rival)
    visit(client, url, language)
    with django_capture_on_commit_callbacks(execute=True):
        bid(scene["auction"], rival, "2000")
    page = visit(client, url, language)
    with override(language):
        leading = gettext("You are leading: the highest bid is yours.")
    assert leading in page.text
    assert re.search(r'data-viewer-note="leading" class="[^"]+" >', page.text)
    client.force_login(buyer)
    page = visit(client, url, language)
    assert page["X-Page-Cache"] == "hit"
    assert re.search(r'data-viewer-note="outbid" class="[^"]+" >', page.text)


@pytest.mark.parametrize("language", LANGUAGES)
def test_a_new_price_and_the_last_unit_sold_show_at_once_when_signed_in(
    client, shared, seller, buyer, rival, language, django_capture_on_commit_callbacks
):
    from marketplace.models import FixedPriceListing
    from marketplace.services.orders import place_checkout

    listing = listing_by(seller, quantity=1, price="2500")
    client.force_login(rival)
    url = listing.product.get_absolute_url()
    with override(language):
        buy, none_left = gettext("Buy now"), gettext("None left")
    assert buy in visit(client, url, language).text
    with django_capture_on_commit_callbacks(execute=True):
        place_checkout(
            buyer=buyer,
            lines=[(FixedPriceListing.objects.get(pk=listing.pk), 1)],
            address=address_of(buyer),
        )
    page = visit(client, url, language)
    assert none_left in page.text and buy not in page.text
    assert page["X-Page-Cache"] == "miss"
    FixedPriceListing.objects.filter(pk=listing.pk).update(price=Decimal("1999"))
    assert visit(client, url, language)["X-Page-Cache"] == "hit"  # unannounced: the backstop


# --- Queries ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("page", "most"),
    [("home", 4), ("browse", 4), ("product", 6), ("auction", 5)],
)
def test_a_signed_in_page_from_the_copy_runs_few_queries(
    client, shared, scene, buyer, page, most, django_assert_max_num_queries
):
    url = {
        "home": reverse("home"),
        "browse": reverse("product_list") + "?sort=newest",
        "product": scene["listing"].get_absolute_url(),
        "auction": reverse("auction_detail", args=[scene["auction"].pk]),
    }[page]
    client.force_login(buyer)
    visit(client, url)
    with django_assert_max_num_queries(most):
        assert visit(client, url)["X-Page-Cache"] == "hit"


def test_the_navigation_counts_are_each_users_own(client, shared, seller, buyer, rival):
    from marketplace.services.cart import add_to_cart

    listing = listing_by(seller, quantity=5)
    add_to_cart(user=buyer, listing=listing, quantity=2)
    badges = {}
    for user in (buyer, rival, buyer):
        client.force_login(user)
        page = visit(client, reverse("home"))
        badges[user.username] = re.search(r'<span id="cart-count">(.*?)</span>', page.text)
    assert page["X-Page-Cache"] == "hit"
    assert '<span class="badge rounded-pill text-bg-success">1' in badges["bilal"].group(0)
    assert badges["rabia"].group(1) == ""


def test_a_kept_navigation_bar_is_the_one_rendered_for_the_request(rf, seller, buyer):
    from django.contrib.messages.storage.fallback import FallbackStorage
    from django.template import RequestContext
    from django.template.loader import get_template

    from marketplace import fragments

    fragments.clear()
    template = get_template("marketplace/_navbar.html").template
    for user, url in [
        (buyer, "/products/?q=kh%C3%BCssa+%22red%22&sort=newest"),
        (buyer, "/products/?q=%3Cb%3Ephulkari&page=2"),
        (seller, "/auctions/"),
        (buyer, "/"),
    ]:
        request = rf.get(url)
        request.user = user
        request.session = {}
        request._messages = FallbackStorage(request)
        context = RequestContext(request)
        with context.bind_template(template):
            kept = str(fragments.navbar(context))
            own = template.render(context)
        assert normalised(kept) == normalised(own), url
    assert len(fragments._navbars.items) == 2  # one per user: the same counts throughout


def test_a_statement_built_once_runs_with_each_callers_ids(seller, buyer, rival):
    from marketplace.models import Bid
    from marketplace.queries.prepared import first_row

    auction = make_auction(seller)
    bid(auction, buyer, "1100")

    def build(auction_id, bidder_id):
        return Bid.objects.filter(auction_id=auction_id, bidder_id=bidder_id).values_list("amount")

    assert first_row("test-bid", Bid, build, auction.pk, buyer.pk) == (Decimal("1100.00"),)
    assert first_row("test-bid", Bid, build, auction.pk, rival.pk) is None
    with pytest.raises(ValueError):
        first_row("test-no-id", Bid, lambda _id: Bid.objects.values_list("pk"), 1)
