"""Delivery fees and estimates (issue 15): what a shop charges to send an order to a city, and
how long it takes. One fee per order (per seller), whatever its items; the shop sets it flat or
by province, with its dispatch time, in the shop settings."""

from dataclasses import dataclass
from decimal import Decimal

from marketplace.models import City, DeliveryFeeMode, SellerProfile, User

ZERO = Decimal("0.00")

# Days in the courier's hands after dispatch (from, to): same city, same province, elsewhere.
TRANSIT_DAYS = {"city": (1, 1), "province": (1, 2), "country": (2, 4)}


@dataclass(frozen=True)
class DeliveryQuote:
    """The fee (or its range when it depends on a province we do not know yet) and the days."""

    fee_min: Decimal
    fee_max: Decimal
    min_days: int
    max_days: int
    city: City | None = None  # the destination, when known

    @property
    def fee(self) -> Decimal | None:
        """The fee, or None while it depends on the province."""
        return self.fee_min if self.fee_min == self.fee_max else None

    @property
    def is_free(self) -> bool:
        return self.fee_max == ZERO


def _rates(profile: SellerProfile) -> dict[int, Decimal]:
    """Province id -> fee, from a prefetched `delivery_rates` when there is one."""
    return {rate.province_id: rate.fee for rate in profile.delivery_rates.all()}


def fee_to(profile: SellerProfile | None, province_id: int | None) -> Decimal:
    """The shop's delivery fee for one order to `province_id` (its flat fee for a province it has
    not listed, or a shop that charges the same everywhere)."""
    if profile is None:
        return ZERO
    if profile.delivery_fee_mode == DeliveryFeeMode.PROVINCE and province_id is not None:
        return _rates(profile).get(province_id, profile.delivery_fee)
    return profile.delivery_fee


def _transit(origin: City | None, city: City | None) -> tuple[int, int]:
    if city is None or origin is None:
        return TRANSIT_DAYS["country"]
    if city.pk == origin.pk:
        return TRANSIT_DAYS["city"]
    if city.province_id == origin.province_id:
        return TRANSIT_DAYS["province"]
    return TRANSIT_DAYS["country"]


def quote(
    profile: SellerProfile | None, city: City | None = None, *, origin: City | None = None
) -> DeliveryQuote | None:
    """What delivery costs and takes from `origin` (an item's city; default the shop's) to
    `city` (None: the shop's rule, as a range)."""
    if profile is None:
        return None
    low, high = _transit(origin or profile.city, city)
    days = profile.dispatch_days
    if city is not None or profile.delivery_fee_mode == DeliveryFeeMode.FLAT:
        fee = fee_to(profile, city.province_id if city is not None else None)
        fees = (fee, fee)
    else:
        every = [profile.delivery_fee, *_rates(profile).values()]
        fees = (min(every), max(every))
    return DeliveryQuote(
        fee_min=fees[0], fee_max=fees[1], min_days=days + low, max_days=days + high, city=city
    )


def buyer_city(user: User) -> City | None:
    """Where the buyer's parcels usually go: their default (or newest) address's city."""
    if not user.is_authenticated:
        return None
    address = user.addresses.select_related("city__province").first()
    return address.city if address is not None else None


def shop_of(seller_id: int) -> SellerProfile | None:
    return (
        SellerProfile.objects.filter(user_id=seller_id)
        .select_related("city__province")
        .prefetch_related("delivery_rates")
        .first()
    )


def product_delivery_context(product, user: User) -> dict:
    """What a product or auction page shows about delivery: the quote to the viewer's city
    (their default address) or the shop's rule, and whether the shop takes cash on delivery."""
    profile = shop_of(product.seller_id)
    cod = profile is not None and (
        profile.cod_for_auctions if product.is_auction else profile.accepts_cod
    )
    return {
        "delivery_quote": quote(profile, buyer_city(user), origin=product.city),
        "cod_available": cod,
        "delivery_shop": profile,  # for the quote to each signed-in visitor (personal.py)
    }
