"""The ways to pay a checkout: which methods can be placed now, which apply to a basket (and why
one is refused), and which can pay a placed checkout online. The checkout page, the API and
`services.orders.place_checkout` all ask here."""

from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal

from marketplace import payments
from marketplace.exceptions import PurchaseRejected
from marketplace.models import Checkout, SellerProfile, User
from marketplace.services import cod_rules


def placeable_methods() -> list[str]:
    """The payment methods a checkout can be placed with now: cards, each configured wallet,
    and cash on delivery (whether COD applies to a basket is `cod_rules.cod_refusal`'s call)."""
    return [
        Checkout.PaymentMethod.CARD,
        *payments.wallet_providers(),
        Checkout.PaymentMethod.COD,
    ]


@dataclass(frozen=True)
class PaymentChoice:
    """A way to pay offered at checkout, and why it cannot be chosen for this basket (None:
    it can)."""

    method: str
    refusal: PurchaseRejected | None = None


def payment_choices(
    *, buyer: User, profiles: Iterable[SellerProfile | None], total: Decimal
) -> list[PaymentChoice]:
    """Every method of `placeable_methods()` for a checkout from these shops worth `total`
    (delivery included): the checkout page's and the API's one answer. The online ones always
    apply; cash on delivery is refused by `cod_rules.cod_refusal` (`place_checkout` asks it
    again under its locks)."""
    profiles = list(profiles)
    return [
        PaymentChoice(
            method,
            cod_rules.cod_refusal(buyer=buyer, profiles=profiles, total=total)
            if method == Checkout.PaymentMethod.COD
            else None,
        )
        for method in placeable_methods()
    ]


def online_methods() -> list[str]:
    """The methods a placed checkout's unpaid orders can be paid with (the Pay button)."""
    return [m for m in placeable_methods() if m != Checkout.PaymentMethod.COD]
