"""A page's selling state: what a shared page shows of its products' prices, stock and auction
state, as a digest (marketplace/page_cache.py: a copy past its freshness is served again while
the digest of its products read now is the one it was rendered with)."""

import hashlib
from collections.abc import Iterable, Sequence
from datetime import datetime

from django.utils import timezone
from django.utils.timesince import timeuntil

from marketplace.models import AuctionListing, FixedPriceListing, Product

# What a page shows of a product's price, stock and auction state: its rows (not the
# description or the search document), and what the clock decides about them.
_STATE_SKIPPED = ("description", "search_vector")
_PRODUCT_STATE = [f for f in Product._meta.concrete_fields if f.name not in _STATE_SKIPPED]
_LISTING_STATE = FixedPriceListing._meta.concrete_fields
_AUCTION_STATE = AuctionListing._meta.concrete_fields


def selling_state(products: Iterable[Product]) -> str:
    """A digest of these products' selling state as loaded (page_cache: a copy past its
    freshness is served again while `selling_state_now` of its products gives the same)."""
    now = timezone.now()
    rows = []
    for product in sorted(products, key=lambda p: p.pk):
        listing = product.fixed_price if product.fixed_price_id else None
        auction = product.auction if product.auction_id else None
        rows.append(
            (
                _field_values(product, _PRODUCT_STATE),
                _field_values(listing, _LISTING_STATE),
                _field_values(auction, _AUCTION_STATE),
                clock_state(product, now),
            )
        )
    return hashlib.blake2b(repr(rows).encode(), digest_size=20).hexdigest()


def clock_state(product: Product, now: datetime) -> tuple:
    """What the clock decides about a product as a page shows it: whether its auction has
    ended and the time left it shows, or whether its sale is on (the card grid's key and a
    shared page's check both read it)."""
    if product.auction_id:
        auction = product.auction
        return (auction.has_ended(now), time_left_shown(auction.ends_at, now))
    if product.fixed_price_id:
        return (product.fixed_price.is_on_sale(now),)
    return ()


FOUR_WEEKS = 28 * 24 * 60 * 60


def time_left_shown(ends_at: datetime, now: datetime) -> object:
    """What `time_left` shows of an auction's end at `now`, without translating it: under four
    weeks its words follow from the whole minutes left (only months and years count by the
    calendar), and building them cost more than the rest of a card grid's key."""
    left = (ends_at - now).total_seconds()
    if left < FOUR_WEEKS:
        return max(0, int(left // 60))
    return timeuntil(ends_at, now, depth=1)


def selling_state_now(product_ids: Sequence[int]) -> str:
    """`selling_state` of these products as the database has them now (one query; a product
    gone since is missing from it, so the digest differs)."""
    if not product_ids:
        return selling_state([])
    products = (
        Product.objects.filter(pk__in=product_ids)
        .select_related("fixed_price", "auction")
        .only(
            *(f.name for f in _PRODUCT_STATE),
            *(f"fixed_price__{f.name}" for f in _LISTING_STATE),
            *(f"auction__{f.name}" for f in _AUCTION_STATE),
        )
    )
    return selling_state(products)


def _field_values(instance, fields) -> tuple | None:
    return None if instance is None else tuple(getattr(instance, f.attname) for f in fields)
