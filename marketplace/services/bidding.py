"""Placing a bid: the one path every bid goes through (the web form and the WebSocket).

Closing auctions is `services.closing`, creating and relisting them `services.auctions`.
"""

from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from decimal import Decimal

from django.conf import settings
from django.db import connection, transaction
from django.db.models.functions import Now
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from marketplace import flood, realtime
from marketplace.exceptions import BidRejected
from marketplace.i18n import lazy_format
from marketplace.models import AuctionListing, Bid, Notification, Product, User
from marketplace.money import PAISA, format_pkr, lazy_pkr, quantize
from marketplace.page_cache import catalogue_changed
from marketplace.pricing import bid_increment
from marketplace.services import bid_floor
from marketplace.services.notifications import Notice, notify_many


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
    # Set when the leader only raised their own maximum (no bid placed, the price unchanged).
    raised_maximum: Decimal | None = None

    @property
    def bid_placed(self) -> bool:
        return self.raised_maximum is None


# --- Proxy bidding: the rules as a pure function ----------------------------------------------


@dataclass(frozen=True)
class ProxyBid:
    """A bid the resolution places: the bidder's own (`for_bidder`) or the leader's proxy's."""

    for_bidder: bool
    amount: Decimal
    max_amount: Decimal
    is_automatic: bool


@dataclass(frozen=True)
class ProxyOutcome:
    """What a bid does: `bids` to insert in order, the last one leading at `winner_max`.

    `kind` is "bids", "raise_maximum" (the leader raises their own ceiling: no bid, nothing
    else changes) or "already_leading" (the leader's new ceiling is not above the old one).
    """

    kind: str
    bids: tuple[ProxyBid, ...] = ()
    winner_max: Decimal | None = None


def resolve_proxy(
    *,
    amount: Decimal,
    ceiling: Decimal,
    current_price: Decimal,
    reserve: Decimal | None,
    leader_max: Decimal | None,
    bidder_leads: bool,
) -> ProxyOutcome:
    """The bids a bid of `amount` (maximum `ceiling`) causes, given the auction's state.

    `leader_max` is the current leader's maximum (None without a leader); `bidder_leads` says
    the bidder is that leader. Ties go to the earlier maximum; a winning maximum that reaches
    the hidden reserve lifts the price straight to it (eBay's rules). `amount` is at least the
    minimum next bid (checked before).
    """
    if bidder_leads:
        if ceiling <= leader_max:
            return ProxyOutcome("already_leading")
        if reserve is None or not current_price < reserve <= ceiling:
            return ProxyOutcome("raise_maximum", winner_max=ceiling)
        # A new maximum that reaches the hidden reserve lifts the price to it: the one case
        # where the leader's raise places a bid.
        bids = [ProxyBid(True, reserve, ceiling, True)]
        winner_max = ceiling
    elif leader_max is None:
        bids = [ProxyBid(True, amount, ceiling, False)]
        winner_max = ceiling
    elif ceiling <= leader_max:
        # The leader's earlier maximum holds: the challenger bids their ceiling, the proxy
        # answers one increment above, capped at the leader's maximum.
        reply = min(ceiling + bid_increment(ceiling), leader_max)
        bids = [
            ProxyBid(True, ceiling, ceiling, ceiling != amount),
            ProxyBid(False, reply, leader_max, True),
        ]
        winner_max = leader_max
    else:
        # The challenger beats the leader's maximum: the leader's proxy first bids all of it,
        # then the challenger leads by one increment (or their own bid if higher).
        bids = []
        if leader_max > current_price:
            bids.append(ProxyBid(False, leader_max, leader_max, True))
        price = max(amount, min(leader_max + bid_increment(leader_max), ceiling))
        bids.append(ProxyBid(True, price, ceiling, price != amount))
        winner_max = ceiling
    winner = bids[-1]
    if reserve is not None and winner.amount < reserve <= winner_max:
        bids[-1] = replace(winner, amount=reserve, is_automatic=True)
    return ProxyOutcome("bids", tuple(bids), winner_max)


# --- Placing a bid ------------------------------------------------------------------------------


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


@dataclass(frozen=True)
class _Locked:
    """What the locked read brings besides the auction: the database's "now" (read once the
    lock is held), the bidder's current state and the leader's id and language."""

    now: datetime
    bidder_language: str
    leader_id: int | None
    leader_language: str


