"""Cart, fixed-price checkout, and the order timeline. Stock is taken here and given back in
`services.cancellation`."""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from marketplace import delivery
from marketplace.bulk import insert_all
from marketplace.exceptions import OutOfStock, PurchaseRejected
from marketplace.models import (
    Address,
    AuctionListing,
    CartItem,
    Checkout,
    FixedPriceListing,
    Order,
    OrderEvent,
    OrderItem,
    Product,
    SellerProfile,
    User,
)
from marketplace.models.orders import new_reference
from marketplace.money import format_pkr, quantize
from marketplace.page_cache import catalogue_changed
from marketplace.services import cod_rules, payment_methods, payouts

Line = tuple[FixedPriceListing, int]

# Every new checkout and order is numbered so (older ones may read C…/A…: still valid).
CHECKOUT_PREFIX = "C-"
ORDER_PREFIX = "MPK-"


def record_event(
    *, order: Order, kind: str, actor: User | None = None, note: str = ""
) -> OrderEvent:
    """Add one entry to the order's timeline (inside the caller's transaction)."""
    return OrderEvent.objects.create(order=order, kind=kind, actor=actor, note=note[:300])


def _product_of(listing: FixedPriceListing) -> Product:
    try:
        return listing.product
    except Product.DoesNotExist:  # a listing without its product cannot be sold
        raise PurchaseRejected(_("This item is no longer available."), code="unavailable") from None


def _check_quantity(quantity: object) -> int:
    if isinstance(quantity, bool) or not isinstance(quantity, int) or quantity < 1:
        raise PurchaseRejected(_("Choose a quantity of 1 or more."), code="bad_quantity")
    return quantity


def _buyer_blocked() -> PurchaseRejected:
    return PurchaseRejected(
        _("Your account is blocked from buying. Please contact us if you think this is wrong."),
        code="buyer_blocked",
    )


def check_listing_purchase(
    *, buyer: User, listing: FixedPriceListing, product: Product, quantity: int
) -> None:
    """Refuse a purchase of `quantity` of `listing` by `buyer`, naming the item."""
    title = product.title
    if product.seller_id == buyer.pk:
        raise PurchaseRejected(
            _("“%(title)s” is your own listing: you cannot buy it.") % {"title": title},
            code="own_listing",
        )
    if listing.status == FixedPriceListing.Status.WITHDRAWN:
        raise PurchaseRejected(
            _("“%(title)s” has been withdrawn by the seller.") % {"title": title},
            code="withdrawn",
        )
    if listing.status == FixedPriceListing.Status.SOLD_OUT or listing.quantity == 0:
        raise OutOfStock(_("“%(title)s” is sold out.") % {"title": title})
    if quantity > listing.quantity:
        raise OutOfStock(
            _("Only %(available)s of “%(title)s” available; you asked for %(quantity)s.")
            % {"available": listing.quantity, "title": title, "quantity": quantity}
        )
    if quantity > listing.max_per_order:
        raise _over_order_limit(listing, title)


def _over_order_limit(listing: FixedPriceListing, title: str) -> PurchaseRejected:
    return PurchaseRejected(
        _("You can buy at most %(limit)s of “%(title)s” in one order.")
        % {"limit": listing.max_per_order, "title": title},
        code="over_order_limit",
    )


def _merge_lines(lines: Sequence[Line]) -> dict[int, int]:
    """Listing pk -> total quantity, in the order first seen."""
    wanted: dict[int, int] = {}
    for listing, quantity in lines:
        wanted[listing.pk] = wanted.get(listing.pk, 0) + _check_quantity(quantity)
    return wanted


def open_unpaid_checkouts(buyer: User) -> int:
    """How many of the buyer's fixed-price checkouts still hold stock, unpaid (or, for cash on
    delivery, unconfirmed)."""
    return (
        Order.objects.filter(
            buyer=buyer,
            status__in=[Order.Status.AWAITING_PAYMENT, Order.Status.UNCONFIRMED],
            auction__isnull=True,
            second_chance_offer__isnull=True,
        )
        .values("checkout_id")
        .distinct()
        .count()
    )


