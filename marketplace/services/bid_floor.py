"""The process-wide known-minimum cache: a performance seam, not a rule.

An open auction's minimum next bid only ever rises, so a bid below a minimum this process saw
a moment ago is below the current one too. On a hot auction most bids are of that kind (another
bidder got in first); refusing them here keeps them off the database and out of the queue of
bids waiting for the auction's row lock. The rule itself is judged by `bidding.place_bid` under
that lock: everything here only saves work, and losing it costs a query per bid.

Callers use `refuse_if_known_too_low` (the bid consumer before it leaves the event loop,
`place_bid` before it queries) and `remember` (whenever a minimum of an open auction is read).
"""

import time
from datetime import datetime, timedelta
from decimal import Decimal

from django.utils import timezone
from django.utils.translation import gettext as _

from marketplace.exceptions import BidRejected
from marketplace.money import format_pkr

# What this process last saw of each open auction: (minimum next bid, end, when seen).
_known_minimums: dict[int, tuple[Decimal, datetime, float]] = {}
KNOWN_MINIMUM_SECONDS = 1.0  # how long a sighting is trusted
KNOWN_MINIMUM_END_MARGIN = timedelta(seconds=10)  # never trusted this close to the end
KNOWN_MINIMUM_MAX_ENTRIES = 10_000


def refuse_if_known_too_low(*, auction_id: int, amount: Decimal) -> bool:
    """Refuse a bid below a minimum this process saw within the last second, with no query.

    Returns whether such a sighting exists and the bid is at or above it (`place_bid` then
    skips its unlocked read, which could only say the same). A sighting is trusted briefly
    and never in the last seconds before the end (this process's clock may differ from the
    database's), so anything else, like an auction cancelled meanwhile, is judged by the full
    path a moment later.
    """
    seen = _known_minimums.get(auction_id)
    if seen is None:
        return False
    minimum, ends_at, seen_at = seen
    fresh = time.monotonic() - seen_at < KNOWN_MINIMUM_SECONDS
    if not fresh or timezone.now() >= ends_at - KNOWN_MINIMUM_END_MARGIN:
        return False
    if amount < minimum:
        raise too_low(minimum)
    return True


def remember(auction_id: int, minimum: Decimal, ends_at: datetime) -> None:
    """Note the minimum next bid of an open auction, as read just now."""
    if len(_known_minimums) >= KNOWN_MINIMUM_MAX_ENTRIES:
        _known_minimums.clear()  # sightings only save work; losing them costs a query each
    _known_minimums[auction_id] = (minimum, ends_at, time.monotonic())


def forget_all() -> None:
    """Drop every sighting (tests reuse auction ids across rolled-back databases)."""
    _known_minimums.clear()


def too_low(minimum: Decimal) -> BidRejected:
    """The refusal of a bid below `minimum` (the same words whichever check finds it)."""
    return BidRejected(
        _("Bid at least %(minimum)s.") % {"minimum": format_pkr(minimum)}, code="too_low"
    )
