"""Shared anonymous pages (marketplace/page_cache.py, issue 20): served from the cache, never
stale after a change made through the services, never personal."""

import re
import threading
import time
from datetime import timedelta
from decimal import Decimal

import pytest
from django.contrib.auth.models import AnonymousUser
from django.http import HttpResponse
from django.test import RequestFactory
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import override

from marketplace import page_cache
from marketplace.models import AuctionListing
from marketplace.page_cache import NONCE_PLACEHOLDER, catalogue_changed, shared_page
from marketplace.services.closing import close_auctions
from marketplace.services.listings import update_fixed_price_listing
from marketplace.services.orders import place_checkout
from marketplace.tests.auction_helpers import bid, make_auction
from marketplace.tests.factories.catalog import category, city
from marketplace.tests.factories.orders import address_of
from marketplace.tests.test_images import photo

LANGUAGES = ["en", "ur"]


@pytest.fixture(autouse=True)
def shared_pages(settings):
    settings.PAGE_CACHE_SECONDS = 5


@pytest.fixture
def listing(seller):
    from marketplace.services.listings import create_fixed_price_listing

    return create_fixed_price_listing(
        seller=seller,
        title="Multani blue pottery vase",
        description="Hand-painted.",
        category=category(),
        condition="new",
        city=city("Multan"),
        price=Decimal("2500"),
        quantity=1,
        images=[photo()],
    )


def change_price(seller, listing, price: str) -> None:
    update_fixed_price_listing(
        seller=seller,
        product=listing,
        title=listing.title,
        description=listing.description,
        category=listing.category,
        condition=listing.condition,
        city=listing.city,
        price=Decimal(price),
        quantity=1,
    )


def get(client, url, language="en", **headers):
    client.cookies["django_language"] = language
    return client.get(url, **headers)


def pkr(amount: str, language: str) -> str:
    """The amount as the page writes it in `language` (Urdu pages keep Western digits)."""
    from marketplace.money import format_pkr

    with override(language):
        return format_pkr(Decimal(amount))


def assert_cached(client, url, language="en"):
    first = get(client, url, language)
    again = get(client, url, language)
    assert first.status_code == again.status_code == 200
    assert first["X-Page-Cache"] == "miss"
    assert again["X-Page-Cache"] == "hit"
    return again.text


CATALOGUE = ["home", "product_list", "auction_list", "help"]


@pytest.mark.parametrize("name", CATALOGUE)
@pytest.mark.parametrize("language", LANGUAGES)
def test_anonymous_catalogue_pages_come_from_the_cache(client, db, name, language):
    body = assert_cached(client, reverse(name), language)
    assert f'<html lang="{language}"' in body


def test_product_shop_and_auction_pages_come_from_the_cache(client, seller, listing):
    auction = make_auction(seller)
    for url in (
        listing.get_absolute_url(),
        reverse("shop_detail", args=[seller.seller_profile.slug]),
        reverse("auction_detail", args=[auction.pk]),
        reverse("product_list") + "?q=vase&sort=newest",
    ):
        assert_cached(client, url)


def test_each_language_and_query_has_its_own_page(client, db):
    english = get(client, reverse("product_list") + "?sort=newest", "en")
    urdu = get(client, reverse("product_list") + "?sort=newest", "ur")
    other = get(client, reverse("product_list") + "?sort=price_asc", "en")
    assert urdu["X-Page-Cache"] == other["X-Page-Cache"] == "miss"
    assert 'lang="ur"' in urdu.text and 'lang="en"' in english.text


