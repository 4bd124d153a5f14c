"""Placing bids and closing auctions: the one path every bid and every close goes through."""

import logging
import time
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal

from django.conf import settings
from django.db import connection, transaction
from django.db.models import OuterRef, Q, Subquery
from django.db.models.functions import Now
from django.urls import reverse
from django.utils import timezone
from django.utils.functional import lazy
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from marketplace import realtime
from marketplace.exceptions import BidRejected, ListingError
from marketplace.i18n import lazy_format
from marketplace.images import MAX_IMAGES, stored_photo
from marketplace.models import (
    AuctionListing,
    Bid,
    Category,
    Checkout,
    City,
    Notification,
    Order,
    OrderItem,
    Product,
    SecondChanceOffer,
    User,
)
from marketplace.models.orders import new_reference
from marketplace.money import PAISA, quantize
from marketplace.pricing import bid_increment
from marketplace.services import listings
from marketplace.services.notifications import Notice, notify, notify_many
from marketplace.templatetags.money import format_pkr

logger = logging.getLogger(__name__)

MIN_DURATION_DAYS = 1
MAX_DURATION_DAYS = 14


def db_now() -> datetime:
    """The database clock: every web process and worker judges "now" by the same clock."""
    if connection.vendor == "postgresql":
        # clock_timestamp(), not now(): now() is frozen at the start of the transaction,
        # which may be long before we got the row lock.
        with connection.cursor() as cursor:
            cursor.execute("SELECT clock_timestamp()")
            return cursor.fetchone()[0]
    return timezone.now()


@dataclass(frozen=True)
class BidResult:
    auction_id: int
    bid_id: int | None  # the bidder's own new Bid row; None when only the maximum was raised
    is_leading: bool
    current_price: Decimal
    minimum_next_bid: Decimal
    bid_count: int
    ends_at: datetime
    extended: bool


@dataclass(frozen=True)
class CloseResult:
    auction_id: int
    status: str
    order_id: int | None


def _valid_money(value: object) -> Decimal:
    if (
        not isinstance(value, Decimal)
        or not value.is_finite()
        or value <= 0
        or value != value.quantize(PAISA)
    ):
        raise BidRejected(_("Enter an amount in rupees, like 5000."), code="invalid_amount")
    if value > settings.MAX_PRICE:
        raise BidRejected(_("That amount is too large."), code="too_high")
    return quantize(value)


def _check_amounts(amount: object, max_amount: object) -> tuple[Decimal, Decimal]:
    """Shape of the amounts: positive whole paisa, under the ceiling, maximum >= bid."""
    amount = _valid_money(amount)
    if max_amount is None:
        return amount, amount
    ceiling = _valid_money(max_amount)
    if ceiling < amount:
        raise BidRejected(_("Your maximum must be at least your bid."), code="max_below_amount")
    return amount, ceiling


