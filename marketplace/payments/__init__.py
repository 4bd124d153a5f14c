"""Payments: the one place that talks to a payment provider (`stripe` is imported only in
`payments/stripe_provider.py`; `money.py` converts amounts and computes fees; `base.py` holds
the provider protocol and what providers return).

The rest of the code calls the functions at the bottom of this module and gets plain dataclasses
back (`HostedCheckout`, `ConnectedAccount`, ...), never provider objects. Each provider sits
behind the `PaymentProvider` protocol: `settings.PAYMENT_PROVIDER` (Stripe) takes cards, and a
checkout paid another way names its provider (`PaymentAttempt.provider`, `Payment.provider`),
which every call about that payment passes on. JazzCash (`jazzcash_provider.py`) is the mobile
wallet; wallets have no connected accounts or transfers: their money lands with the platform
and reaches sellers through the ledger, as card money does.

Cash on delivery has no provider taking money; its refunds go through `manual`
(`manual_provider.py`): staff send them by bank transfer or wallet and record the outcome.

Easypaisa is not here yet: its hosted checkout's shape is known only from second-hand copies
(AES-ECB over the fields, a token then a second redirect, an IPN the merchant must fetch), not
firmly enough to build and test an emulator against; `PROVIDERS` and `WALLET_PROVIDERS` are the
seam it joins.

Money flow with Stripe is **separate charges and transfers**: Pakistani connected accounts can
receive transfers but cannot be the merchant of a charge. The platform charges the buyer once
per checkout (one Checkout Session, `transfer_group` = checkout number), then sends each seller
their share with a Transfer whose `source_transaction` is that charge.

**Fee rule** (the only one, `order_fee`): the platform fee of an order is
`subtotal * PLATFORM_FEE_RATE` (its items only: the delivery fee is the seller's in full)
rounded half-up to the currency's smallest unit (the paisa for PKR); the seller's share is
`total - fee`. So fee + share == total exactly, per order and therefore per checkout, and each
fee is within half a smallest unit of the exact rate.

Settings are read at call time: STRIPE_SECRET_KEY, STRIPE_API_BASE (empty = real Stripe),
STRIPE_WEBHOOK_SECRET, STRIPE_CONNECT_COUNTRY, CURRENCY, PLATFORM_FEE_RATE, PAYMENT_PROVIDER.
"""

from collections.abc import Iterable
from datetime import datetime, timedelta
from decimal import Decimal

from django.conf import settings
from django.utils import timezone
from django.utils.translation import gettext as _

from marketplace.payments.base import (
    ChargeInfo,
    ConnectedAccount,
    HostedCheckout,
    LineItem,
    PaymentEvent,
    PaymentProvider,
    RefundResult,
    ReversalResult,
    TransferResult,
    WalletCallback,
)
from marketplace.payments.jazzcash_provider import JazzCashProvider
from marketplace.payments.manual_provider import ManualRefundProvider
from marketplace.payments.money import (
    SellerSplit,
    currency_exponent,
    from_minor_units,
    order_fee,
    platform_fee,
    smallest_unit,
    split_checkout,
    to_minor_units,
)
from marketplace.payments.stripe_provider import StripeProvider

__all__ = [
    "ChargeInfo",
    "ConnectedAccount",
    "HostedCheckout",
    "JazzCashProvider",
    "LineItem",
    "ManualRefundProvider",
    "PaymentEvent",
    "PaymentProvider",
    "RefundResult",
    "ReversalResult",
    "SellerSplit",
    "StripeProvider",
    "TransferResult",
    "WalletCallback",
    "construct_event",
    "create_account_link",
    "create_checkout_session",
    "create_connected_account",
    "create_refund",
    "create_transfer",
    "currency_exponent",
    "exceeds_payment_limit",
    "expire_checkout_session",
    "from_minor_units",
    "get_provider",
    "order_fee",
    "platform_fee",
    "retrieve_account",
    "retrieve_checkout_session",
    "reverse_transfer",
    "smallest_unit",
    "split_checkout",
    "to_minor_units",
    "verify_wallet_callback",
    "wallet_ipn_answer",
    "wallet_providers",
]

