"""Read side of the cart and the checkout summary: lines grouped by seller, with warnings."""

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal

from django.utils import timezone
from django.utils.translation import gettext_lazy

from marketplace import delivery
from marketplace.delivery import DeliveryQuote
from marketplace.exceptions import PurchaseRejected
from marketplace.models import CartItem, City, FixedPriceListing, Product, SellerProfile, User
from marketplace.money import quantize
from marketplace.services import payouts
from marketplace.services.orders import check_listing_purchase, shop_profiles
from marketplace.services.payment_methods import PaymentChoice, payment_choices


@dataclass
class BasketLine:
    listing: FixedPriceListing
    product: Product
    quantity: int
    unit_price: Decimal
    item: CartItem | None = None
    problem: str = ""
    error: str = ""  # what went wrong with the buyer's last change to this line
    price_was: Decimal | None = None

    @property
    def line_total(self) -> Decimal:
        return quantize(self.unit_price * self.quantity)

    @property
    def buyable(self) -> bool:
        return not self.problem

    @property
    def price_changed(self) -> bool:
        return self.price_was is not None and self.price_was != self.unit_price


@dataclass
class SellerGroup:
    seller: User
    lines: list[BasketLine] = field(default_factory=list)
    profile: SellerProfile | None = None  # the shop, with its delivery fees by province
    delivery: DeliveryQuote | None = None  # to the basket's destination (`Basket.deliver_to`)

    @property
    def subtotal(self) -> Decimal:
        return sum((line.line_total for line in self.lines if line.buyable), Decimal("0.00"))

    @property
    def has_buyable(self) -> bool:
        return any(line.buyable for line in self.lines)

    @property
    def delivery_fee(self) -> Decimal:
        """The fee this order will carry (the highest of the shop's range, city unknown)."""
        if self.delivery is None or not self.has_buyable:
            return Decimal("0.00")
        return self.delivery.fee_max


@dataclass
class Basket:
    groups: list[SellerGroup]

    @property
    def lines(self) -> list[BasketLine]:
        return [line for group in self.groups for line in group.lines]

    @property
    def buyable_lines(self) -> list[BasketLine]:
        return [line for line in self.lines if line.buyable]

    @property
    def total(self) -> Decimal:
        """The items (what the checkout form sends as `expected_total`)."""
        return sum((group.subtotal for group in self.groups), Decimal("0.00"))

    @property
    def delivery_total(self) -> Decimal:
        return sum((group.delivery_fee for group in self.groups), Decimal("0.00"))

    @property
    def delivery_known(self) -> bool:
        """Every order's fee is known (the destination is, or no shop charges by province)."""
        return all(g.delivery is None or g.delivery.fee is not None for g in self.groups)

    @property
    def grand_total(self) -> Decimal:
        return self.total + self.delivery_total

    def deliver_to(self, city: City | None) -> "Basket":
        """Price delivery to `city` (None: each shop's rule)."""
        for group in self.groups:
            # Sent from where the items are (the first one's city; a shop's items are nearly
            # always in one place), as the product page says.
            origin = next((line.product.city for line in group.lines if line.buyable), None)
            group.delivery = delivery.quote(group.profile, city, origin=origin)
        return self

    def payment_choices(self, buyer: User) -> list[PaymentChoice]:
        """The ways to pay this basket, each with why it is refused (`payment_choices`)."""
        return payment_choices(
            buyer=buyer,
            profiles=[g.profile for g in self.groups if g.has_buyable],
            total=self.grand_total,
        )

    @property
    def has_problems(self) -> bool:
        return any(not line.buyable or line.price_changed for line in self.lines)

    @property
    def seller_count(self) -> int:
        return sum(1 for group in self.groups if any(line.buyable for line in group.lines))

    def __bool__(self) -> bool:
        return bool(self.groups)


SELLER_NOT_READY = gettext_lazy(
    "The seller has not finished setting up how they are paid, so this item cannot be bought yet."
)


def build_basket(
    buyer: User,
    entries: Iterable[tuple[FixedPriceListing, int, CartItem | None]],
    now: datetime | None = None,
) -> Basket:
    """Group (listing, quantity, cart item) by seller; each line says if it can be bought now."""
    now = now or timezone.now()
    groups: dict[int, SellerGroup] = {}
    for listing, quantity, item in entries:
        product = listing.product
        line = BasketLine(
            listing=listing,
            product=product,
            quantity=quantity,
            unit_price=listing.current_price(now),
            item=item,
            price_was=item.price_when_added if item else None,
        )
        try:
            check_listing_purchase(buyer=buyer, listing=listing, product=product, quantity=quantity)
        except PurchaseRejected as error:
            line.problem = error.message
        groups.setdefault(product.seller_id, SellerGroup(seller=product.seller)).lines.append(line)
    for seller_id in payouts.unready_sellers(groups):
        for line in groups[seller_id].lines:
            line.problem = line.problem or str(SELLER_NOT_READY)
    profiles = shop_profiles(groups) if groups else {}
    for seller_id, group in groups.items():
        group.profile = profiles.get(seller_id)
    return Basket(groups=list(groups.values())).deliver_to(delivery.buyer_city(buyer))


def listings_with_products():
    return FixedPriceListing.objects.filter(product__isnull=False).select_related(
        "product__seller__seller_profile", "product__city"
    )


def cart_items(user: User):
    return (
        CartItem.objects.filter(user=user, listing__product__isnull=False)
        .select_related("listing__product__seller__seller_profile", "listing__product__city")
        .prefetch_related("listing__product__images")
        .order_by("added_at", "pk")
    )


def cart_basket(user: User) -> Basket:
    return build_basket(user, ((item.listing, item.quantity, item) for item in cart_items(user)))