def place_bid(
    *, auction_id: int, bidder: User, amount: Decimal, max_amount: Decimal | None = None
) -> BidResult:
    """Judge one bid under the auction's row lock; broadcast and notify after commit."""
    amount, ceiling = _check_amounts(amount, max_amount)
    if bidder is None or not bidder.is_authenticated:
        raise BidRejected(_("Log in to bid."), code="login_required")

    refuse_if_known_too_low(auction_id=auction_id, amount=amount)
    _refuse_if_already_too_low(auction_id, amount)

    with transaction.atomic():
        # Re-read: a WebSocket's user object was loaded when it connected. Read before taking
        # the auction's lock, so the lock is held for one statement less.
        state = (
            User.objects.filter(pk=bidder.pk).values("is_active", "blocked_at", "language").first()
        )
        if state is None or not state["is_active"]:
            raise BidRejected(_("Log in to bid."), code="login_required")
        if state["blocked_at"] is not None:
            raise BidRejected(
                _("Your account may not bid because of unpaid orders. Contact us to resolve it."),
                code="blocked",
            )
        auction = (
            AuctionListing.objects.select_for_update(of=("self",))
            .select_related("leading_bid__bidder", "product")
            .filter(pk=auction_id)
            .first()
        )
        product = getattr(auction, "product", None) if auction is not None else None
        if product is None:
            raise BidRejected(_("This auction does not exist."), code="not_found")
        now = db_now()
        if bidder.pk == product.seller_id:
            raise BidRejected(_("You cannot bid on your own auction."), code="own_auction")
        if auction.status == AuctionListing.Status.LIVE and now < auction.starts_at:
            raise BidRejected(_("This auction has not started yet."), code="not_started")
        if not auction.is_open(now):
            raise BidRejected(_("This auction has ended."), code="auction_closed")
        minimum = auction.minimum_next_bid()
        leader = auction.leading_bid
        leader_id = leader.bidder_id if leader else None

        if amount < minimum:
            _remember_minimum(auction.pk, minimum, auction.ends_at)
            raise _too_low(minimum)
        reserve = auction.reserve_price
        new_bids: list[Bid] = []
        leader_max = auction.leading_max_amount or (leader.amount if leader else None)
        if leader_id == bidder.pk:
            if ceiling <= leader_max:
                raise BidRejected(
                    _("You are already the highest bidder, with a maximum of %(maximum)s.")
                    % {"maximum": _rupees(leader_max)},
                    code="already_leading",
                )
            if reserve is None or not auction.current_price < reserve <= ceiling:
                return _raise_own_maximum(auction, ceiling)
            # A new maximum that reaches the hidden reserve lifts the price to it (eBay):
            # the one case where the leader's raise places a bid.
            own = Bid(
                auction=auction,
                bidder=bidder,
                amount=reserve,
                max_amount=ceiling,
                is_automatic=True,
            )
            new_bids.append(own)
            winner_bid, winner_max = own, ceiling
        elif leader is None:
            own = Bid(auction=auction, bidder=bidder, amount=amount, max_amount=ceiling)
            new_bids.append(own)
            winner_bid, winner_max = own, ceiling
        elif ceiling <= leader_max:
            # The leader's earlier maximum holds (ties go to the earlier maximum): the
            # challenger bids their ceiling, the proxy answers one increment above, capped.
            own = Bid(
                auction=auction,
                bidder=bidder,
                amount=ceiling,
                max_amount=ceiling,
                is_automatic=ceiling != amount,
            )
            reply = Bid(
                auction=auction,
                bidder_id=leader_id,
                amount=min(ceiling + bid_increment(ceiling), leader_max),
                max_amount=leader_max,
                is_automatic=True,
            )
            new_bids += [own, reply]
            winner_bid, winner_max = reply, leader_max
        else:
            # The challenger beats the leader's maximum: the leader's proxy first bids all
            # of it, then the challenger leads by one increment (or their own bid if higher).
            if leader_max > auction.current_price:
                new_bids.append(
                    Bid(
                        auction=auction,
                        bidder_id=leader_id,
                        amount=leader_max,
                        max_amount=leader_max,
                        is_automatic=True,
                    )
                )
            price = max(amount, min(leader_max + bid_increment(leader_max), ceiling))
            own = Bid(
                auction=auction,
                bidder=bidder,
                amount=price,
                max_amount=ceiling,
                is_automatic=price != amount,
            )
            new_bids.append(own)
            winner_bid, winner_max = own, ceiling

        if reserve is not None and winner_bid.amount < reserve <= winner_max:
            # The winning maximum reaches the reserve: the price goes straight to it.
            winner_bid.amount = reserve
            winner_bid.is_automatic = True
        for bid in new_bids:
            bid.created_at = now
            bid.save()
        auction.current_price = winner_bid.amount
        auction.bid_count += len(new_bids)
        auction.leading_bid = winner_bid
        auction.leading_max_amount = winner_max
        fields = ["current_price", "bid_count", "leading_bid", "leading_max_amount"]
        extended = _soft_close(auction, now)
        if extended:
            fields += ["ends_at", "original_ends_at"]
        auction.save(update_fields=fields)
        Product.objects.filter(auction_id=auction.pk).update(display_price=auction.current_price)

        previous_count = auction.bid_count - len(new_bids)
        next_minimum, ends_at = auction.minimum_next_bid(), auction.ends_at
        transaction.on_commit(lambda: _remember_minimum(auction.pk, next_minimum, ends_at))
        # Registered before the notices' own after-commit work, so watchers hear first.
        transaction.on_commit(
            lambda: realtime.broadcast_auction(
                auction.pk, "new_bid", extended=extended, prev_seq=previous_count
            )
        )
        if leader_id is not None and winner_bid.bidder_id != leader_id:
            _notify_outbid(auction, leader_id, winner_bid, leader.bidder.language)
        if winner_bid.bidder_id != bidder.pk:
            # Beaten at once by the leader's proxy: told in the reply, and by a notice.
            _notify_outbid(auction, bidder.pk, winner_bid, state["language"])
    return BidResult(
        auction_id=auction.pk,
        bid_id=own.pk,
        is_leading=winner_bid.bidder_id == bidder.pk,
        current_price=auction.current_price,
        minimum_next_bid=auction.minimum_next_bid(),
        bid_count=auction.bid_count,
        ends_at=auction.ends_at,
        extended=extended,
    )