def _locked_sql() -> str:
    """One statement: lock the auction row (with its product and leader), then read the
    bidder's state and the clock.

    The clock is read in the outer SELECT, which PostgreSQL evaluates only once the inner
    SELECT ... FOR UPDATE has its lock: in the locking SELECT's own select list,
    clock_timestamp() is evaluated before a lock wait (when the holder only locked the row;
    checked by `test_the_clock_is_read_after_the_lock_wait`).
    """
    auction, product = AuctionListing._meta.db_table, Product._meta.db_table
    bid, user = Bid._meta.db_table, User._meta.db_table
    postgres = connection.vendor == "postgresql"
    # Only table names from the models and fixed text are formatted in; values are parameters.
    return f"""
        SELECT locked.*, {"clock_timestamp()" if postgres else "NULL"} AS locked_at,
               bidder.is_active AS bidder_active, bidder.blocked_at AS bidder_blocked_at,
               bidder.language AS bidder_language
        FROM (
            SELECT auction.*, product.id AS product_pk, product.seller_id AS product_seller_id,
                   product.title AS product_title, leader.bidder_id AS leader_id,
                   leader_user.language AS leader_language
            FROM {auction} auction
            JOIN {product} product ON product.auction_id = auction.id
            LEFT JOIN {bid} leader ON leader.id = auction.leading_bid_id
            LEFT JOIN {user} leader_user ON leader_user.id = leader.bidder_id
            WHERE auction.id = %s {"FOR UPDATE OF auction" if postgres else ""}
        ) locked
        LEFT JOIN {user} bidder ON bidder.id = %s
    """  # noqa: S608


def _locked_open_auction(auction_id: int, bidder: User) -> tuple[AuctionListing, _Locked]:
    """The auction, locked, if `bidder` may bid on it now, in one round trip.

    The bidder's state is re-read (a WebSocket's user object was loaded when it connected);
    "now" is the database's clock once the lock is held.
    """
    row = next(iter(AuctionListing.objects.raw(_locked_sql(), [auction_id, bidder.pk])), None)
    if row is not None and not row.bidder_active:
        raise BidRejected(_("Log in to bid."), code="login_required")
    if row is not None and row.bidder_blocked_at is not None:
        raise BidRejected(
            _("Your account may not bid because of unpaid orders. Contact us to resolve it."),
            code="blocked",
        )
    if row is None:
        raise BidRejected(_("This auction does not exist."), code="not_found")
    row.product = Product(
        pk=row.product_pk, seller_id=row.product_seller_id, title=row.product_title, auction=row
    )
    now = row.locked_at or timezone.now()
    if bidder.pk == row.product_seller_id:
        raise BidRejected(_("You cannot bid on your own auction."), code="own_auction")
    if row.status == AuctionListing.Status.LIVE and now < row.starts_at:
        raise BidRejected(_("This auction has not started yet."), code="not_started")
    if not row.is_open(now):
        raise BidRejected(_("This auction has ended."), code="auction_closed")
    return row, _Locked(now, row.bidder_language, row.leader_id, row.leader_language or "")


def refuse_if_bidding_too_fast(bidder: User) -> None:
    """At most BID_RATE_LIMIT bids per BID_RATE_WINDOW_SECONDS per user, whatever the path."""
    if flood.over_limit(
        f"bids:{bidder.pk}",
        limit=settings.BID_RATE_LIMIT,
        window=settings.BID_RATE_WINDOW_SECONDS,
    ):
        raise BidRejected(
            _("You are bidding too fast: wait a moment and try again."), code="rate_limited"
        )