def test_each_address_the_site_answers_on_has_its_own_page(client, settings, listing):
    settings.ALLOWED_HOSTS = ["madeinpk.pk", "www.madeinpk.pk"]
    url = listing.get_absolute_url()
    for host in ("madeinpk.pk", "www.madeinpk.pk", "madeinpk.pk"):
        for secure in (True, False):
            scheme = "https" if secure else "http"
            first = client.get(url, headers={"host": host}, secure=secure)
            again = client.get(url, headers={"host": host}, secure=secure)
            assert again["X-Page-Cache"] == "hit"
            for body in (first.text, again.text):
                assert f'content="{scheme}://{host}{url}"' in body
                for other in {"https://madeinpk.pk", "https://www.madeinpk.pk"} - {
                    f"{scheme}://{host}"
                }:
                    assert f"{other}{url}" not in body


def test_a_shared_page_carries_no_csrf_token_or_cookie(client, seller, listing):
    auction = make_auction(seller)
    for url in (reverse("home"), listing.get_absolute_url(), auction.product.get_absolute_url()):
        response = client.get(url, follow=True)
        body = client.get(response.request["PATH_INFO"]).text
        assert "csrfmiddlewaretoken" not in body
        assert "X-CSRFToken" not in body
        assert "csrftoken" not in client.cookies


def test_a_visitor_switches_language_without_a_token(db):
    from django.test import Client

    strict = Client(enforce_csrf_checks=True)
    response = strict.post(reverse("set_language"), {"language": "ur", "next": "/"})
    assert response.status_code == 302
    assert response.cookies["django_language"].value == "ur"


def test_a_signed_in_user_still_needs_the_token_to_switch_language(buyer):
    from django.test import Client

    strict = Client(enforce_csrf_checks=True)
    strict.force_login(buyer)
    response = strict.post(reverse("set_language"), {"language": "ur", "next": "/"})
    assert response.status_code == 403
    buyer.refresh_from_db()
    assert buyer.language != "ur"


def test_a_signed_in_user_never_gets_the_visitors_page(client, buyer, listing):
    url = listing.get_absolute_url()
    assert_cached(client, url)
    client.force_login(buyer)
    page = client.get(url)
    # Their own page, filled in from the members' copy (test_personal_pages.py).
    assert page["X-Page-Cache"] == "miss"
    assert "Log in to buy" not in page.text
    assert "bilal" in page.text.lower()
    assert "csrfmiddlewaretoken" in page.text
    assert page["Cache-Control"] == "private, no-store"


def test_a_visitor_never_gets_a_signed_in_users_page(client, buyer, listing):
    url = listing.get_absolute_url()
    client.force_login(buyer)
    client.get(url)
    client.logout()
    first = client.get(url)
    assert first["X-Page-Cache"] == "miss"
    again = client.get(url)
    assert again["X-Page-Cache"] == "hit"
    assert "bilal" not in again.text.lower()


def test_a_visitor_with_a_message_waiting_gets_their_own_page(client, db):
    assert_cached(client, reverse("home"))
    from django.contrib.messages.storage.cookie import CookieStorage

    storage = CookieStorage(RequestFactory().get("/"))
    response = HttpResponse()
    storage.add(20, "You have been logged out.")
    storage.update(response)
    client.cookies["messages"] = response.cookies["messages"].value
    page = client.get(reverse("home"))
    assert not page.has_header("X-Page-Cache")
    assert "You have been logged out." in page.text


# --- Nothing stale ---------------------------------------------------------------------------


@pytest.mark.parametrize("language", LANGUAGES)
def test_a_new_price_shows_at_once(
    client, seller, listing, language, django_capture_on_commit_callbacks
):
    pages = [listing.get_absolute_url(), reverse("product_list"), reverse("home")]
    for url in pages:
        assert pkr("2500", language) in assert_cached(client, url, language)
    with django_capture_on_commit_callbacks(execute=True):
        change_price(seller, listing, "1999")
    for url in pages:
        body = get(client, url, language).text
        assert pkr("1999", language) in body, url
        assert pkr("2500", language) not in body, url


