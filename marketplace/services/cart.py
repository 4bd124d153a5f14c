"""The cart: add, change and remove lines (it reserves nothing; checkout re-checks under lock)."""

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from marketplace.exceptions import OutOfStock, PurchaseRejected
from marketplace.models import (
    CartItem,
    FixedPriceListing,
    User,
)
from marketplace.services.orders import (
    _buyer_blocked,
    _check_quantity,
    _over_order_limit,
    _product_of,
    check_listing_purchase,
)


@transaction.atomic
def add_to_cart(*, user: User, listing: FixedPriceListing, quantity: int) -> CartItem:
    """Add `quantity` of the listing to the user's cart (on top of what is already there)."""
    quantity = _check_quantity(quantity)
    # Lock the user's row so two quick adds of the same item queue up rather than both
    # inserting; the block is read fresh under the same lock.
    if User.objects.select_for_update().get(pk=user.pk).is_blocked:
        raise _buyer_blocked()
    # The cart reserves nothing, so no lock on the listing: checkout re-checks under lock.
    listing = FixedPriceListing.objects.get(pk=listing.pk)
    product = _product_of(listing)
    check_listing_purchase(buyer=user, listing=listing, product=product, quantity=quantity)
    item = CartItem.objects.select_for_update().filter(user=user, listing=listing).first()
    in_cart = item.quantity if item else 0
    if in_cart + quantity > listing.quantity:
        raise OutOfStock(
            _(
                "Only %(available)s of “%(title)s” available, and you already have "
                "%(in_cart)s in your cart."
            )
            % {"available": listing.quantity, "title": product.title, "in_cart": in_cart}
        )
    if in_cart + quantity > listing.max_per_order:
        raise _over_order_limit(listing, product.title)
    price = listing.current_price(timezone.now())
    if item is None:
        return CartItem.objects.create(
            user=user, listing=listing, quantity=quantity, price_when_added=price
        )
    item.quantity = in_cart + quantity
    item.price_when_added = price
    item.save(update_fields=["quantity", "price_when_added"])
    return item


@transaction.atomic
def update_cart_item(*, item: CartItem, quantity: int) -> CartItem:
    """Set the quantity of one cart line (the caller has checked the item is the user's)."""
    quantity = _check_quantity(quantity)
    item = CartItem.objects.select_for_update().select_related("user").filter(pk=item.pk).first()
    if item is None:
        raise PurchaseRejected(_("That item is no longer in your cart."), code="not_in_cart")
    listing = FixedPriceListing.objects.get(pk=item.listing_id)
    check_listing_purchase(
        buyer=item.user, listing=listing, product=_product_of(listing), quantity=quantity
    )
    item.quantity = quantity
    item.save(update_fields=["quantity"])
    return item


@transaction.atomic
def remove_cart_item(*, item: CartItem) -> None:
    CartItem.objects.filter(pk=item.pk).delete()
