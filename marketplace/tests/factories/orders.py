"""Helpers for the cart, checkout and order tests (built through the real services)."""

from decimal import Decimal

from marketplace import models
from marketplace.services.orders import place_checkout
from marketplace.tests.factories.catalog import ProductFactory, city


def listing_by(seller, *, price: str = "2500.00", quantity: int = 3, title: str | None = None):
    """An active fixed-price listing sold by `seller`."""
    extra = {"title": title} if title else {}
    product = ProductFactory(
        seller=seller,
        fixed_price__price=Decimal(price),
        fixed_price__quantity=quantity,
        **extra,
    )
    return product.fixed_price


def address_of(user, *, city_name: str = "Lahore", **fields) -> models.Address:
    values = {
        "full_name": "Bilal Ahmed",
        "phone": "+923001234567",
        "line1": "12 Mall Road",
        "line2": "Near Anarkali",
        "postal_code": "54000",
    }
    values.update(fields)
    return models.Address.objects.create(user=user, city=city(city_name), **values)


def order_for(buyer, listing, *, quantity: int = 1) -> models.Order:
    """Place a one-item checkout for `buyer` and return its order."""
    address = buyer.addresses.first() or address_of(buyer)
    checkout = place_checkout(buyer=buyer, lines=[(listing, quantity)], address=address)
    return checkout.orders.get()


def shop_delivery(
    seller,
    *,
    fee: str = "0.00",
    by_province: dict[str, str] | None = None,
    dispatch_days: int = 2,
    cod: bool = False,
    cod_for_auctions: bool = False,
) -> models.SellerProfile:
    """Set the seller's delivery and cash-on-delivery settings (the shop settings form's)."""
    profile = seller.seller_profile
    profile.delivery_fee = Decimal(fee)
    profile.delivery_fee_mode = (
        models.DeliveryFeeMode.PROVINCE if by_province else models.DeliveryFeeMode.FLAT
    )
    profile.dispatch_days = dispatch_days
    profile.accepts_cod = cod
    profile.cod_for_auctions = cod_for_auctions
    profile.save()
    for name, province_fee in (by_province or {}).items():
        models.DeliveryRate.objects.update_or_create(
            profile=profile,
            province=models.Province.objects.get(name=name),
            defaults={"fee": Decimal(province_fee)},
        )
    return profile


def cod_order_for(buyer, listing, *, quantity: int = 1) -> models.Order:
    """Place a one-item cash-on-delivery checkout for `buyer` and return its order."""
    address = buyer.addresses.first() or address_of(buyer)
    checkout = place_checkout(
        buyer=buyer,
        lines=[(listing, quantity)],
        address=address,
        payment_method=models.Checkout.PaymentMethod.COD,
    )
    return checkout.orders.get()