@pytest.mark.parametrize("language", LANGUAGES)
def test_a_bid_shows_at_once(client, seller, buyer, language, django_capture_on_commit_callbacks):
    auction = make_auction(seller, starting_price="1000")
    pages = [reverse("auction_detail", args=[auction.pk]), reverse("auction_list")]
    for url in pages:
        assert pkr("1000", language) in assert_cached(client, url, language)
    with django_capture_on_commit_callbacks(execute=True):
        bid(auction, buyer, "1500")
    for url in pages:
        body = get(client, url, language).text
        assert pkr("1500", language) in body, url


@pytest.mark.parametrize("language", LANGUAGES)
def test_selling_the_last_unit_shows_sold_out_at_once(
    client, buyer, listing, language, django_capture_on_commit_callbacks
):
    from marketplace.models import FixedPriceListing

    url = listing.get_absolute_url()
    with override(language):
        from django.utils.translation import gettext

        log_in_to_buy, none_left = gettext("Log in to buy"), gettext("None left")
    assert log_in_to_buy in assert_cached(client, url, language)
    with django_capture_on_commit_callbacks(execute=True):
        place_checkout(
            buyer=buyer,
            lines=[(FixedPriceListing.objects.get(pk=listing.fixed_price_id), 1)],
            address=address_of(buyer),
        )
    body = get(client, url, language).text
    assert none_left in body
    assert log_in_to_buy not in body


@pytest.mark.parametrize("language", LANGUAGES)
def test_an_ended_auction_shows_at_once(
    client, seller, language, django_capture_on_commit_callbacks
):
    auction = make_auction(seller)
    url = reverse("auction_detail", args=[auction.pk])
    with override(language):
        from django.utils.translation import gettext

        unsold = gettext("It did not sell.")
    assert unsold not in assert_cached(client, url, language)
    AuctionListing.objects.filter(pk=auction.pk).update(ends_at=timezone.now())
    with django_capture_on_commit_callbacks(execute=True):
        assert close_auctions(auction_ids=[auction.pk])
    page = get(client, url, language)
    assert page["X-Page-Cache"] == "miss"
    assert unsold in page.text


def test_a_change_no_service_announced_shows_within_the_max_age(client, settings, listing):
    from marketplace.models import FixedPriceListing

    settings.PAGE_CACHE_SECONDS = 1
    url = listing.get_absolute_url()
    assert_cached(client, url)
    FixedPriceListing.objects.filter(pk=listing.fixed_price_id).update(price=Decimal("1234"))
    assert pkr("1234", "en") not in get(client, url).text  # the backstop: at most a second
    time.sleep(1.1)
    assert pkr("1234", "en") in get(client, url).text


def past_freshness(client, url, *, rendered_seconds_ago: float = 0) -> None:
    """Make the stored copy of `url` due (its freshness over), rendered that long ago."""
    from django.core.cache import cache

    key = page_cache._page_key(client.get(url).wsgi_request)
    entry = cache.get(key)
    entry["fresh_until"] = time.time() - 0.1
    entry["rendered_at"] -= rendered_seconds_ago
    cache.set(key, entry, 10)


@pytest.mark.parametrize("name", ["product", "auction", "list"])
def test_a_copy_whose_products_are_unchanged_is_served_again_after_one_check(
    client, seller, listing, name, django_assert_max_num_queries
):
    auction = make_auction(seller, title="Brass lamp")
    url = {
        "product": listing.get_absolute_url(),
        "auction": reverse("auction_detail", args=[auction.pk]),
        "list": reverse("product_list"),
    }[name]
    first = assert_cached(client, url)
    past_freshness(client, url)
    with django_assert_max_num_queries(1):  # the products' rows, not a render
        again = get(client, url)
    assert again["X-Page-Cache"] == "checked"
    assert again.text == first
    assert get(client, url)["X-Page-Cache"] == "hit"  # fresh again


