"""Helpers for the auction tests: data is built through the same services the site uses."""

from datetime import timedelta
from decimal import Decimal

from django.utils import timezone

from marketplace.models import AuctionListing, Bid, Product
from marketplace.services.auctions import create_auction
from marketplace.services.bidding import place_bid
from marketplace.tests.factories.catalog import category, city


def make_auction(
    seller,
    *,
    starting_price: str = "1000",
    reserve_price: str | None = None,
    ends_in: timedelta = timedelta(days=3),
    title: str = "Multani blue pottery vase",
) -> AuctionListing:
    """A live auction by `seller` that ends `ends_in` from now (negative: already past)."""
    duration_days = max(1, min(14, ends_in.days + 1))
    starts_at = timezone.now() + ends_in - timedelta(days=duration_days)
    return create_auction(
        seller=seller,
        title=title,
        description="Hand-painted, kiln-fired.",
        category=category(),
        condition=Product.Condition.NEW,
        city=city("Multan"),
        starting_price=Decimal(starting_price),
        reserve_price=Decimal(reserve_price) if reserve_price else None,
        duration_days=duration_days,
        starts_at=starts_at,
    )


def bid(auction: AuctionListing, user, amount: str, max_amount: str | None = None):
    return place_bid(
        auction_id=auction.pk,
        bidder=user,
        amount=Decimal(amount),
        max_amount=Decimal(max_amount) if max_amount else None,
    )


def amounts(auction: AuctionListing) -> list[tuple[str, Decimal, bool]]:
    """The Bid table in the order bids were placed: (username, amount, automatic)."""
    return [
        (b.bidder.username, b.amount, b.is_automatic)
        for b in Bid.objects.filter(auction=auction).select_related("bidder").order_by("id")
    ]


def assert_counters_match_bids(auction: AuctionListing) -> None:
    auction.refresh_from_db()
    bids = Bid.objects.filter(auction=auction)
    assert auction.bid_count == bids.count()
    top = bids.order_by("-amount", "id").first()
    if top is None:
        assert auction.current_price == auction.starting_price
        assert auction.leading_bid_id is None
    else:
        assert auction.current_price == top.amount
        assert auction.leading_bid.amount == top.amount
    assert Product.objects.get(auction=auction).display_price == auction.current_price


def logged_in_session(user):
    """A saved session logged in as `user`, as AuthMiddlewareStack puts it in a socket's scope."""
    from importlib import import_module

    from django.conf import settings
    from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY

    session = import_module(settings.SESSION_ENGINE).SessionStore()
    session[SESSION_KEY] = str(user.pk)
    session[BACKEND_SESSION_KEY] = settings.AUTHENTICATION_BACKENDS[0]
    session[HASH_SESSION_KEY] = user.get_session_auth_hash()
    session.save()
    return session
