"""Read builders of auctions: the bid panel (pages and broadcasts), masked bidders, cards."""

from datetime import datetime

from django.db.models import Prefetch, QuerySet
from django.utils import timezone
from django.utils.crypto import salted_hmac

from marketplace.models import (
    AuctionListing,
    Bid,
    ProductImage,
    User,
)

HISTORY_LENGTH = 10


def mask_name(name: str) -> str:
    """`amina` -> `a***a`: enough to tell bidders apart, not to identify them."""
    name = (name or "").strip()
    if len(name) < 2:
        return f"{name or '?'}***"
    return f"{name[0]}***{name[-1]}"


def bidder_token(auction_id: int, user_id: int | None) -> str:
    """An opaque per-auction bidder id for the page to recognise its own viewer as leader."""
    if not user_id:
        return ""
    return salted_hmac("marketplace.auction-bidder", f"{auction_id}:{user_id}").hexdigest()[:16]


def auctions_with_product() -> QuerySet[AuctionListing]:
    return AuctionListing.objects.select_related(
        "product", "product__seller", "product__seller__seller_profile", "product__city"
    )


def panel_auctions() -> QuerySet[AuctionListing]:
    """Auctions with what #bid-panel and the detail page read."""
    return auctions_with_product().select_related("leading_bid__bidder", "winner")


def auction_for_panel(auction_id: int) -> AuctionListing:
    return panel_auctions().get(pk=auction_id)


def auction_for_broadcast(auction_id: int) -> AuctionListing:
    """What a broadcast needs (#bid-panel and the event's data), without the detail page's
    seller, shop and city joins or the product's long text: every bid and close reads it."""
    return (
        AuctionListing.objects.select_related("product", "leading_bid__bidder", "winner")
        .defer("product__description", "product__search_vector")
        .get(pk=auction_id)
    )


def latest_bids(
    auction: AuctionListing, limit: int = HISTORY_LENGTH, *, up_to_id: int | None = None
) -> list[Bid]:
    """The newest bids first; with `up_to_id`, none newer than that bid."""
    bids = auction.bids.select_related("bidder").order_by("-id")
    if up_to_id is not None:
        bids = bids.filter(id__lte=up_to_id)
    return list(bids[:limit])


def panel_context(
    auction: AuctionListing,
    *,
    viewer: User | None = None,
    now: datetime | None = None,
    bids: list[Bid] | None = None,
) -> dict:
    """Everything #bid-panel shows. With no viewer it is the same for everyone (broadcasts).

    `bids`: the history, when the caller has read it (`latest_bids`)."""
    now = now or timezone.now()
    viewer_id = viewer.pk if viewer is not None and viewer.is_authenticated else None
    leader_id = auction.leading_bid.bidder_id if auction.leading_bid_id else None
    viewer_has_bid = bool(viewer_id) and auction.bids.filter(bidder_id=viewer_id).exists()
    return {
        "auction": auction,
        "product": auction.product,
        "bids": [
            {
                "bidder": mask_name(bid.bidder.username),
                "amount": bid.amount,
                "time": bid.created_at,
                "is_automatic": bid.is_automatic,
            }
            for bid in (latest_bids(auction) if bids is None else bids)
        ],
        "minimum_next_bid": auction.minimum_next_bid(),
        "has_ended": auction.has_ended(now) or auction.status == AuctionListing.Status.CANCELLED,
        "leader_token": bidder_token(auction.pk, leader_id),
        "leader_name": mask_name(auction.leading_bid.bidder.username) if leader_id else "",
        "viewer_token": bidder_token(auction.pk, viewer_id),
        "viewer_has_bid": viewer_has_bid,
        "viewer_is_leader": bool(viewer_id) and viewer_id == leader_id,
        "viewer_is_seller": bool(viewer_id) and viewer_id == auction.product.seller_id,
        "winner_name": mask_name(auction.winner.username) if auction.winner_id else "",
    }


def bids_by_user(user: User) -> QuerySet[AuctionListing]:
    """Auctions the user has bid on, with the product and leading bid at hand."""
    return (
        auctions_with_product()
        .select_related("leading_bid")
        .filter(bids__bidder=user)
        .distinct()
        .order_by("-ends_at")
    )


def auction_cards() -> QuerySet[AuctionListing]:
    """Auctions with everything their product card shows (components.html#product-card)."""
    return auctions_with_product().prefetch_related(
        Prefetch("product__images", queryset=ProductImage.objects.order_by("position", "id"))
    )


def ending_soon_auctions(limit: int = 4) -> list[AuctionListing]:
    """Live auctions closest to their end, for the home page section."""
    return list(auction_cards().ending_soon()[:limit])