@pytest.mark.parametrize("language", LANGUAGES)
def test_a_price_changed_behind_the_services_back_shows_after_the_freshness(
    client, settings, listing, language
):
    from marketplace.models import FixedPriceListing

    settings.PAGE_CACHE_SECONDS = 1
    for url in (listing.get_absolute_url(), reverse("product_list")):
        assert pkr("2500", language) in assert_cached(client, url, language)
        # As the admin or a shell would: no service announces it.
        FixedPriceListing.objects.filter(pk=listing.fixed_price_id).update(price=Decimal("1234"))
        assert get(client, url, language)["X-Page-Cache"] == "hit"
        time.sleep(1.1)  # the pages' and their shared rows' freshness
        page = get(client, url, language)
        assert page["X-Page-Cache"] == "miss"
        assert pkr("1234", language) in page.text
        FixedPriceListing.objects.filter(pk=listing.fixed_price_id).update(price=Decimal("2500"))


def test_an_auction_whose_end_passes_unannounced_is_rendered_again(client, seller, monkeypatch):
    from django.utils.translation import gettext

    auction = make_auction(seller, title="Brass lamp")
    url = reverse("auction_detail", args=[auction.pk])
    assert_cached(client, url)
    past_freshness(client, url)
    # The clock passes the end; nothing closed the auction yet (the scheduler runs each minute).
    later = timezone.now() + timedelta(days=30)
    monkeypatch.setattr(timezone, "now", lambda: later)
    page = get(client, url)
    assert page["X-Page-Cache"] == "miss"
    assert gettext("Place bid") not in page.text


def test_a_copy_is_rendered_again_after_the_max_age_even_if_unchanged(client, settings, listing):
    from marketplace.models import Product

    url = listing.get_absolute_url()
    assert_cached(client, url)
    # Not part of the selling state: shown after the max age at the latest.
    Product.objects.filter(pk=listing.pk).update(description="Now with a stand.")
    past_freshness(client, url)
    assert get(client, url)["X-Page-Cache"] == "checked"
    past_freshness(client, url, rendered_seconds_ago=settings.PAGE_CACHE_MAX_SECONDS)
    page = get(client, url)
    assert page["X-Page-Cache"] == "miss"
    assert "Now with a stand." in page.text


def test_a_change_invalidates_only_after_commit(
    client, listing, django_capture_on_commit_callbacks
):
    url = listing.get_absolute_url()
    assert_cached(client, url)
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        catalogue_changed(product_ids=[listing.pk])
    assert get(client, url)["X-Page-Cache"] == "hit"
    for callback in callbacks:
        callback()
    assert get(client, url)["X-Page-Cache"] == "miss"


def test_another_products_change_keeps_a_product_page(
    client, seller, listing, django_capture_on_commit_callbacks
):
    url = listing.get_absolute_url()
    assert_cached(client, url)
    with django_capture_on_commit_callbacks(execute=True):
        catalogue_changed(product_ids=[listing.pk + 1000])
    assert get(client, url)["X-Page-Cache"] == "hit"
    assert get(client, reverse("product_list"))["X-Page-Cache"] == "miss"


# --- The CSP nonce ---------------------------------------------------------------------------


def test_the_nonce_of_a_shared_page_is_each_responses_own(db):
    from csp.middleware import CSPMiddleware

    @shared_page()
    def page(request):
        return HttpResponse(f'<script nonce="{request.csp_nonce}"></script>')

    app = CSPMiddleware(page)
    served = []
    for _ in range(2):
        request = RequestFactory().get("/nonce-page/")
        request.user = AnonymousUser()
        response = app(request)
        nonce = re.search(r"'nonce-([^']+)'", response["Content-Security-Policy"]).group(1)
        served.append((response["X-Page-Cache"], nonce, response.content.decode()))
    (first_state, first_nonce, first_body), (second_state, second_nonce, second_body) = served
    assert (first_state, second_state) == ("miss", "hit")
    assert first_nonce != second_nonce
    assert f'nonce="{first_nonce}"' in first_body
    assert f'nonce="{second_nonce}"' in second_body
    assert NONCE_PLACEHOLDER.decode() not in second_body


