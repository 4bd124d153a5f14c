"""Closing auctions that are due: sold (an order awaiting payment) or unsold, exactly once."""

import logging
from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import OuterRef, Subquery
from django.urls import reverse
from django.utils.translation import gettext_lazy

from marketplace import realtime
from marketplace.i18n import lazy_format
from marketplace.models import AuctionListing, Bid, Notification, Order
from marketplace.money import lazy_pkr
from marketplace.page_cache import catalogue_changed
from marketplace.services.bidding import db_now
from marketplace.services.notifications import Notice, notify_many
from marketplace.services.orders import NewOrder, OrderLine, create_orders

logger = logging.getLogger(__name__)


# What a close reads of an auction, its winner, its product and seller (the rest stays
# unloaded; reading a deferred field would cost a query per auction, which the statement-count
# test catches).
CLOSE_READS = (
    "status",
    "ends_at",
    "current_price",
    "reserve_price",
    "bid_count",
    "leading_bid__bidder__language",
    "product__title",
    "product__seller__language",
)


# Stands for the order number in the order page's URL (numbers are URL-safe: new_reference).
_NUMBER = "ORDER-NUMBER"


@dataclass(frozen=True)
class CloseResult:
    auction_id: int
    status: str
    order_id: int | None


def close_auction(*, auction_id: int, skip_locked: bool = False) -> CloseResult | None:
    """End one auction that is due: sold (with an order awaiting payment) or unsold.

    Returns None when there was nothing to do (not due, already closed, or locked).
    """
    results = close_auctions(auction_ids=[auction_id], skip_locked=skip_locked)
    return results[0] if results else None


def close_auctions(*, auction_ids: Collection[int], skip_locked: bool = False) -> list[CloseResult]:
    """End those of `auction_ids` that are due, in one transaction: sold ones get an order
    awaiting payment and notices to winner and seller, unsold ones a notice to the seller.

    Exactly once: the rows are locked (ones another transaction holds are skipped with
    `skip_locked`, for the next run), status and end are judged under the lock by the database
    clock, so a second run finds nothing to do; the order's one-to-one on the auction makes a
    second order impossible. The work is a statement or two per table for all of them.
    Returns one result per auction closed, by pk.
    """
    with transaction.atomic():
        # Locked in pk order, so two runs that wait for each other take their locks in the
        # same order. The winner and the seller (with their languages) come with the row, and
        # only the columns the close reads: loading whole users and products was a tenth of
        # the cost of a close.
        auctions = list(
            AuctionListing.objects.select_for_update(of=("self",), skip_locked=skip_locked)
            .select_related("leading_bid__bidder", "product__seller")
            .only(*CLOSE_READS)
            .filter(pk__in=auction_ids, status=AuctionListing.Status.LIVE)
            .order_by("pk")
        )
        if not auctions:
            return []
        now = db_now()
        due = [auction for auction in auctions if now >= auction.ends_at]
        if not due:
            return []
        sold = [a for a in due if a.leading_bid is not None and a.reserve_met]
        orders = _create_winner_orders(sold, now)
        notices: list[Notice] = []
        # Each URL reversed once for the batch, not once per notice (a tenth of a close).
        order_url = reverse("order_detail", args=[_NUMBER])
        listings_url = reverse("dashboard_listings") + "?status=auction"
        for auction in due:
            auction.closed_at = now
            order = orders.get(auction.pk)
            if order is not None:
                auction.status = AuctionListing.Status.ENDED_SOLD
                auction.winner = auction.leading_bid.bidder
                notices += _sold_notices(auction, order_url.replace(_NUMBER, order.number))
            else:
                auction.status = AuctionListing.Status.ENDED_UNSOLD
                notices.append(_unsold_notice(auction, listings_url))
        _record_outcomes(due, now)
        notify_many(notices)
        closed_ids = [auction.pk for auction in due]
        transaction.on_commit(lambda: _broadcast_ended(closed_ids))
        catalogue_changed(auction_ids=closed_ids)
    return [
        CloseResult(
            auction_id=auction.pk,
            status=auction.status,
            order_id=orders[auction.pk].pk if auction.pk in orders else None,
        )
        for auction in due
    ]