def _refuse_if_already_too_low(auction_id: int, amount: Decimal) -> None:
    """Refuse a bid below the minimum without queueing for the auction's lock.

    An open auction's minimum next bid only ever rises, so a bid below the minimum of an
    unlocked read is below it under the lock too. Under contention most refusals are of this
    kind (another bid got in first), and each would otherwise wait its turn for the lock.
    Anything else (not open, unknown auction, a bid that may be high enough) takes the
    locked path, which judges it fully.
    """
    seen = (
        AuctionListing.objects.filter(pk=auction_id)
        .values("status", "starts_at", "ends_at", "starting_price", "current_price", "bid_count")
        .annotate(db_now=Now())  # no lock to wait for: the statement's time is "now"
        .first()
    )
    if seen is None:
        return
    now = seen.pop("db_now")
    auction = AuctionListing(**seen)
    minimum = auction.minimum_next_bid()
    if auction.is_open(now):
        _remember_minimum(auction_id, minimum, auction.ends_at)
        if amount < minimum:
            raise _too_low(minimum)


# What this process last saw of each open auction: (minimum next bid, end, when seen).
_known_minimums: dict[int, tuple[Decimal, datetime, float]] = {}
KNOWN_MINIMUM_SECONDS = 1.0  # how long a sighting is trusted
KNOWN_MINIMUM_END_MARGIN = timedelta(seconds=10)  # never trusted this close to the end
KNOWN_MINIMUM_MAX_ENTRIES = 10_000


def refuse_if_known_too_low(*, auction_id: int, amount: Decimal) -> None:
    """Refuse a bid below a minimum this process saw within the last second, with no query.

    An open auction's minimum next bid only ever rises, so a bid below one seen a moment ago
    is below the current one too. On a hot auction most bids are of this kind (another bidder
    got in first); answering them here keeps them off the database and out of the queue of
    bids waiting to run. A sighting is trusted briefly and never in the last seconds before
    the end (this process's clock may differ from the database's), so anything else, like an
    auction cancelled meanwhile, is judged by the full path a moment later.
    """
    seen = _known_minimums.get(auction_id)
    if seen is None:
        return
    minimum, ends_at, seen_at = seen
    fresh = time.monotonic() - seen_at < KNOWN_MINIMUM_SECONDS
    if fresh and timezone.now() < ends_at - KNOWN_MINIMUM_END_MARGIN and amount < minimum:
        raise _too_low(minimum)


def _remember_minimum(auction_id: int, minimum: Decimal, ends_at: datetime) -> None:
    if len(_known_minimums) >= KNOWN_MINIMUM_MAX_ENTRIES:
        _known_minimums.clear()  # sightings only save work; losing them costs a query each
    _known_minimums[auction_id] = (minimum, ends_at, time.monotonic())


def _too_low(minimum: Decimal) -> BidRejected:
    return BidRejected(
        _("Bid at least %(minimum)s.") % {"minimum": _rupees(minimum)}, code="too_low"
    )


def _raise_own_maximum(auction: AuctionListing, ceiling: Decimal) -> BidResult:
    """The leader never bids against themselves: a higher ceiling only raises the proxy."""
    auction.leading_max_amount = ceiling
    auction.save(update_fields=["leading_max_amount"])
    return BidResult(
        auction_id=auction.pk,
        bid_id=None,
        is_leading=True,
        current_price=auction.current_price,
        minimum_next_bid=auction.minimum_next_bid(),
        bid_count=auction.bid_count,
        ends_at=auction.ends_at,
        extended=False,
    )


def _soft_close(auction: AuctionListing, now: datetime) -> bool:
    window = timedelta(seconds=settings.AUCTION_SOFT_CLOSE_WINDOW_SECONDS)
    new_end = now + timedelta(seconds=settings.AUCTION_SOFT_CLOSE_EXTENSION_SECONDS)
    if auction.ends_at - now <= window and new_end > auction.ends_at:
        if auction.original_ends_at is None:
            auction.original_ends_at = auction.ends_at
        auction.ends_at = new_end
        return True
    return False


_lazy_rupees = lazy(format_pkr, str)


def _rupees(amount: Decimal) -> str:
    return format_pkr(amount)