def test_a_page_that_used_the_csrf_token_is_not_shared(db):
    from django.middleware.csrf import get_token

    @shared_page()
    def page(request):
        return HttpResponse(get_token(request))

    for _ in range(2):
        request = RequestFactory().get("/token-page/")
        request.user = AnonymousUser()
        assert page(request)["X-Page-Cache"] == "miss"


def test_the_card_grid_is_not_stale_for_a_signed_in_user(
    client, buyer, seller, django_capture_on_commit_callbacks
):
    auction = make_auction(seller, ends_in=timedelta(days=2))
    client.force_login(buyer)
    assert pkr("1000", "en") in client.get(reverse("auction_list")).text
    with django_capture_on_commit_callbacks(execute=True):
        bid(auction, buyer, "1300")
    assert pkr("1300", "en") in client.get(reverse("auction_list")).text


def test_one_card_grid_serves_everyone_with_their_own_hearts(client, buyer, rival, listing):
    from marketplace import fragments
    from marketplace.models import Favourite

    fragments.clear()
    Favourite.objects.create(user=buyer, product=listing)
    url = reverse("product_list")
    pages = {}
    for user in (buyer, rival):
        client.force_login(user)
        pages[user.username] = client.get(url).text
    assert len(fragments._grids.items) == 1
    saved = 'aria-pressed="true" title="Remove from saved"'
    assert saved in pages["bilal"]
    assert saved not in pages["rabia"]
    assert 'aria-pressed="false" title="Save"' in pages["rabia"]
    assert "<!--heart:" not in pages["bilal"]


def test_a_visitors_grid_is_kept_with_its_hearts_and_never_given_to_a_signed_in_user(
    client, buyer, listing
):
    from marketplace import fragments

    fragments.clear()
    url = reverse("product_list")
    first = client.get(url).text
    login_link = f"{reverse('login')}?next="
    assert login_link in first
    assert len(fragments._grids.items) == 2  # the grid with markers, and a visitor's copy
    assert client.get(url).text == first
    client.force_login(buyer)
    signed_in = client.get(url).text
    assert 'aria-pressed="false" title="Save"' in signed_in
    assert login_link not in signed_in
    assert "<!--heart:" not in first + signed_in


@pytest.mark.parametrize("language", LANGUAGES)
def test_filter_options_are_built_once_per_language_and_mark_the_choice(client, db, language):
    from marketplace.models import City
    from marketplace.queries.catalog import reference_data

    lahore = City.objects.get(slug="lahore")
    with override(language):
        name = str(lahore.display_name)
    url = reverse("product_list") + f"?province={lahore.province.slug}&city=lahore"
    page = get(client, url, language).text
    assert f'<option value="lahore" selected>{name}</option>' in page
    assert language in reference_data().rendered
    assert 'value="karachi"' not in page  # another province's cities are left out


# --- Single flight ---------------------------------------------------------------------------


class SlowPage:
    """A shared page whose render waits for `release` and counts its renders."""

    def __init__(self) -> None:
        self.renders = 0
        self.version = "first"
        self.release = threading.Event()
        self.release.set()
        self.view = shared_page()(self.render)

    def render(self, request):
        self.renders += 1
        version = self.version
        self.release.wait(5)
        return HttpResponse(version)

    def get(self, results: list | None = None):
        request = RequestFactory().get("/slow-page/")
        request.user = AnonymousUser()
        response = self.view(request)
        answer = (response["X-Page-Cache"], response.content.decode())
        if results is not None:
            results.append(answer)
        return answer

    def in_threads(self, count: int) -> tuple[list, list[threading.Thread]]:
        results: list = []
        threads = [threading.Thread(target=self.get, args=(results,)) for _ in range(count)]
        for thread in threads:
            thread.start()
        return results, threads


def expire(page: SlowPage) -> None:
    """Make the stored copy of the slow page due for a new render (only its age against it)."""
    from django.core.cache import cache

    request = RequestFactory().get("/slow-page/")
    key = page_cache._page_key(request)
    entry = cache.get(key)
    entry["fresh_until"] = time.time() - 1
    entry["rendered_at"] = 0  # and too old to be served again as checked: rendered anew
    cache.set(key, entry, 10)