# Stripe accepts expires_at between 30 minutes and 24 hours after the session is created.
SESSION_MIN_LIFETIME = timedelta(minutes=31)
SESSION_MAX_LIFETIME = timedelta(hours=23, minutes=55)

# Stripe's limit for one charge: eight digits in the currency's smallest unit.
MAX_PAYMENT_MINOR_UNITS = 99_999_999

# Name (settings.PAYMENT_PROVIDER) -> provider class with a from_settings() constructor.
# "manual" only refunds: cash-on-delivery refunds staff send by hand (manual_provider.py).
PROVIDERS: dict[str, type] = {
    "stripe": StripeProvider,
    "jazzcash": JazzCashProvider,
    "manual": ManualRefundProvider,
}
# Wallet providers a buyer may pay with, each offered only when its settings are filled in.
WALLET_PROVIDERS = ("jazzcash",)


def get_provider(name: str | None = None) -> PaymentProvider:
    """The provider `name` (default: settings.PAYMENT_PROVIDER), configured from the current
    settings."""
    return PROVIDERS[name or settings.PAYMENT_PROVIDER].from_settings()


def wallet_providers() -> list[str]:
    """The wallet providers configured now (JazzCash: merchant id and integrity salt set)."""
    configured = {
        "jazzcash": bool(settings.JAZZCASH_MERCHANT_ID and settings.JAZZCASH_INTEGRITY_SALT)
    }
    return [name for name in WALLET_PROVIDERS if configured.get(name)]


def verify_wallet_callback(fields: dict, *, provider: str) -> WalletCallback:
    """A wallet's return POST or IPN with its signature checked (WebhookRejected if not)."""
    return get_provider(provider).verify_callback(fields)


def wallet_ipn_answer(*, provider: str) -> dict:
    """The body that tells the wallet its IPN was taken."""
    return get_provider(provider).ipn_answer()


# --- What the rest of the marketplace calls -------------------------------------------------
def create_connected_account(
    *, seller, idempotency_key: str, country: str | None = None
) -> ConnectedAccount:
    """An Express account for a seller, able to receive transfers (country: the setting)."""
    return get_provider().create_connected_account(
        email=seller.email,
        country=country or settings.STRIPE_CONNECT_COUNTRY,
        idempotency_key=idempotency_key,
        metadata={"seller_id": str(seller.pk), "username": seller.username},
    )


def create_account_link(*, account_id: str, refresh_url: str, return_url: str) -> str:
    """The URL of the provider's onboarding page for the account (short-lived, single-use)."""
    return get_provider().create_account_link(
        account_id=account_id, refresh_url=refresh_url, return_url=return_url
    )


def retrieve_account(account_id: str) -> ConnectedAccount:
    return get_provider().retrieve_account(account_id)


def checkout_line_items(orders: Iterable) -> list[LineItem]:
    """Line items from the orders' item snapshots, plus one delivery line per order with a fee."""
    items = []
    for order in orders:
        seller = order.seller.public_name
        for item in order.items.all():
            items.append(
                LineItem(
                    name=item.title,
                    unit_amount=item.unit_price,
                    quantity=item.quantity,
                    description=_("Sold by %(seller)s") % {"seller": seller},
                )
            )
        if order.shipping_fee:
            items.append(
                LineItem(
                    name=_("Delivery of order %(number)s") % {"number": order.number},
                    unit_amount=order.shipping_fee,
                    quantity=1,
                    description=_("Sold by %(seller)s") % {"seller": seller},
                )
            )
    return items


def session_expiry(deadline: datetime | None) -> datetime | None:
    """When the hosted checkout should expire: the payment deadline, kept within the provider's
    window (31 minutes to 24 hours from now). None lets the session live its default 24 hours."""
    if deadline is None:
        return None
    now = timezone.now()
    return min(max(deadline, now + SESSION_MIN_LIFETIME), now + SESSION_MAX_LIFETIME)