@transaction.atomic
def place_checkout(
    *,
    buyer: User,
    lines: Sequence[Line],
    address: Address,
    expected_total: Decimal | None = None,
    from_cart: bool = True,
    idempotency_key: str | None = None,
    payment_method: str = Checkout.PaymentMethod.CARD,
) -> Checkout:
    """Reserve stock and create one checkout with one order per seller, awaiting payment (or,
    for cash on delivery, the buyer's confirmation: no payment provider is involved).
    `payment_method` is one of `payment_methods.placeable_methods()`: an online one is only preselected (the
    buyer may switch until paid, `payments.open_checkout_payment`).

    Each order's delivery fee is its shop's, to the address's province.
    `expected_total` is what the buyer was shown for the items (delivery not included); if
    prices moved since, nothing is bought.
    `from_cart` removes the bought listings from the buyer's cart ("Buy now" leaves it alone).
    `idempotency_key` comes from the checkout form: submitting it twice returns the first
    checkout instead of buying everything again.
    """
    if not lines:
        raise PurchaseRejected(_("There is nothing to buy."), code="empty")
    if payment_method not in payment_methods.placeable_methods():
        raise PurchaseRejected(_("This way of paying is not available."), code="bad_method")
    wanted = _merge_lines(lines)
    if address.user_id != buyer.pk:
        raise PurchaseRejected(_("Choose one of your own addresses."), code="bad_address")
    # Lock the buyer's row: a buyer's checkouts run one at a time, so a double submit waits
    # for the first and then finds it; the block is read fresh under the same lock.
    buyer_now = User.objects.select_for_update().get(pk=buyer.pk)
    if idempotency_key:
        existing = Checkout.objects.filter(buyer=buyer, idempotency_key=idempotency_key).first()
        if existing is not None:
            return existing
    if buyer_now.is_blocked:
        raise _buyer_blocked()
    # Counted under the buyer's lock, so parallel checkouts cannot slip past the limit.
    if open_unpaid_checkouts(buyer) >= settings.MAX_OPEN_UNPAID_CHECKOUTS:
        raise PurchaseRejected(
            _(
                "You already have %(count)s checkouts waiting for payment. Pay for one or "
                "cancel it before you check out again."
            )
            % {"count": settings.MAX_OPEN_UNPAID_CHECKOUTS},
            code="too_many_unpaid",
        )

    # Lock every listing in primary-key order, so two checkouts never wait on each other in a
    # cycle; stock is decided only while we hold these locks.
    locked = {
        listing.pk: listing
        for listing in FixedPriceListing.objects.select_for_update()
        .filter(pk__in=wanted)
        .order_by("pk")
    }
    products = {
        product.fixed_price_id: product
        for product in Product.objects.filter(fixed_price__in=list(locked)).select_related("seller")
    }
    now = timezone.now()
    priced: list[tuple[FixedPriceListing, Product, int, Decimal]] = []
    for pk, quantity in wanted.items():
        listing = locked.get(pk)
        product = products.get(pk)
        if listing is None or product is None:
            raise PurchaseRejected(
                _("One of the items is no longer available."), code="unavailable"
            )
        check_listing_purchase(buyer=buyer, listing=listing, product=product, quantity=quantity)
        priced.append((listing, product, quantity, listing.current_price(now)))
    unready = payouts.unready_sellers(product.seller_id for _l, product, _q, _p in priced)
    if unready:
        titles = ", ".join(f"“{p.title}”" for _l, p, _q, _p in priced if p.seller_id in unready)
        raise PurchaseRejected(
            _("The seller of %(titles)s cannot receive payments yet, so it cannot be bought now.")
            % {"titles": titles},
            code="seller_not_ready",
        )

    items_total = sum((quantize(price * qty) for _l, _p, qty, price in priced), Decimal("0"))
    if expected_total is not None:
        total = items_total
        if total != expected_total:
            raise PurchaseRejected(
                _(
                    "A price changed while you were checking out: the total is now "
                    "%(total)s. Please check the summary and confirm again."
                )
                % {"total": format_pkr(total)},
                code="price_changed",
            )

    is_cod = payment_method == Checkout.PaymentMethod.COD
    if is_cod:
        # Judged here, under the buyer's and the listings' locks, with the fees it will charge.
        profiles = shop_profiles({product.seller_id for _l, product, _q, _p in priced})
        province_id = address.city.province_id
        delivery_total = sum(
            (delivery.fee_to(profiles.get(seller_id), province_id) for seller_id in profiles),
            Decimal("0.00"),
        )
        refusal = cod_rules.cod_refusal(
            buyer=buyer_now,
            profiles=[profiles.get(p.seller_id) for _l, p, _q, _p in priced],
            total=items_total + delivery_total,
        )
        if refusal is not None:
            raise refusal

    for listing, _product, quantity, _price in priced:
        listing.quantity -= quantity
        update_fields = ["quantity"]
        if listing.quantity == 0:
            listing.status = FixedPriceListing.Status.SOLD_OUT
            update_fields.append("status")
        listing.save(update_fields=update_fields)
    catalogue_changed(product_ids=[product.pk for _l, product, _q, _p in priced])

    checkout = Checkout.objects.create(
        number=new_reference(CHECKOUT_PREFIX),
        buyer=buyer,
        created_at=now,
        idempotency_key=idempotency_key or "",
        payment_method=payment_method,
    )
    by_seller: dict[int, list[OrderLine]] = {}
    for listing, product, quantity, price in priced:
        line = OrderLine(product=product, unit_price=price, quantity=quantity, listing=listing)
        by_seller.setdefault(product.seller_id, []).append(line)
    # The stock is held only this long: unpaid (unconfirmed), the deadline job cancels and
    # restocks.
    if is_cod:
        deadline = now + timedelta(hours=settings.COD_CONFIRM_HOURS)
    else:
        deadline = now + timedelta(minutes=settings.CHECKOUT_HOLD_MINUTES)
    orders = create_orders(
        [
            NewOrder(
                buyer_id=buyer.pk,
                seller_id=seller_id,
                lines=lines,
                checkout=checkout,
                address=address,
            )
            for seller_id, lines in by_seller.items()
        ],
        now=now,
        payment_deadline=deadline,
        status=Order.Status.UNCONFIRMED if is_cod else Order.Status.AWAITING_PAYMENT,
    )
    if is_cod:
        for order in orders:
            order.buyer = buyer_now
            cod_rules.ask_for_confirmation(order)
    if from_cart:
        CartItem.objects.filter(user=buyer, listing__in=list(locked)).delete()
    return checkout