def wait_for_renders(page: SlowPage, count: int) -> None:
    deadline = time.monotonic() + 5
    while page.renders < count and time.monotonic() < deadline:
        time.sleep(0.01)
    assert page.renders == count


def test_concurrent_requests_for_a_missing_page_render_it_once(db):
    page = SlowPage()
    page.release.clear()
    results, threads = page.in_threads(6)
    wait_for_renders(page, 1)
    time.sleep(0.1)  # the other five are waiting, not rendering
    assert page.renders == 1
    page.release.set()
    for thread in threads:
        thread.join(5)
    assert page.renders == 1
    assert sorted(results) == [("hit", "first")] * 5 + [("miss", "first")]


def test_while_a_page_is_redone_the_others_get_the_copy_it_replaces(db):
    page = SlowPage()
    assert page.get() == ("miss", "first")
    expire(page)
    page.version = "second"
    page.release.clear()
    results, threads = page.in_threads(1)
    wait_for_renders(page, 2)
    assert page.get() == ("stale", "first")
    assert page.renders == 2
    page.release.set()
    for thread in threads:
        thread.join(5)
    assert results == [("miss", "second")]
    assert page.get() == ("hit", "second")


def test_a_copy_from_before_an_announced_change_is_never_served_while_redone(
    db, django_capture_on_commit_callbacks
):
    page = SlowPage()
    assert page.get() == ("miss", "first")
    expire(page)
    page.release.clear()
    results, threads = page.in_threads(1)  # holds the lock of the old generation
    wait_for_renders(page, 2)
    with django_capture_on_commit_callbacks(execute=True):
        catalogue_changed(product_ids=[1])
    page.version = "after the change"
    page.release.set()
    assert page.get() == ("miss", "after the change")
    for thread in threads:
        thread.join(5)
    assert results == [("miss", "first")]
    assert page.get() == ("hit", "after the change")


def test_the_copy_it_replaces_stands_in_for_at_most_another_max_age(db, settings):
    page = SlowPage()
    assert page.get() == ("miss", "first")
    expire(page)
    from django.core.cache import cache

    key = page_cache._page_key(RequestFactory().get("/slow-page/"))
    entry = cache.get(key)
    entry["fresh_until"] = time.time() - settings.PAGE_CACHE_SECONDS - 0.5
    entry["rendered_at"] = 0
    cache.set(key, entry, 10)
    page.version = "second"
    page.release.clear()
    _results, threads = page.in_threads(1)
    wait_for_renders(page, 2)
    waiting, waiter = page.in_threads(1)  # too old to stand in: it waits for the new page
    time.sleep(0.1)
    assert waiting == []
    page.release.set()
    for thread in threads + waiter:
        thread.join(5)
    assert waiting == [("hit", "second")]
    assert page.renders == 2


def test_without_a_cache_every_request_renders_its_page(db, settings):
    settings.CACHES = {
        "default": {
            "BACKEND": "madeinpk.cache.FailOpenRedisCache",
            "LOCATION": "redis://127.0.0.1:1/0",  # nothing listens there
        }
    }
    page = SlowPage()
    assert page.get() == ("miss", "first")
    assert page.get() == ("miss", "first")
    assert page.renders == 2


# --- Signed-in pages reuse the shared results ------------------------------------------------


def product_queries(client, url) -> list[str]:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as captured:
        assert client.get(url).status_code == 200
    return [q["sql"] for q in captured if 'FROM "marketplace_product"' in q["sql"]]


def test_a_signed_in_browse_reads_the_results_the_visitors_page_read(client, buyer, listing):
    url = reverse("product_list") + "?q=vase&sort=newest"
    assert get(client, url)["X-Page-Cache"] == "miss"  # a visitor's page reads the results
    client.force_login(buyer)
    assert product_queries(client, url) == []
    assert product_queries(client, reverse("product_list") + "?q=vase&sort=price_asc") != []


