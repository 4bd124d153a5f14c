"""Auctions across the site: home, browse and search, the seller's dashboard, bids, relisting."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.db import connection
from django.urls import reverse
from django.utils import timezone

from marketplace.exceptions import ListingError
from marketplace.models import AuctionListing, Notification, Product
from marketplace.queries.catalog import clear_reference_cache
from marketplace.services.auctions import create_auction, relist_auction
from marketplace.services.closing import close_auction
from marketplace.tests.auction_helpers import bid, make_auction
from marketplace.tests.factories.accounts import SellerFactory
from marketplace.tests.factories.catalog import category, city
from marketplace.tests.test_images import photo

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _fresh_reference_data():
    clear_reference_cache()
    yield
    clear_reference_cache()


def end_now(auction: AuctionListing) -> None:
    """Move the end into the past (the database refuses an end before the start)."""
    AuctionListing.objects.filter(pk=auction.pk).update(
        ends_at=auction.starts_at + timedelta(seconds=1)
    )


def unsold_auction(seller, **kwargs) -> AuctionListing:
    auction = make_auction(seller, **kwargs)
    end_now(auction)
    close_auction(auction_id=auction.pk)
    auction.refresh_from_db()
    assert auction.status == AuctionListing.Status.ENDED_UNSOLD
    return auction


# --- Home -----------------------------------------------------------------------------------


def test_home_has_one_ending_soon_section_soonest_first_with_price_and_bids(client, seller, buyer):
    later = make_auction(seller, title="Later lamp", ends_in=timedelta(hours=5))
    sooner = make_auction(seller, title="Sooner shawl", ends_in=timedelta(minutes=8))
    bid(sooner, buyer, "1000")
    bid(sooner, buyer, "1500")  # the leader raising their maximum places no bid
    bid(later, buyer, "1000")
    page = client.get(reverse("home")).text
    assert page.count("Auctions ending soon") == 1
    section = page.split('id="ending-soon"', 1)[1].split('id="new-listings"', 1)[0]
    assert section.index("Sooner shawl") < section.index("Later lamp")
    assert "Rs 1,000" in section
    assert "1 bid" in section
    assert "8\xa0minutes left" in section or "7\xa0minutes left" in section


def test_home_ending_soon_leaves_out_ended_auctions(client, seller):
    make_auction(seller, title="Gone lamp", ends_in=timedelta(seconds=-1))
    page = client.get(reverse("home")).text
    assert "Gone lamp" not in page
    assert "Auctions ending soon" not in page


def test_home_queries_do_not_grow_with_ending_soon_auctions(
    client, seller, django_assert_max_num_queries
):
    make_auction(seller, title="Lot 0")
    client.get(reverse("home"))
    with django_assert_max_num_queries(12) as few:
        client.get(reverse("home"))
    for i in range(1, 4):
        create_auction(
            seller=seller,
            title=f"Lot {i}",
            description="Carved.",
            category=category(),
            condition=Product.Condition.NEW,
            city=city(),
            starting_price=Decimal("900"),
            duration_days=2,
            images=[photo()],
        )
    with django_assert_max_num_queries(12) as many:
        client.get(reverse("home"))
    assert len(many.captured_queries) == len(few.captured_queries)


# --- Browse and search ----------------------------------------------------------------------


def test_browse_shows_a_live_auction_with_current_price_bids_and_time_left(client, seller, buyer):
    auction = make_auction(seller, title="Ajrak shawl", ends_in=timedelta(hours=3, minutes=5))
    bid(auction, buyer, "1000")
    bid(auction, SellerFactory(username="zara"), "1300")
    page = client.get(reverse("product_list"), {"type": "auction"}).text
    card = page.split(f'id="product-{auction.product.pk}"', 1)[1].split("</article>", 1)[0]
    assert "Auction" in card
    assert "Rs 1,300" in card
    assert "2 bids" in card
    assert "3\xa0hours left" in card
    assert f'href="{reverse("auction_detail", args=[auction.pk])}"' in card


def test_browse_and_search_leave_out_auctions_that_have_ended(client, seller):
    make_auction(seller, title="Open khussa")
    make_auction(seller, title="Past-end khussa", ends_in=timedelta(seconds=-1))
    unsold_auction(seller, title="Closed khussa")
    for params in ({}, {"type": "auction"}, {"q": "khussa"}, {"sort": "ending"}):
        response = client.get(reverse("product_list"), params)
        assert [p.title for p in response.context["products"]] == ["Open khussa"], params


def test_ending_soon_sort_lists_live_auctions_soonest_first(client, seller):
    make_auction(seller, title="Three days", ends_in=timedelta(days=3))
    make_auction(seller, title="Ten minutes", ends_in=timedelta(minutes=10))
    response = client.get(reverse("product_list"), {"sort": "ending"})
    assert [p.title for p in response.context["products"]] == ["Ten minutes", "Three days"]


def test_the_price_filter_uses_an_auctions_current_price(client, seller, buyer):
    auction = make_auction(seller, title="Rising rug", starting_price="1000")
    bid(auction, buyer, "5000")
    response = client.get(reverse("product_list"), {"min_price": "4000"})
    assert [p.title for p in response.context["products"]] == ["Rising rug"]


@pytest.mark.postgres
def test_a_new_auction_is_found_by_full_text_search_on_postgresql(client, seller):
    assert connection.vendor == "postgresql"
    make_auction(seller, title="Hand-painted truck art kettle")
    response = client.get(reverse("product_list"), {"q": "kettle"})
    assert [p.title for p in response.context["products"]] == ["Hand-painted truck art kettle"]


def test_the_shop_page_still_shows_an_ended_auction_as_ended(client, seller):
    unsold_auction(seller, title="Old lamp")
    page = client.get(reverse("shop_detail", args=[seller.seller_profile.slug])).text
    card = page.split("Old lamp", 1)[1].split("</article>", 1)[0]
    assert "Ended" in card


# --- Seller dashboard -----------------------------------------------------------------------


def test_dashboard_lists_own_auctions_with_status_price_bids_and_end(seller_client, seller, buyer):
    auction = make_auction(seller, title="Brass plate", starting_price="2000")
    bid(auction, buyer, "2000")
    make_auction(SellerFactory(username="other"), title="Someone else's lot")
    page = seller_client.get(reverse("dashboard_listings"), {"status": "auction"}).text
    assert "Brass plate" in page
    assert "Someone else" not in page
    row = page.split("Brass plate", 1)[1].split('class="list-group-item"', 1)[0]
    assert "Live" in row
    assert "Rs 2,000" in row
    assert "1 bid" in row
    assert timezone.localtime(auction.ends_at).strftime("%H:%M") in row
    assert reverse("auction_bids", args=[auction.pk]) in row
    assert "Relist" not in row


def test_dashboard_offers_to_start_an_auction(seller_client):
    page = seller_client.get(reverse("dashboard_listings")).text
    assert reverse("auction_create") in page


def test_dashboard_offers_relist_only_for_an_unsold_auction(seller_client, seller):
    unsold = unsold_auction(seller, title="Unsold vase")
    page = seller_client.get(reverse("dashboard_listings"), {"status": "auction"}).text
    assert reverse("auction_relist", args=[unsold.pk]) in page
    assert "Ended: unsold" in page


# --- Bids page ------------------------------------------------------------------------------


def test_bids_page_lists_every_bid_masked_without_maximums(seller_client, seller, buyer, rival):
    auction = make_auction(seller, starting_price="1000")
    bid(auction, buyer, "1000", max_amount="7777")
    bid(auction, rival, "1100")  # the proxy answers for the buyer
    response = seller_client.get(reverse("auction_bids", args=[auction.pk]))
    assert response.status_code == 200
    page = response.text
    assert page.count("b***l") == 2 and "r***a" in page
    assert buyer.username not in page and buyer.email not in page
    assert "7,777" not in page
    assert "Rs 1,200" in page


def test_someone_elses_auction_bids_page_is_404(client, seller):
    auction = make_auction(seller)
    client.force_login(SellerFactory(username="nosy"))
    assert client.get(reverse("auction_bids", args=[auction.pk])).status_code == 404


def test_a_buyer_opening_the_bids_page_is_told_how_to_become_a_seller(buyer_client, seller):
    auction = make_auction(seller)
    response = buyer_client.get(reverse("auction_bids", args=[auction.pk]))
    assert response.status_code == 403


# --- Relisting ------------------------------------------------------------------------------


def test_relisting_starts_a_new_auction_with_the_same_item_terms_and_photos(seller):
    old = create_auction(
        seller=seller,
        title="Phulkari cushion pair",
        description="Silk floss on khaddar.",
        category=category("phulkari"),
        condition=Product.Condition.LIKE_NEW,
        city=city("Lahore"),
        starting_price=Decimal("3000"),
        reserve_price=Decimal("5000"),
        duration_days=5,
        starts_at=timezone.now() - timedelta(days=5, seconds=1),
        images=[photo(name="a.jpg"), photo(fmt="PNG", name="b.png")],
    )
    close_auction(auction_id=old.pk)
    new = relist_auction(seller=seller, auction_id=old.pk)
    before, after = Product.objects.get(auction=old), Product.objects.get(auction=new)
    assert after.pk != before.pk
    for field in ("title", "description", "category_id", "condition", "city_id", "seller_id"):
        assert getattr(after, field) == getattr(before, field)
    assert (new.starting_price, new.reserve_price) == (Decimal("3000"), Decimal("5000"))
    assert new.status == AuctionListing.Status.LIVE and new.bid_count == 0
    assert new.ends_at - new.starts_at == timedelta(days=5)
    old_images = list(before.images.order_by("position"))
    new_images = list(after.images.order_by("position"))
    assert [i.position for i in new_images] == [0, 1]
    assert [i.image.read() for i in new_images] == [i.image.read() for i in old_images]
    assert {i.image.name for i in new_images}.isdisjoint({i.image.name for i in old_images})


def test_relisting_twice_returns_the_same_new_auction(seller):
    old = unsold_auction(seller)
    first = relist_auction(seller=seller, auction_id=old.pk)
    second = relist_auction(seller=seller, auction_id=old.pk)
    assert first == second
    assert AuctionListing.objects.count() == 2


@pytest.mark.parametrize("state", ["live", "sold"])
def test_only_an_unsold_auction_can_be_relisted(seller, buyer, state):
    auction = make_auction(seller)
    if state == "sold":
        bid(auction, buyer, "1000")
        end_now(auction)
        close_auction(auction_id=auction.pk)
    with pytest.raises(ListingError) as raised:
        relist_auction(seller=seller, auction_id=auction.pk)
    assert raised.value.code == "not_unsold"


def test_someone_else_cannot_relist(seller):
    old = unsold_auction(seller)
    with pytest.raises(ListingError):
        relist_auction(seller=SellerFactory(username="thief"), auction_id=old.pk)


def test_relist_button_starts_the_new_auction_and_shows_it(seller_client, seller):
    old = unsold_auction(seller, title="Lacquer box")
    response = seller_client.post(reverse("auction_relist", args=[old.pk]))
    old.refresh_from_db()
    assert response.status_code == 302
    assert response["Location"] == reverse("auction_detail", args=[old.relisted_as_id])
    page = seller_client.get(reverse("dashboard_listings"), {"status": "auction"}).text
    assert reverse("auction_relist", args=[old.pk]) not in page
    assert "Relisted" in page


def test_relisting_a_live_auction_through_the_page_shows_why_not(seller_client, seller):
    auction = make_auction(seller)
    response = seller_client.post(reverse("auction_relist", args=[auction.pk]), follow=True)
    assert "Only an auction that ended unsold, or whose buyer did not pay, can be relisted." in (
        response.text
    )
    assert AuctionListing.objects.count() == 1


def test_relisting_someone_elses_auction_is_404(client, seller):
    old = unsold_auction(seller)
    client.force_login(SellerFactory(username="thief"))
    assert client.post(reverse("auction_relist", args=[old.pk])).status_code == 404
    assert AuctionListing.objects.count() == 1


def test_relist_refuses_get(seller_client, seller):
    old = unsold_auction(seller)
    assert seller_client.get(reverse("auction_relist", args=[old.pk])).status_code == 405


def test_unsold_notice_points_the_seller_to_relist(seller):
    unsold_auction(seller)
    notice = Notification.objects.get(kind=Notification.Kind.AUCTION_UNSOLD)
    assert notice.url == reverse("dashboard_listings") + "?status=auction"