def place_bid(
    *,
    auction_id: int,
    bidder: User,
    amount: Decimal,
    max_amount: Decimal | None = None,
    limit_rate: bool = True,
) -> BidResult:
    """Judge one bid under the auction's row lock; broadcast and notify after commit.

    Every bid by a person counts against their rate limit (socket, form, HTMX and API alike);
    only the demo and benchmarks, which bid for made-up users, pass ``limit_rate=False``.
    """
    amount, ceiling = _check_amounts(amount, max_amount)
    if bidder is None or not bidder.is_authenticated:
        raise BidRejected(_("Log in to bid."), code="login_required")
    if limit_rate:
        refuse_if_bidding_too_fast(bidder)

    if not bid_floor.refuse_if_known_too_low(auction_id=auction_id, amount=amount):
        # No fresh sighting of the minimum says this bid is high enough: one unlocked read
        # may refuse it without queueing for the lock (with one, it would find the same).
        _refuse_if_already_too_low(auction_id, amount)

    with transaction.atomic():
        auction, locked = _locked_open_auction(auction_id, bidder)
        minimum = auction.minimum_next_bid()
        leader_id = locked.leader_id
        if amount < minimum:
            bid_floor.remember(auction.pk, minimum, auction.ends_at)
            raise bid_floor.too_low(minimum)
        # The leading bid's amount is the current price.
        leader_max = (auction.leading_max_amount or auction.current_price) if leader_id else None
        outcome = resolve_proxy(
            amount=amount,
            ceiling=ceiling,
            current_price=auction.current_price,
            reserve=auction.reserve_price,
            leader_max=leader_max,
            bidder_leads=leader_id == bidder.pk,
        )
        if outcome.kind == "already_leading":
            raise BidRejected(
                _("You are already the highest bidder, with a maximum of %(maximum)s.")
                % {"maximum": format_pkr(leader_max)},
                code="already_leading",
            )
        if outcome.kind == "raise_maximum":
            return _raise_own_maximum(auction, ceiling)

        new_bids = Bid.objects.bulk_create(
            [
                Bid(
                    auction=auction,
                    bidder_id=bidder.pk if proxy.for_bidder else leader_id,
                    amount=proxy.amount,
                    max_amount=proxy.max_amount,
                    is_automatic=proxy.is_automatic,
                    created_at=locked.now,
                )
                for proxy in outcome.bids
            ]
        )
        own = next(b for b, p in zip(new_bids, outcome.bids, strict=True) if p.for_bidder)
        winner_bid = new_bids[-1]
        auction.current_price = winner_bid.amount
        auction.bid_count += len(new_bids)
        auction.leading_bid = winner_bid
        auction.leading_max_amount = outcome.winner_max
        fields = ["current_price", "bid_count", "leading_bid", "leading_max_amount"]
        extended = _soft_close(auction, locked.now)
        if extended:
            fields += ["ends_at", "original_ends_at"]
        _save_with_display_price(auction, fields)
        catalogue_changed(auction_ids=[auction.pk])

        previous_count = auction.bid_count - len(new_bids)
        next_minimum, ends_at = auction.minimum_next_bid(), auction.ends_at
        transaction.on_commit(lambda: bid_floor.remember(auction.pk, next_minimum, ends_at))
        # Registered before the notices' own after-commit work, so watchers hear first. Only
        # a note to this process's broadcaster: the panel is rendered off the bid's path.
        transaction.on_commit(
            lambda: realtime.auction_changed(auction, prev_seq=previous_count, extended=extended)
        )
        outbid = []
        if leader_id is not None and winner_bid.bidder_id != leader_id:
            outbid.append((leader_id, locked.leader_language))
        if winner_bid.bidder_id != bidder.pk:
            # Beaten at once by the leader's proxy: told in the reply, and by a notice.
            outbid.append((bidder.pk, locked.bidder_language))
        _notify_outbid(auction, outbid, winner_bid)
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


def _save_with_display_price(auction: AuctionListing, fields: list[str]) -> None:
    """Save `fields` of the auction and its product's display price (the current price).

    On PostgreSQL one statement does both (the product's UPDATE in a WITH clause).
    """
    if connection.vendor != "postgresql":
        auction.save(update_fields=fields)
        Product.objects.filter(auction_id=auction.pk).update(display_price=auction.current_price)
        return
    quote = connection.ops.quote_name
    columns = [AuctionListing._meta.get_field(name) for name in fields]
    assignments = ", ".join(f"{quote(field.column)} = %s" for field in columns)
    values = [
        field.get_db_prep_save(getattr(auction, field.attname), connection) for field in columns
    ]
    with connection.cursor() as cursor:
        cursor.execute(
            f"WITH product AS (UPDATE {quote(Product._meta.db_table)} SET display_price = %s "  # noqa: S608
            f"WHERE auction_id = %s) "
            f"UPDATE {quote(AuctionListing._meta.db_table)} SET {assignments} WHERE id = %s",
            [auction.current_price, auction.pk, *values, auction.pk],
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
        bid_floor.remember(auction_id, minimum, auction.ends_at)
        if amount < minimum:
            raise bid_floor.too_low(minimum)


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
        raised_maximum=ceiling,
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


def _notify_outbid(auction: AuctionListing, readers: list[tuple[int, str]], winning: Bid) -> None:
    """Tell each of `readers` (user id, language) they were outbid by `winning`.

    The notices' key names the new bid, so none can exist yet: one INSERT, no savepoint.
    """
    title = auction.product.title  # read with the locked row
    notify_many(
        [
            Notice(
                user=User(pk=user_id),
                kind=Notification.Kind.OUTBID,
                title=lazy_format(gettext_lazy("You have been outbid on “%(title)s”"), title=title),
                body=lazy_format(
                    gettext_lazy("The price is now %(price)s. Bid again before the auction ends."),
                    price=lazy_pkr(winning.amount),
                ),
                url=reverse("auction_detail", args=[auction.pk]),
                dedupe_key=f"auction:{auction.pk}:bid:{winning.pk}",
                language=language or settings.LANGUAGE_CODE,
            )
            for user_id, language in readers
        ],
        new_keys=True,
    )