def create_checkout_session(
    *,
    checkout,
    orders: list,
    success_url: str,
    cancel_url: str,
    idempotency_key: str,
    expires_at: datetime | None = None,
    provider: str | None = None,
) -> HostedCheckout:
    """One hosted payment for all the orders of a checkout.

    `success_url` may contain `{CHECKOUT_SESSION_ID}`, which Stripe replaces with the session id.
    The charged total is checked against the orders' totals before anything is sent.
    """
    orders = list(orders)
    if not orders or any(order.checkout_id != checkout.pk for order in orders):
        raise ValueError("a checkout session needs orders, all of this checkout")
    currency = settings.CURRENCY
    line_items = checkout_line_items(orders)
    charged = sum(to_minor_units(i.unit_amount, currency) * i.quantity for i in line_items)
    if charged != to_minor_units(sum(order.total for order in orders), currency):
        raise ValueError(f"line items of checkout {checkout.number} do not add up to its orders")
    metadata = {
        "checkout": checkout.number,
        "orders": ",".join(order.number for order in orders),
        "order_ids": ",".join(str(order.pk) for order in orders),
    }
    return get_provider(provider).create_checkout_session(
        reference=checkout.number,
        line_items=line_items,
        currency=currency,
        success_url=success_url,
        cancel_url=cancel_url,
        metadata=metadata,
        customer_email=checkout.buyer.email or None,
        expires_at=session_expiry(expires_at),
        idempotency_key=idempotency_key,
    )


def retrieve_checkout_session(session_id: str, provider: str | None = None) -> HostedCheckout:
    """The session as the provider sees it now, with the charge id once paid."""
    return get_provider(provider).retrieve_checkout_session(session_id)


def expire_checkout_session(session_id: str, provider: str | None = None) -> HostedCheckout:
    """Close an open hosted checkout so it can no longer be paid (order cancelled)."""
    return get_provider(provider).expire_checkout_session(session_id)


def create_transfer(
    *,
    amount: Decimal,
    destination: str,
    source_transaction: str | None,
    transfer_group: str,
    idempotency_key: str,
    metadata: dict[str, str] | None = None,
) -> TransferResult:
    """Send a seller's share from a charge to their connected account (or, with no
    `source_transaction`, a ledger payout from the platform's balance)."""
    return get_provider().create_transfer(
        amount=amount,
        currency=settings.CURRENCY,
        destination=destination,
        source_transaction=source_transaction,
        transfer_group=transfer_group,
        idempotency_key=idempotency_key,
        metadata=metadata or {},
    )


def reverse_transfer(
    *, transfer_id: str, amount: Decimal | None, idempotency_key: str
) -> ReversalResult:
    """Take a seller's share back from their connected account (amount None: all of it)."""
    return get_provider().reverse_transfer(
        transfer_id=transfer_id, amount=amount, idempotency_key=idempotency_key
    )


def exceeds_payment_limit(amount: Decimal) -> bool:
    """More than the provider accepts in one payment."""
    return to_minor_units(amount, settings.CURRENCY) > MAX_PAYMENT_MINOR_UNITS


def create_refund(
    *,
    charge_or_intent: str,
    amount: Decimal | None,
    idempotency_key: str,
    metadata: dict[str, str] | None = None,
    provider: str | None = None,
) -> RefundResult:
    """Refund the buyer through the provider that took the money (amount None: whatever is
    left of the charge; Stripe only)."""
    return get_provider(provider).create_refund(
        charge_or_intent=charge_or_intent,
        amount=amount,
        idempotency_key=idempotency_key,
        metadata=metadata or {},
    )


def construct_event(payload: bytes, sig_header: str) -> PaymentEvent:
    """Verify a webhook and parse it; raises WebhookRejected for anything unsigned or stale."""
    return get_provider().construct_event(payload, sig_header or "")


def event_from_payload(data: dict) -> PaymentEvent:
    """Parse an event stored after it was verified (one handled again later)."""
    return get_provider().event_from_payload(data)