@pytest.mark.parametrize("language", LANGUAGES)
def test_a_new_price_shows_at_once_to_a_signed_in_browser(
    client, seller, buyer, listing, language, django_capture_on_commit_callbacks
):
    client.force_login(buyer)
    url = reverse("product_list") + "?sort=newest"
    assert pkr("2500", language) in get(client, url, language).text
    with django_capture_on_commit_callbacks(execute=True):
        change_price(seller, listing, "1999")
    body = get(client, url, language).text
    assert pkr("1999", language) in body
    assert pkr("2500", language) not in body


def test_another_sort_of_the_same_search_is_not_counted_again(client, buyer, listing):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    client.force_login(buyer)
    counts = []
    for sort in ("newest", "price_asc", "price_desc"):
        with CaptureQueriesContext(connection) as captured:
            page = client.get(reverse("product_list") + f"?q=vase&sort={sort}")
        assert "1 item" in page.text
        counts.append(sum(q["sql"].startswith("SELECT COUNT(*) FROM (SELECT") for q in captured))
    assert counts[0] >= 1
    assert counts[1:] == [0, 0]


def test_a_signed_in_home_reads_the_cards_the_visitors_page_read(client, buyer, listing):
    assert get(client, reverse("home"))["X-Page-Cache"] == "miss"
    client.force_login(buyer)
    assert product_queries(client, reverse("home")) == []
    page = client.get(reverse("home")).text
    assert listing.title in page


@pytest.mark.parametrize("language", ["en", "ur"])
def test_a_grids_key_tells_apart_every_time_left_a_card_can_show(language):
    """The key takes the minutes left, not `time_left`'s words: two moments with one key must
    show the same words, and moments showing other words must have other keys."""
    from django.utils import translation

    from marketplace.queries.selling import time_left_shown
    from marketplace.templatetags.auctions import time_left

    ends_at = timezone.now() + timedelta(days=40)
    seconds = sorted(
        {s for step in (1, 7, 59, 61, 3599, 3601, 86399) for s in range(0, 41 * 86400, step * 97)}
        | {0, 59, 60, 61, 3599, 3600, 86399, 86400, 27 * 86400 + 86399, 28 * 86400, 35 * 86400}
    )
    shown: dict = {}
    with translation.override(language):
        for before in seconds:
            now = ends_at - timedelta(seconds=before)
            with pytest.MonkeyPatch.context() as patch:
                patch.setattr(timezone, "now", lambda now=now: now)
                words = time_left(ends_at)
            shown.setdefault(time_left_shown(ends_at, now), set()).add(words)
    mixed = {key: words for key, words in shown.items() if len(words) > 1}
    assert not mixed
    assert len(set().union(*shown.values())) > 20  # minutes, hours, days, weeks, a month


def test_a_new_grid_renders_only_the_cards_no_other_grid_showed(client, settings, db):
    from marketplace import fragments
    from marketplace.models import FixedPriceListing
    from marketplace.tests.factories.catalog import ProductFactory

    settings.PAGE_CACHE_SECONDS = 0  # every page rendered: the fragments are what is kept
    products = [ProductFactory(title=f"Vase {i}", fixed_price__price=1000 + i) for i in range(3)]
    fragments.clear()
    client.get(reverse("product_list"))
    assert len(fragments._card_html.items) == 3
    first = dict(fragments._card_html.items)
    FixedPriceListing.objects.filter(pk=products[0].fixed_price_id).update(price=Decimal("4321"))
    page = client.get(reverse("product_list")).text
    assert pkr("4321", "en") in page
    assert len(fragments._card_html.items) == 4  # the changed card, the other two as they were
    assert set(first) < set(fragments._card_html.items)
    client.get(reverse("product_list") + "?sort=price_desc")  # another grid, the same cards
    assert len(fragments._card_html.items) == 4