def shop_profiles(seller_ids) -> dict[int, SellerProfile]:
    """Seller id -> shop, with its delivery fees by province."""
    return {
        profile.user_id: profile
        for profile in SellerProfile.objects.filter(user_id__in=set(seller_ids))
        .select_related("city")
        .prefetch_related("delivery_rates")
    }


def delivery_fee(
    profiles: dict[int, SellerProfile], seller_id: int, address: Address | None
) -> Decimal:
    """The order's delivery fee: its shop's, to the address's province (none without one)."""
    if address is None:
        return Decimal("0.00")
    return delivery.fee_to(profiles.get(seller_id), address.city.province_id)


SHIPPING_FIELDS = [
    "ship_name",
    "ship_phone",
    "ship_line1",
    "ship_line2",
    "ship_city",
    "ship_province",
    "ship_postal_code",
]


def snapshot_address(order: Order, address: Address) -> None:
    """Copy the address onto the order (the caller saves, e.g. update_fields=SHIPPING_FIELDS):
    later edits to the address book never change where an order goes."""
    city = address.city
    order.ship_name = address.full_name
    order.ship_phone = address.phone
    order.ship_line1 = address.line1
    order.ship_line2 = address.line2
    order.ship_city = city.name
    order.ship_province = city.province.name
    order.ship_postal_code = address.postal_code


@dataclass(frozen=True)
class OrderLine:
    product: Product
    unit_price: Decimal
    quantity: int = 1
    listing: FixedPriceListing | None = None  # a fixed-price listing, whose stock it took


@dataclass(frozen=True)
class NewOrder:
    """One order to create: what one buyer gets from one seller."""

    buyer_id: int
    seller_id: int
    lines: Sequence[OrderLine]
    checkout: Checkout | None = None  # None: a checkout of its own (an auction win, an offer)
    auction: AuctionListing | None = None  # the auction this order is the win of
    address: Address | None = None  # snapshotted now; a won auction's comes before payment


def create_orders(
    new_orders: Sequence[NewOrder],
    *,
    now: datetime,
    payment_deadline: datetime,
    status: str = Order.Status.AWAITING_PAYMENT,
) -> list[Order]:
    """The one constructor of orders (checkout, auction close, second-chance offer): each order
    awaiting payment (or, cash on delivery, the buyer's confirmation), with its items, its
    shop's delivery fee to the address (set when the address is chosen, for one without),
    snapshot and one PLACED event, numbered alike.

    The same statements per table whatever the count (`bulk.insert_all`), so closing a batch
    of auctions costs the same statements as closing a few. Runs in the caller's transaction, which has done the checks.
    """
    if not new_orders:
        return []
    own = insert_all(
        [
            Checkout(number=new_reference(CHECKOUT_PREFIX), buyer_id=spec.buyer_id, created_at=now)
            for spec in new_orders
            if spec.checkout is None
        ]
    )
    own_checkouts = iter(own)
    with_address = {spec.seller_id for spec in new_orders if spec.address is not None}
    profiles = shop_profiles(with_address) if with_address else {}
    orders, items = [], []
    for spec in new_orders:
        lines = [
            OrderItem(
                product=line.product,
                listing=line.listing,
                title=line.product.title,
                unit_price=line.unit_price,
                quantity=line.quantity,
                line_total=quantize(line.unit_price * line.quantity),
            )
            for line in spec.lines
        ]
        subtotal = sum((item.line_total for item in lines), Decimal("0.00"))
        shipping_fee = delivery_fee(profiles, spec.seller_id, spec.address)
        order = Order(
            number=new_reference(ORDER_PREFIX),
            checkout=spec.checkout or next(own_checkouts),
            buyer_id=spec.buyer_id,
            seller_id=spec.seller_id,
            auction=spec.auction,
            status=status,
            subtotal=subtotal,
            shipping_fee=shipping_fee,
            total=subtotal + shipping_fee,
            payment_deadline=payment_deadline,
            created_at=now,
        )
        if spec.address is not None:
            snapshot_address(order, spec.address)
        orders.append(order)
        items.append(lines)
    insert_all(orders)
    for order, lines in zip(orders, items, strict=True):
        for item in lines:
            item.order = order
    insert_all([item for lines in items for item in lines])
    insert_all(
        [
            OrderEvent(
                order=order, kind=OrderEvent.Kind.PLACED, actor_id=order.buyer_id, created_at=now
            )
            for order in orders
        ]
    )
    return orders
