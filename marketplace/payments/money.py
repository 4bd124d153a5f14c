"""Money for providers: the one conversion to integer minor units, and the platform fee rule."""

from collections.abc import Iterable
from decimal import ROUND_HALF_UP, Decimal
from typing import Any, NamedTuple

from django.conf import settings

# Stripe's currencies whose smallest unit is not 1/100 (https://docs.stripe.com/currencies).
ZERO_DECIMAL_CURRENCIES = frozenset(
    "bif clp djf gnf jpy kmf krw mga pyg rwf ugx vnd vuv xaf xof xpf".split()
)
THREE_DECIMAL_CURRENCIES = frozenset("bhd jod kwd omr tnd".split())


def _currency(currency: str | None) -> str:
    return (currency or settings.CURRENCY).lower()


def currency_exponent(currency: str | None = None) -> int:
    """Decimal places of the currency's smallest unit at the provider (PKR: 2, JPY: 0)."""
    code = _currency(currency)
    if code in ZERO_DECIMAL_CURRENCIES:
        return 0
    if code in THREE_DECIMAL_CURRENCIES:
        return 3
    return 2


def smallest_unit(currency: str | None = None) -> Decimal:
    return Decimal(1).scaleb(-currency_exponent(currency))


def to_minor_units(amount: Decimal, currency: str | None = None) -> int:
    """Rs 1,250.50 -> 125050: the one conversion to the provider's integer amounts.

    Refuses floats and amounts finer than the currency's smallest unit: money is never rounded
    silently on its way to the provider.
    """
    if isinstance(amount, float | bool) or not isinstance(amount, Decimal | int):
        raise TypeError(f"money must be Decimal, not {type(amount).__name__}")
    scaled = Decimal(amount).scaleb(currency_exponent(currency))
    if not scaled.is_finite() or scaled != scaled.to_integral_value():
        raise ValueError(f"{amount} is not a whole number of {_currency(currency).upper()} units")
    return int(scaled)


def from_minor_units(units: int, currency: str | None = None) -> Decimal:
    """125050 -> Decimal("1250.50") (PKR)."""
    return (
        Decimal(int(units)).scaleb(-currency_exponent(currency)).quantize(smallest_unit(currency))
    )


def platform_fee(amount: Decimal, currency: str | None = None) -> Decimal:
    """The platform's fee on an amount: PLATFORM_FEE_RATE, rounded half-up to the smallest unit."""
    fee = (Decimal(amount) * settings.PLATFORM_FEE_RATE).quantize(
        smallest_unit(currency), rounding=ROUND_HALF_UP
    )
    return min(max(fee, Decimal(0)), Decimal(amount))


def order_fee(order: Any) -> Decimal:
    """The platform fee of one order: the fee rule applied to its items only. The delivery fee
    is the seller's in full (they pay the courier), so it never carries a platform fee."""
    return platform_fee(order.subtotal)


class SellerSplit(NamedTuple):
    order: Any
    fee: Decimal
    share: Decimal


def split_checkout(orders: Iterable) -> list[SellerSplit]:
    """Fee and seller share of each order of a checkout (one order per seller)."""
    splits = []
    for order in orders:
        fee = order_fee(order)
        splits.append(SellerSplit(order, fee, order.total - fee))
    return splits
