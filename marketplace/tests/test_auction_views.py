"""Auction pages: detail, HTMX and plain bids, the resync panel, create, list, my bids."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone

from marketplace.models import AuctionListing, Bid, Product, ProductImage
from marketplace.services.closing import close_auction
from marketplace.tests.auction_helpers import bid, make_auction
from marketplace.tests.factories.catalog import category, city
from marketplace.tests.test_images import photo

pytestmark = pytest.mark.django_db
HTMX = {"HTTP_HX_REQUEST": "true"}


@pytest.fixture
def auction(seller):
    return make_auction(seller, starting_price="1000", reserve_price="3000")


def detail_url(auction) -> str:
    return reverse("auction_detail", args=[auction.pk])


def bid_url(auction) -> str:
    return reverse("auction_bid", args=[auction.pk])


# --- Detail page --------------------------------------------------------------------------


def test_detail_page_shows_price_minimum_reserve_and_countdown(client, auction):
    response = client.get(detail_url(auction))
    assert response.status_code == 200
    html = response.content.decode()
    assert "Multani blue pottery vase" in html
    assert 'id="bid-panel"' in html
    assert 'id="bid-form"' in html
    assert "Rs 1,000" in html
    assert "Reserve not met" in html
    assert "data-countdown" in html
    assert f'data-ws-path="/ws/auction/{auction.pk}/"' in html
    assert "Log in to bid" in html


def test_detail_page_masks_bidders(client, auction, buyer, rival):
    bid(auction, buyer, "1000")
    bid(auction, rival, "1100")
    html = client.get(detail_url(auction)).content.decode()
    assert "b***l" in html
    assert "r***a" in html
    assert "bilal" not in html
    assert buyer.email not in html


def test_leader_sees_they_are_leading(client, auction, buyer):
    bid(auction, buyer, "1000")
    client.force_login(buyer)
    html = client.get(detail_url(auction)).content.decode()
    assert "You are leading: the highest bid is yours." in html
    assert 'data-viewer-note="outbid" class="alert alert-warning py-2 mb-2" hidden' in html


def test_outbid_bidder_sees_they_have_been_outbid(client, auction, buyer, rival):
    bid(auction, buyer, "1000")
    bid(auction, rival, "1100")
    client.force_login(buyer)
    html = client.get(detail_url(auction)).content.decode()
    assert 'data-viewer-note="leading" class="alert alert-success py-2 mb-2" hidden' in html
    assert 'data-viewer-note="outbid" class="alert alert-warning py-2 mb-2" >' in html


def test_winner_is_told_they_won_and_not_that_they_lead(client, auction, buyer):
    bid(auction, buyer, "3000")
    AuctionListing.objects.filter(pk=auction.pk).update(
        ends_at=auction.starts_at + timedelta(seconds=1)
    )
    close_auction(auction_id=auction.pk)
    client.force_login(buyer)
    html = client.get(detail_url(auction)).content.decode()
    assert 'data-viewer-note="won" class="alert alert-success py-2 mb-2" >' in html
    assert 'data-viewer-note="leading" class="alert alert-success py-2 mb-2" hidden' in html
    assert reverse("my_bids") in html


def test_after_the_end_time_the_leader_is_told_the_result_follows(client, seller, buyer):
    auction = make_auction(seller, ends_in=timedelta(days=1))
    bid(auction, buyer, "1000")
    AuctionListing.objects.filter(pk=auction.pk).update(
        ends_at=auction.starts_at + timedelta(seconds=1)
    )
    client.force_login(buyer)
    html = client.get(detail_url(auction)).content.decode()
    assert "The result follows shortly." in html
    assert 'data-viewer-note="leading" class="alert alert-success py-2 mb-2" hidden' in html
    assert 'data-viewer-note="won" class="alert alert-success py-2 mb-2" hidden' in html


def test_seller_is_told_they_cannot_bid(seller_client, auction):
    html = seller_client.get(detail_url(auction)).content.decode()
    assert "This is your auction" in html


def test_page_shows_ended_once_the_end_time_passes_before_closing(client, seller):
    auction = make_auction(seller, ends_in=timedelta(seconds=-5))
    html = client.get(detail_url(auction)).content.decode()
    assert 'data-ended="1"' in html
    assert "Bidding is closed." in html
    assert 'name="amount"' not in html
    assert "Place bid" not in html


def test_an_open_auction_keeps_the_closed_note_hidden_for_the_script(buyer_client, auction):
    html = buyer_client.get(detail_url(auction)).content.decode()
    assert "data-bid-closed hidden" in html
    assert "<div data-bid-controls>" in html
    assert 'name="amount"' in html


def test_closed_auction_shows_masked_winner(client, auction, buyer):
    bid(auction, buyer, "3000")
    AuctionListing.objects.filter(pk=auction.pk).update(
        ends_at=auction.starts_at + timedelta(seconds=1)
    )
    close_auction(auction_id=auction.pk)
    html = client.get(detail_url(auction)).content.decode()
    assert "Won by b***l" in html


def test_unknown_and_cancelled_auctions_are_404(client, auction):
    assert client.get(reverse("auction_detail", args=[999999])).status_code == 404
    AuctionListing.objects.filter(pk=auction.pk).update(status=AuctionListing.Status.CANCELLED)
    assert client.get(detail_url(auction)).status_code == 404


def test_panel_endpoint_returns_only_the_panel(client, auction):
    response = client.get(reverse("auction_panel", args=[auction.pk]), **HTMX)
    assert response.status_code == 200
    html = response.content.decode()
    assert html.lstrip().startswith('<section id="bid-panel"')
    assert "<html" not in html
    assert response["Cache-Control"] == "no-store"


# --- Bidding through the form -------------------------------------------------------------


def test_htmx_bid_rerenders_form_and_panel(buyer_client, auction, buyer):
    response = buyer_client.post(bid_url(auction), {"amount": "1500"}, **HTMX)
    assert response.status_code == 200
    html = response.content.decode()
    assert html.lstrip().startswith('<form id="bid-form"')
    assert 'id="bid-panel" aria-labelledby="bid-panel-price"' in html
    assert 'hx-swap-oob="true"' in html
    assert "you are the highest bidder" in html
    assert "Rs 1,500" in html
    assert Bid.objects.get().bidder == buyer
    assert "HX-Request" in response["Vary"]


def test_bid_without_javascript_redirects_to_the_page(buyer_client, auction):
    response = buyer_client.post(bid_url(auction), {"amount": "1500"})
    assert response.status_code == 302
    assert response["Location"] == detail_url(auction)
    page = buyer_client.get(response["Location"]).content.decode()
    assert "Your bid is in" in page


def test_a_bid_that_leads_is_a_success_message(buyer_client, auction):
    response = buyer_client.post(bid_url(auction), {"amount": "1500"}, follow=True)
    [message] = list(response.context["messages"])
    assert message.level_tag == "success"
    assert "you are the highest bidder" in message.message


def test_outbid_at_once_by_a_higher_maximum_is_a_warning_not_a_success(
    buyer_client, auction, rival
):
    bid(auction, rival, "1000", max_amount="5000")  # the reserve (3000) is met at once
    response = buyer_client.post(bid_url(auction), {"amount": "3500"}, follow=True)
    [message] = list(response.context["messages"])
    assert message.level_tag == "warning"
    assert message.message.startswith("You have been outbid.")
    assert "alert alert-warning" in response.content.decode()


def test_outbid_at_once_over_htmx_is_a_warning_in_the_form(buyer_client, auction, rival):
    bid(auction, rival, "1000", max_amount="5000")
    html = buyer_client.post(bid_url(auction), {"amount": "3500"}, **HTMX).content.decode()
    assert '<div class="alert alert-warning py-2" role="alert">' in html
    assert "You have been outbid." in html
    assert 'alert-success py-2" role="status"' not in html


def test_a_leader_bidding_again_is_told_only_their_maximum_rose(buyer_client, auction, buyer):
    """No "your bid is in" for a bid that placed nothing: the price did not move."""
    bid(auction, buyer, "1000")
    html = buyer_client.post(bid_url(auction), {"amount": "1500"}, **HTMX).content.decode()
    assert '<div class="alert alert-info py-2" role="status">' in html
    assert "no new bid was placed: your maximum is now Rs 1,500" in html
    assert "The price stays at Rs 1,000" in html
    assert "Your bid is in" not in html
    assert Bid.objects.filter(auction=auction).count() == 1
    response = buyer_client.post(bid_url(auction), {"amount": "1600"}, follow=True)
    [message] = list(response.context["messages"])
    assert message.level_tag == "info"
    assert "your maximum is now Rs 1,600" in message.message


def test_too_low_bid_shows_the_error_in_the_form(buyer_client, auction):
    response = buyer_client.post(bid_url(auction), {"amount": "10"}, **HTMX)
    assert response.status_code == 200
    assert "Bid at least Rs 1,000." in response.content.decode()
    assert not Bid.objects.exists()


def test_too_low_bid_without_javascript_shows_the_page_with_the_error(buyer_client, auction):
    response = buyer_client.post(bid_url(auction), {"amount": "10"})
    assert response.status_code == 200
    html = response.content.decode()
    assert "Bid at least Rs 1,000." in html
    assert "<html" in html
    assert 'value="10"' in html  # what the user typed is kept


@pytest.mark.parametrize("amount", ["", "abc", "-5", "1e9999", "12.345"])
def test_malformed_amount_is_a_form_error(buyer_client, auction, amount):
    response = buyer_client.post(bid_url(auction), {"amount": amount}, **HTMX)
    assert response.status_code == 200
    assert "invalid-feedback" in response.content.decode()
    assert not Bid.objects.exists()


def test_maximum_below_bid_is_a_form_error(buyer_client, auction):
    response = buyer_client.post(bid_url(auction), {"amount": "2000", "max_amount": "1500"}, **HTMX)
    assert "Your maximum must be at least your bid." in response.content.decode()


def test_seller_bid_is_refused_in_the_form(seller_client, auction):
    response = seller_client.post(bid_url(auction), {"amount": "5000"}, **HTMX)
    assert response.status_code == 200
    assert "This is your auction" in response.content.decode()
    assert not Bid.objects.exists()


def test_blocked_buyer_sees_why(buyer_client, buyer, auction):
    buyer.block("unpaid")
    response = buyer_client.post(bid_url(auction), {"amount": "1500"}, **HTMX)
    assert "unpaid orders" in response.content.decode()


def test_anonymous_bid_is_sent_to_login(client, auction):
    response = client.post(bid_url(auction), {"amount": "1500"})
    assert response.status_code == 302
    assert reverse("login") in response["Location"]
    assert not Bid.objects.exists()


def test_bid_page_refuses_get(buyer_client, auction):
    assert buyer_client.get(bid_url(auction)).status_code == 405


# --- Create -------------------------------------------------------------------------------


def create_data(**overrides) -> dict:
    data = {
        "title": "Phulkari dupatta",
        "description": "Hand-embroidered in Patiala style.",
        "category": category().pk,
        "condition": Product.Condition.NEW,
        "city": city("Lahore").pk,
        "starting_price": "2500",
        "reserve_price": "",
        "duration_days": "7",
        "images": [photo()],
    }
    data.update(overrides)
    return data


def test_seller_creates_an_auction(seller_client, seller):
    response = seller_client.post(reverse("auction_create"), create_data(reserve_price="4000"))
    auction = AuctionListing.objects.get()
    assert response.status_code == 302
    assert response["Location"] == detail_url(auction)
    assert auction.product.seller == seller
    assert auction.current_price == auction.product.display_price == Decimal("2500")
    assert auction.reserve_price == Decimal("4000")
    assert auction.ends_at - auction.starts_at == timedelta(days=7)


def test_created_auction_keeps_its_photos_in_order(seller_client):
    seller_client.post(
        reverse("auction_create"),
        create_data(images=[photo(name="front.jpg"), photo(fmt="PNG", name="back.png")]),
    )
    images = list(AuctionListing.objects.get().product.images.order_by("position"))
    assert [image.position for image in images] == [0, 1]
    assert all(image.image.name.endswith(".jpg") for image in images)
    assert all(image.thumbnail.name.endswith("-thumb.jpg") for image in images)


@pytest.mark.parametrize(
    ("images", "message"),
    [
        ([], "This field is required."),
        (
            [SimpleUploadedFile("invoice.pdf", b"%PDF-1.4 not an image")],
            "invoice.pdf is not a JPEG",
        ),
        ([SimpleUploadedFile("broken.jpg", b"\xff\xd8\xff\xe0 cut short")], "broken.jpg"),
        ([SimpleUploadedFile("empty.jpg", b"")], "empty.jpg"),
        ("nine", "at most 8 photos; this would make 9"),
    ],
)
def test_bad_photos_are_refused_in_place_and_nothing_is_saved(seller_client, images, message):
    if images == "nine":
        images = [photo() for _ in range(9)]
    response = seller_client.post(reverse("auction_create"), create_data(images=images))
    assert response.status_code == 200
    errors = " ".join(response.context["form"].errors["images"])
    assert message in errors
    assert message in response.text
    assert "choose your photos again" in response.text or not images
    assert response.context["form"]["title"].value() == "Phulkari dupatta"
    assert not AuctionListing.objects.exists()
    assert not ProductImage.objects.exists()


def test_create_form_renders(seller_client):
    response = seller_client.get(reverse("auction_create"))
    assert response.status_code == 200
    assert "Starting price" in response.content.decode()


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"reserve_price": "1000"}, "The reserve cannot be below the starting price."),
        ({"duration_days": "15"}, "Select a valid choice"),
        ({"duration_days": "0"}, "Select a valid choice"),
        ({"starting_price": "0"}, "greater than or equal to 1"),
        ({"starting_price": "-10"}, "greater than or equal to 1"),
        ({"starting_price": "999999999"}, "That amount is too large."),
        ({"title": ""}, "This field is required."),
    ],
)
def test_create_validation_errors_are_shown(seller_client, overrides, message):
    response = seller_client.post(reverse("auction_create"), create_data(**overrides))
    assert response.status_code == 200
    assert message in response.content.decode()
    assert not AuctionListing.objects.exists()


def test_buyer_cannot_create_an_auction(buyer_client):
    response = buyer_client.post(reverse("auction_create"), create_data())
    assert response.status_code == 403
    assert not AuctionListing.objects.exists()


# --- Lists --------------------------------------------------------------------------------


def test_auction_list_shows_live_auctions_ending_soonest_first(client, seller):
    later = make_auction(seller, title="Later", ends_in=timedelta(days=3))
    sooner = make_auction(seller, title="Sooner", ends_in=timedelta(hours=2))
    ended = make_auction(seller, title="Ended", ends_in=timedelta(seconds=-1))
    html = client.get(reverse("auction_list")).content.decode()
    assert html.index("Sooner") < html.index("Later")
    assert "Ended" not in html.split("Live auctions", 2)[-1]
    assert later and sooner and ended


def test_auction_list_query_count_does_not_grow(client, seller, django_assert_max_num_queries):
    for i in range(8):
        make_auction(seller, title=f"Lot {i}")
    with django_assert_max_num_queries(8):
        client.get(reverse("auction_list"))


def test_my_bids_groups_leading_outbid_won_and_lost(client, seller, buyer, rival):
    leading = make_auction(seller, title="Leading lot")
    bid(leading, buyer, "1000")
    outbid = make_auction(seller, title="Outbid lot")
    bid(outbid, buyer, "1000")
    bid(outbid, rival, "1100")
    won = make_auction(seller, title="Won lot")
    bid(won, buyer, "1000")
    lost = make_auction(seller, title="Lost lot")
    bid(lost, buyer, "1000")
    bid(lost, rival, "1100")
    AuctionListing.objects.filter(pk__in=[won.pk, lost.pk]).update(
        ends_at=won.starts_at + timedelta(seconds=1)
    )
    close_auction(auction_id=won.pk)
    close_auction(auction_id=lost.pk)
    client.force_login(buyer)
    response = client.get(reverse("my_bids"))
    groups = {
        key: [a.product.title for a in value] for key, value in response.context["groups"].items()
    }
    assert groups == {
        "leading": ["Leading lot"],
        "outbid": ["Outbid lot"],
        "won": ["Won lot"],
        "lost": ["Lost lot"],
    }
    assert "Pay now" in response.content.decode()


def test_my_bids_needs_login(client):
    response = client.get(reverse("my_bids"))
    assert response.status_code == 302


def test_demo_auctions_load_once_with_bids(seller, buyer, rival):
    from marketplace.demo.auctions import DEMO_AUCTIONS, load_demo_auctions

    assert load_demo_auctions(sellers=[seller], bidders=[buyer, rival]) == len(DEMO_AUCTIONS)
    assert load_demo_auctions(sellers=[seller], bidders=[buyer, rival]) == 0
    live = AuctionListing.objects.live()
    assert live.count() == len(DEMO_AUCTIONS)
    assert Bid.objects.count() == 8
    soonest = live.order_by("ends_at").first()
    assert soonest.ends_at - soonest.starts_at >= timedelta(days=1)


def test_demo_auctions_have_a_photo_and_some_end_within_minutes(seller, buyer, rival):
    from marketplace.demo.auctions import load_demo_auctions

    load_demo_auctions(sellers=[seller], bidders=[buyer, rival])
    live = AuctionListing.objects.live().order_by("ends_at")
    assert all(a.product.images.count() == 1 for a in live)
    assert live[0].ends_at - timezone.now() < timedelta(minutes=10)
    assert live[0].bid_count > 0


def test_an_ended_demo_auction_is_started_afresh_by_the_next_run(seller, buyer, rival):
    from marketplace.demo.auctions import load_demo_auctions

    load_demo_auctions(sellers=[seller], bidders=[buyer, rival])
    soonest = AuctionListing.objects.order_by("ends_at").first()
    AuctionListing.objects.filter(pk=soonest.pk).update(
        ends_at=soonest.starts_at + timedelta(seconds=1)
    )
    assert load_demo_auctions(sellers=[seller], bidders=[buyer, rival]) == 1
    title = soonest.product.title
    assert AuctionListing.objects.live().filter(product__title=title).count() == 1
    assert Product.objects.filter(title=title).count() == 2


def test_each_demo_run_re_times_the_ending_soon_lot_without_duplicating(seller, buyer, rival):
    from marketplace.demo.auctions import DEMO_AUCTIONS, load_demo_auctions

    load_demo_auctions(sellers=[seller], bidders=[buyer, rival])
    soonest = AuctionListing.objects.order_by("ends_at").first()
    # Some minutes later the lot is about to close; the next run gives it minutes again.
    AuctionListing.objects.filter(pk=soonest.pk).update(
        ends_at=timezone.now() + timedelta(seconds=30)
    )
    assert load_demo_auctions(sellers=[seller], bidders=[buyer, rival]) == 0

    soonest.refresh_from_db()
    assert timedelta(minutes=4) < soonest.ends_at - timezone.now() < timedelta(minutes=15)
    assert AuctionListing.objects.count() == len(DEMO_AUCTIONS)
    assert Bid.objects.count() == 8
    longest = AuctionListing.objects.order_by("-ends_at").first()
    assert longest.ends_at - timezone.now() > timedelta(days=1)  # the others keep their end


def test_the_demo_auctions_are_spread_across_the_shops(seller, buyer, rival):
    from marketplace.demo.auctions import load_demo_auctions
    from marketplace.tests.factories.accounts import SellerFactory

    sellers = [seller, SellerFactory(), SellerFactory()]
    load_demo_auctions(sellers=sellers, bidders=[buyer, rival])

    shops = set(AuctionListing.objects.values_list("product__seller", flat=True))
    assert shops == {s.pk for s in sellers}


def test_load_demo_starts_the_demo_auctions_once_and_prints_them(capsys):
    from django.core.management import call_command

    from marketplace.demo.auctions import DEMO_AUCTIONS

    call_command("load_demo", "--force")
    first = capsys.readouterr().out
    call_command("load_demo", "--force")
    second = capsys.readouterr().out
    assert f"Demo auctions: {len(DEMO_AUCTIONS)} started" in first
    assert "Demo auctions: 0 started" in second
    assert AuctionListing.objects.live().count() == len(DEMO_AUCTIONS)
    for auction in AuctionListing.objects.all():
        assert reverse("auction_detail", args=[auction.pk]) in second
    shops = {a.product.seller.username for a in AuctionListing.objects.select_related("product")}
    assert shops == {"amina", "sana", "imran"}
    assert {b.bidder.username for b in Bid.objects.select_related("bidder")} == {
        "bilal",
        "zainab",
    }


def test_ending_soon_slot_renders(client, seller):
    from django.template.loader import render_to_string

    from marketplace.queries.auctions import ending_soon_auctions

    make_auction(seller, title="Soon", ends_in=timedelta(minutes=5))
    html = render_to_string(
        "marketplace/auctions/_ending_soon.html", {"auctions": ending_soon_auctions()}
    )
    assert "Soon" in html
    assert "Auctions ending soon" in html


def test_detail_page_queries_do_not_grow_with_bids(
    client, auction, buyer, django_assert_max_num_queries
):
    from marketplace.tests.factories.accounts import UserFactory

    price = Decimal("1000")
    for i in range(12):
        bid(auction, UserFactory(username=f"bidder{i}"), str(price))
        price += 100
    client.force_login(buyer)
    with django_assert_max_num_queries(12):
        response = client.get(detail_url(auction))
    assert response.status_code == 200


def test_create_page_states_the_soft_close_settings(seller_client, settings):
    settings.AUCTION_SOFT_CLOSE_WINDOW_SECONDS = 180
    settings.AUCTION_SOFT_CLOSE_EXTENSION_SECONDS = 90
    page = seller_client.get(reverse("auction_create")).text
    assert "A bid in the last 3 minutes moves the end to 1.5 minutes after that bid" in page