def _notify_outbid(auction: AuctionListing, user_id: int, winning: Bid, language: str) -> None:
    title = auction.product.title  # loaded with the locked row
    notify(
        user=User(pk=user_id),
        kind=Notification.Kind.OUTBID,
        title=lazy_format(gettext_lazy("You have been outbid on “%(title)s”"), title=title),
        body=lazy_format(
            gettext_lazy("The price is now %(price)s. Bid again before the auction ends."),
            price=_lazy_rupees(winning.amount),
        ),
        url=reverse("auction_detail", args=[auction.pk]),
        dedupe_key=f"auction:{auction.pk}:bid:{winning.pk}",
        language=language or settings.LANGUAGE_CODE,  # read with the bid's own rows
    )


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
    second order impossible. The work is one statement per table for all of them. Returns one
    result per auction closed, by pk.
    """
    with transaction.atomic():
        # Locked in pk order, so two runs that wait for each other take their locks in the
        # same order. The winner (with their language) comes with the row.
        auctions = list(
            AuctionListing.objects.select_for_update(of=("self",), skip_locked=skip_locked)
            .select_related("leading_bid__bidder", "product__seller")
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
        for auction in due:
            auction.closed_at = now
            order = orders.get(auction.pk)
            if order is not None:
                auction.status = AuctionListing.Status.ENDED_SOLD
                auction.winner = auction.leading_bid.bidder
                notices += _sold_notices(auction, order)
            else:
                auction.status = AuctionListing.Status.ENDED_UNSOLD
                notices.append(_unsold_notice(auction))
        _record_outcomes(due, now)
        notify_many(notices)
        closed_ids = [auction.pk for auction in due]
        transaction.on_commit(lambda: _broadcast_ended(closed_ids))
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


def _sold_notices(auction: AuctionListing, order: Order) -> list[Notice]:
    # Notices are written in each recipient's language (lazy until notify_many renders them).
    product = auction.product
    price = _lazy_rupees(auction.current_price)
    url = reverse("order_detail", args=[order.number])
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


def _unsold_notice(auction: AuctionListing) -> Notice:
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
        url=reverse("dashboard_listings") + "?status=auction",
        dedupe_key=f"auction:{auction.pk}",
    )


def _create_winner_orders(auctions: list[AuctionListing], now: datetime) -> dict[int, Order]:
    """A checkout, an order awaiting payment and its item for each winner: three INSERTs."""
    if not auctions:
        return {}
    checkouts = Checkout.objects.bulk_create(
        [
            Checkout(number=new_reference("C"), buyer_id=a.leading_bid.bidder_id, created_at=now)
            for a in auctions
        ]
    )
    deadline = now + timedelta(hours=settings.AUCTION_PAYMENT_DEADLINE_HOURS)
    orders = Order.objects.bulk_create(
        [
            Order(
                number=new_reference("A"),
                checkout=checkout,
                buyer_id=checkout.buyer_id,
                seller_id=auction.product.seller_id,
                auction=auction,
                status=Order.Status.AWAITING_PAYMENT,
                subtotal=auction.current_price,
                shipping_fee=Decimal("0.00"),
                total=auction.current_price,
                payment_deadline=deadline,
                created_at=now,
            )
            for auction, checkout in zip(auctions, checkouts, strict=True)
        ]
    )
    OrderItem.objects.bulk_create(
        [
            OrderItem(
                order=order,
                product=auction.product,
                title=auction.product.title,
                unit_price=auction.current_price,
                quantity=1,
                line_total=auction.current_price,
            )
            for auction, order in zip(auctions, orders, strict=True)
        ]
    )
    return {order.auction_id: order for order in orders}


def create_auction(
    *,
    seller: User,
    title: str,
    description: str,
    category: Category,
    condition: str,
    city: City,
    starting_price: Decimal,
    reserve_price: Decimal | None = None,
    duration_days: int,
    starts_at: datetime | None = None,
    images: Sequence = (),
) -> AuctionListing:
    """Create a live auction, its product and its photos (uploads or ProcessedImage objects).

    The form asks for 1 to 8 photos; the service refuses more than 8 and a photo that does not
    decode, and accepts none so that data loaders and tests can make auctions without files.
    """
    if not seller.is_seller:
        raise ListingError(_("Only sellers can start auctions."), code="not_seller")
    if not MIN_DURATION_DAYS <= duration_days <= MAX_DURATION_DAYS:
        raise ListingError(
            _("An auction lasts between %(low)s and %(high)s days.")
            % {"low": MIN_DURATION_DAYS, "high": MAX_DURATION_DAYS},
            code="invalid_duration",
        )
    if starting_price <= 0 or starting_price > settings.MAX_PRICE:
        raise ListingError(_("Enter a sensible starting price."), code="invalid_amount")
    if reserve_price is not None and not starting_price <= reserve_price <= settings.MAX_PRICE:
        raise ListingError(
            _("The reserve price cannot be below the starting price."), code="invalid_reserve"
        )
    if len(images) > MAX_IMAGES:
        raise ListingError(
            _("A listing can have at most %(max)s photos.") % {"max": MAX_IMAGES}, code="images"
        )
    start = starts_at or timezone.now()
    with transaction.atomic():
        auction = AuctionListing.objects.create(
            starting_price=starting_price,
            reserve_price=reserve_price,
            current_price=starting_price,
            starts_at=start,
            ends_at=start + timedelta(days=duration_days),
            status=AuctionListing.Status.LIVE,
        )
        product = Product.objects.create(
            seller=seller,
            title=title,
            description=description,
            category=category,
            condition=condition,
            city=city,
            auction=auction,
            display_price=starting_price,
        )
        listings.save_images(product=product, files=images, start_position=0)
        listings.refresh_search_vector([product.pk])
    return auction


def relistable_auction_ids(auction_ids: Collection[int], *, lock: bool = False) -> set[int]:
    """Those of `auction_ids` that may be relisted: not relisted yet, and ended unsold, or
    sold to a buyer who did not pay, with no open second-chance offer and every order for
    the item (the winner's, a runner-up's) cancelled.

    With `lock` (inside relist_auction's transaction, the auction already locked) the
    second-chance offers are locked too. Accepting an offer locks it and needs it open, and
    an open offer forbids the relist: a runner-up accepting at the same moment either comes
    first (their order stands: no relist) or waits and finds the offer closed.
    """
    ended = dict(
        AuctionListing.objects.filter(
            pk__in=auction_ids,
            relisted_as__isnull=True,
            status__in=[AuctionListing.Status.ENDED_UNSOLD, AuctionListing.Status.ENDED_SOLD],
        ).values_list("pk", "status")
    )
    sold = [pk for pk, status in ended.items() if status == AuctionListing.Status.ENDED_SOLD]
    if not sold:
        return set(ended)
    offers = SecondChanceOffer.objects.filter(auction_id__in=sold)
    if lock:
        offers = offers.select_for_update(of=("self",))
    still_offered = {o.auction_id for o in offers if o.status == o.Status.OFFERED and o.is_open()}
    orders = Order.objects.filter(
        Q(auction_id__in=sold) | Q(second_chance_offer__auction_id__in=sold)
    ).values_list("auction_id", "second_chance_offer__auction_id", "status")
    with_orders, standing = set(), set()
    for auction_id, offer_auction_id, status in orders:
        pk = auction_id or offer_auction_id
        with_orders.add(pk)
        if status != Order.Status.CANCELLED:
            standing.add(pk)
    fell_through = with_orders - standing - still_offered
    return {pk for pk, status in ended.items() if status != AuctionListing.Status.ENDED_SOLD} | (
        fell_through & set(sold)
    )


def relist_auction(*, seller: User, auction_id: int) -> AuctionListing:
    """Start a new auction from one that ended unsold, or whose buyer did not pay: same item,
    terms, duration and photos.

    Exactly once: the old auction is locked and remembers its successor, so a second request
    (a double click) returns the auction the first one made.
    """
    with transaction.atomic():
        old = (
            AuctionListing.objects.select_for_update(of=("self",))
            .filter(pk=auction_id, product__seller=seller)
            .first()
        )
        if old is None:
            raise ListingError(_("This auction is not yours to relist."), code="not_owner")
        if old.relisted_as_id is not None:
            return old.relisted_as
        if old.pk not in relistable_auction_ids([old.pk], lock=True):
            raise ListingError(
                _(
                    "Only an auction that ended unsold, or whose buyer did not pay, can be "
                    "relisted."
                ),
                code="not_unsold",
            )
        product = Product.objects.get(auction_id=old.pk)
        scheduled = (old.original_ends_at or old.ends_at) - old.starts_at
        days = round(scheduled / timedelta(days=1))
        new = create_auction(
            seller=seller,
            title=product.title,
            description=product.description,
            category=product.category,
            condition=product.condition,
            city=product.city,
            starting_price=old.starting_price,
            reserve_price=old.reserve_price,
            duration_days=min(MAX_DURATION_DAYS, max(MIN_DURATION_DAYS, days)),
            images=[stored_photo(image) for image in product.images.all()],
        )
        old.relisted_as = new
        old.save(update_fields=["relisted_as"])
    return new