def _record_outcomes(auctions: list[AuctionListing], now: datetime) -> None:
    """Two UPDATEs (sold, unsold), not one per row; the winner is the leading bid's bidder.

    (bulk_update's per-row CASE costs more in building the SQL than these cost to run.)
    """
    sold = [a.pk for a in auctions if a.status == AuctionListing.Status.ENDED_SOLD]
    unsold = [a.pk for a in auctions if a.status == AuctionListing.Status.ENDED_UNSOLD]
    if sold:
        AuctionListing.objects.filter(pk__in=sold).update(
            status=AuctionListing.Status.ENDED_SOLD,
            winner_id=Subquery(
                Bid.objects.filter(pk=OuterRef("leading_bid_id")).values("bidder_id")
            ),
            closed_at=now,
        )
    if unsold:
        AuctionListing.objects.filter(pk__in=unsold).update(
            status=AuctionListing.Status.ENDED_UNSOLD, closed_at=now
        )


def _broadcast_ended(auction_ids: list[int]) -> None:
    """`auction_ended` to the open pages of the closed auctions, after commit.

    Rendering the live panel is most of the cost of a close, and nearly every auction closes
    with nobody watching: only watched ones are rendered and sent. Pages that miss the event
    still show the end on their own (countdown, resync on reconnect).
    """
    try:
        watched = realtime.watched_auctions(auction_ids)
    except Exception:
        # The channel layer is down, so no broadcast could reach anyone either.
        logger.exception("could not tell which of %s auctions are watched", len(auction_ids))
        return
    for auction_id in sorted(watched):
        realtime.broadcast_auction(auction_id, "auction_ended")


def _sold_notices(auction: AuctionListing, url: str) -> list[Notice]:
    """To the winner and the seller; `url` is the order's page."""
    # Notices are written in each recipient's language (lazy until notify_many renders them).
    product = auction.product
    price = lazy_pkr(auction.current_price)
    return [
        Notice(
            user=auction.winner,
            kind=Notification.Kind.AUCTION_WON,
            title=lazy_format(gettext_lazy("You won “%(title)s”"), title=product.title),
            body=lazy_format(
                gettext_lazy("Your winning bid was %(price)s. Please pay within %(hours)s hours."),
                price=price,
                hours=settings.AUCTION_PAYMENT_DEADLINE_HOURS,
            ),
            url=url,
            dedupe_key=f"auction:{auction.pk}",
        ),
        Notice(
            user=product.seller,
            kind=Notification.Kind.AUCTION_SOLD,
            title=lazy_format(
                gettext_lazy("“%(title)s” sold for %(price)s"), title=product.title, price=price
            ),
            body=gettext_lazy("The winner has been asked to pay. You will be told when they have."),
            url=url,
            dedupe_key=f"auction:{auction.pk}",
        ),
    ]


def _unsold_notice(auction: AuctionListing, url: str) -> Notice:
    """To the seller; `url` is their auction listings."""
    product = auction.product
    body = (
        gettext_lazy("The bids did not reach your reserve price. You can list it again.")
        if auction.leading_bid is not None
        else gettext_lazy("Nobody bid on it. You can list it again, perhaps at a lower price.")
    )
    return Notice(
        user=product.seller,
        kind=Notification.Kind.AUCTION_UNSOLD,
        title=lazy_format(gettext_lazy("“%(title)s” ended unsold"), title=product.title),
        body=body,
        url=url,
        dedupe_key=f"auction:{auction.pk}",
    )


def _create_winner_orders(auctions: list[AuctionListing], now: datetime) -> dict[int, Order]:
    """An order awaiting payment for each winner (a checkout of its own), by auction pk."""
    orders = create_orders(
        [
            NewOrder(
                buyer_id=auction.leading_bid.bidder_id,
                seller_id=auction.product.seller_id,
                lines=[OrderLine(product=auction.product, unit_price=auction.current_price)],
                auction=auction,
            )
            for auction in auctions
        ],
        now=now,
        payment_deadline=now + timedelta(hours=settings.AUCTION_PAYMENT_DEADLINE_HOURS),
    )
    return {order.auction_id: order for order in orders}
