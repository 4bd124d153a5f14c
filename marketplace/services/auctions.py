"""Starting auctions and relisting ones that ended without a sale."""

from collections.abc import Collection, Sequence
from datetime import datetime, timedelta
from decimal import Decimal

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from marketplace.exceptions import ListingError
from marketplace.images import MAX_IMAGES, stored_photo
from marketplace.models import (
    AuctionListing,
    Category,
    City,
    Order,
    Product,
    SecondChanceOffer,
    User,
)
from marketplace.page_cache import catalogue_changed
from marketplace.services import listings

MIN_DURATION_DAYS = 1
MAX_DURATION_DAYS = 14


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
        catalogue_changed(product_ids=[product.pk], auction_ids=[auction.pk])
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
        catalogue_changed(auction_ids=[old.pk])
    return new
