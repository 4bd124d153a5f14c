"""Payments: the one module that talks to a payment provider, and the only one importing stripe.

The rest of the code calls the functions at the bottom of this module and gets plain dataclasses
back (`HostedCheckout`, `ConnectedAccount`, ...), never provider objects. Each provider sits
behind the `PaymentProvider` protocol and is chosen by `settings.PAYMENT_PROVIDER`; today that is
Stripe, and cash on delivery or mobile wallets become other entries of `PROVIDERS`.

Money flow with Stripe is **separate charges and transfers**: Pakistani connected accounts can
receive transfers but cannot be the merchant of a charge. The platform charges the buyer once
per checkout (one Checkout Session, `transfer_group` = checkout number), then sends each seller
their share with a Transfer whose `source_transaction` is that charge.

**Fee rule** (the only one): the platform fee of an order is `total * PLATFORM_FEE_RATE` rounded
half-up to the currency's smallest unit (the paisa for PKR); the seller's share is
`total - fee`. So fee + share == total exactly, per order and therefore per checkout, and each
fee is within half a smallest unit of the exact rate.

Settings are read at call time: STRIPE_SECRET_KEY, STRIPE_API_BASE (empty = real Stripe),
STRIPE_WEBHOOK_SECRET, STRIPE_CONNECT_COUNTRY, CURRENCY, PLATFORM_FEE_RATE, PAYMENT_PROVIDER.
"""

import contextlib
import functools
import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Any, NamedTuple, Protocol

import stripe
from django.conf import settings
from django.utils import timezone
from django.utils.translation import gettext as _

from marketplace.exceptions import PaymentProviderError, WebhookRejected

# Stripe's currencies whose smallest unit is not 1/100 (https://docs.stripe.com/currencies).
ZERO_DECIMAL_CURRENCIES = frozenset(
    "bif clp djf gnf jpy kmf krw mga pyg rwf ugx vnd vuv xaf xof xpf".split()
)
THREE_DECIMAL_CURRENCIES = frozenset("bhd jod kwd omr tnd".split())

# Stripe accepts expires_at between 30 minutes and 24 hours after the session is created.
SESSION_MIN_LIFETIME = timedelta(minutes=31)
SESSION_MAX_LIFETIME = timedelta(hours=23, minutes=55)


# --- Money ----------------------------------------------------------------------------------
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


class SellerSplit(NamedTuple):
    order: Any
    fee: Decimal
    share: Decimal


def split_checkout(orders: Iterable) -> list[SellerSplit]:
    """Fee and seller share of each order of a checkout (one order per seller)."""
    splits = []
    for order in orders:
        fee = platform_fee(order.total)
        splits.append(SellerSplit(order, fee, order.total - fee))
    return splits


# --- What providers return ------------------------------------------------------------------
@dataclass(frozen=True)
class ConnectedAccount:
    id: str
    payouts_enabled: bool
    charges_enabled: bool
    details_submitted: bool
    can_receive_transfers: bool
    requirements_due: tuple[str, ...] = ()

    @property
    def ready(self) -> bool:
        """The seller can be paid: onboarding finished and transfers active."""
        return self.payouts_enabled and self.can_receive_transfers


@dataclass(frozen=True)
class HostedCheckout:
    id: str
    url: str | None
    status: str  # "open", "complete" or "expired"
    payment_status: str  # "unpaid" or "paid"
    amount_total: Decimal
    currency: str
    reference: str | None  # our checkout number (Stripe: client_reference_id)
    metadata: dict = field(default_factory=dict)
    payment_intent_id: str | None = None
    charge_id: str | None = None  # set by retrieve_checkout_session once paid
    expires_at: datetime | None = None

    @property
    def is_paid(self) -> bool:
        return self.status == "complete" and self.payment_status == "paid"


@dataclass(frozen=True)
class ChargeInfo:
    id: str
    amount: Decimal
    amount_refunded: Decimal
    refunded: bool
    currency: str
    payment_intent_id: str | None
    transfer_group: str | None


@dataclass(frozen=True)
class TransferResult:
    id: str
    amount: Decimal
    currency: str
    destination: str
    source_transaction: str | None
    transfer_group: str | None


@dataclass(frozen=True)
class RefundResult:
    id: str
    amount: Decimal
    currency: str
    charge_id: str
    payment_intent_id: str | None
    status: str


@dataclass(frozen=True)
class PaymentEvent:
    """A verified webhook event. `object` is the raw object; the typed views are set when known."""

    id: str
    type: str
    created: datetime
    object: dict
    previous_attributes: dict = field(default_factory=dict)
    account: str | None = None  # the connected account a Connect event is about
    checkout: HostedCheckout | None = None
    charge: ChargeInfo | None = None
    connected_account: ConnectedAccount | None = None


@dataclass(frozen=True)
class LineItem:
    name: str
    unit_amount: Decimal
    quantity: int
    description: str = ""


class PaymentProvider(Protocol):
    """One seam per provider: everything the marketplace asks of a way to take money."""

    name: str

    def create_connected_account(
        self, *, email: str, country: str, idempotency_key: str, metadata: dict[str, str]
    ) -> ConnectedAccount: ...

    def create_account_link(self, *, account_id: str, refresh_url: str, return_url: str) -> str: ...

    def retrieve_account(self, account_id: str) -> ConnectedAccount: ...

    def create_checkout_session(
        self,
        *,
        reference: str,
        line_items: list[LineItem],
        currency: str,
        success_url: str,
        cancel_url: str,
        metadata: dict[str, str],
        customer_email: str | None,
        expires_at: datetime | None,
        idempotency_key: str,
    ) -> HostedCheckout: ...

    def retrieve_checkout_session(self, session_id: str) -> HostedCheckout: ...

    def expire_checkout_session(self, session_id: str) -> HostedCheckout: ...

    def create_transfer(
        self,
        *,
        amount: Decimal,
        currency: str,
        destination: str,
        source_transaction: str,
        transfer_group: str,
        idempotency_key: str,
        metadata: dict[str, str],
    ) -> TransferResult: ...

    def create_refund(
        self,
        *,
        charge_or_intent: str,
        amount: Decimal | None,
        idempotency_key: str,
        metadata: dict[str, str],
    ) -> RefundResult: ...

    def construct_event(self, payload: bytes, sig_header: str) -> PaymentEvent: ...


# --- Stripe ---------------------------------------------------------------------------------
@functools.lru_cache(maxsize=8)
def _stripe_client(secret_key: str, api_base: str) -> stripe.StripeClient:
    # Cached per settings values: one connection pool per configuration, rebuilt when a test
    # (or the environment) changes the key or the base address.
    base = {"api": api_base, "connect": api_base, "files": api_base} if api_base else None
    # Retries are safe: every POST carries an idempotency key.
    return stripe.StripeClient(secret_key, base_addresses=base, max_network_retries=2)


@contextlib.contextmanager
def _provider_errors() -> Iterator[None]:
    """Turn the library's exceptions into our one PaymentProviderError."""
    try:
        yield
    except stripe.StripeError as error:
        status = error.http_status
        retryable = isinstance(
            error, stripe.APIConnectionError | stripe.RateLimitError | stripe.APIError
        ) or (status is not None and (status == 409 or status >= 500))
        message = (
            _("The payment service is unavailable right now. Please try again in a few minutes.")
            if retryable
            else _("The payment service refused the request.")
        )
        raise PaymentProviderError(
            message,
            detail=error.user_message or str(error),
            provider_code=error.code,
            http_status=status,
            retryable=retryable,
        ) from error


def _timestamp(value: int | None) -> datetime | None:
    return datetime.fromtimestamp(value, tz=UTC) if value else None


def _id(value: Any) -> str | None:
    """An id, whether the field holds the id or the expanded object."""
    if isinstance(value, dict):
        return value.get("id")
    return value


def _account_from(data: dict) -> ConnectedAccount:
    requirements = data.get("requirements") or {}
    return ConnectedAccount(
        id=data["id"],
        payouts_enabled=bool(data.get("payouts_enabled")),
        charges_enabled=bool(data.get("charges_enabled")),
        details_submitted=bool(data.get("details_submitted")),
        can_receive_transfers=(data.get("capabilities") or {}).get("transfers") == "active",
        requirements_due=tuple(requirements.get("currently_due") or ()),
    )


def _checkout_from(data: dict) -> HostedCheckout:
    currency = data.get("currency") or settings.CURRENCY
    intent = data.get("payment_intent")
    charge = intent.get("latest_charge") if isinstance(intent, dict) else None
    return HostedCheckout(
        id=data["id"],
        url=data.get("url"),
        status=data.get("status") or "",
        payment_status=data.get("payment_status") or "",
        amount_total=from_minor_units(data.get("amount_total") or 0, currency),
        currency=currency.upper(),
        reference=data.get("client_reference_id"),
        metadata=dict(data.get("metadata") or {}),
        payment_intent_id=_id(intent),
        charge_id=_id(charge),
        expires_at=_timestamp(data.get("expires_at")),
    )


def _charge_from(data: dict) -> ChargeInfo:
    currency = data["currency"]
    return ChargeInfo(
        id=data["id"],
        amount=from_minor_units(data["amount"], currency),
        amount_refunded=from_minor_units(data.get("amount_refunded") or 0, currency),
        refunded=bool(data.get("refunded")),
        currency=currency.upper(),
        payment_intent_id=_id(data.get("payment_intent")),
        transfer_group=data.get("transfer_group"),
    )


class StripeProvider:
    name = "stripe"

    def __init__(
        self,
        *,
        secret_key: str,
        api_base: str = "",
        webhook_secrets: tuple[str, ...] = (),
        http_client: stripe.HTTPClient | None = None,
    ) -> None:
        if http_client is not None:  # tests: a recording client, never cached
            base = {"api": api_base, "connect": api_base, "files": api_base} if api_base else None
            self.client = stripe.StripeClient(
                secret_key, base_addresses=base, http_client=http_client
            )
        else:
            self.client = _stripe_client(secret_key, api_base)
        self.webhook_secrets = webhook_secrets

    @classmethod
    def from_settings(cls) -> "StripeProvider":
        secrets = tuple(s.strip() for s in settings.STRIPE_WEBHOOK_SECRET.split(",") if s.strip())
        return cls(
            secret_key=settings.STRIPE_SECRET_KEY,
            api_base=settings.STRIPE_API_BASE,
            webhook_secrets=secrets,
        )

    # Connect onboarding
    def create_connected_account(
        self, *, email: str, country: str, idempotency_key: str, metadata: dict[str, str]
    ) -> ConnectedAccount:
        params: dict[str, Any] = {
            "type": "express",
            "country": country,
            "email": email,
            "capabilities": {"transfers": {"requested": True}},
            "metadata": metadata,
        }
        if country != "US":
            # Cross-border payouts (PK): the account only receives transfers.
            params["tos_acceptance"] = {"service_agreement": "recipient"}
        with _provider_errors():
            account = self.client.v1.accounts.create(
                params=params, options={"idempotency_key": idempotency_key}
            )
        return _account_from(account.to_dict())

    def create_account_link(self, *, account_id: str, refresh_url: str, return_url: str) -> str:
        with _provider_errors():
            link = self.client.v1.account_links.create(
                params={
                    "account": account_id,
                    "refresh_url": refresh_url,
                    "return_url": return_url,
                    "type": "account_onboarding",
                }
            )
        return link.url

    def retrieve_account(self, account_id: str) -> ConnectedAccount:
        with _provider_errors():
            return _account_from(self.client.v1.accounts.retrieve(account_id).to_dict())

    # Checkout
    def create_checkout_session(
        self,
        *,
        reference: str,
        line_items: list[LineItem],
        currency: str,
        success_url: str,
        cancel_url: str,
        metadata: dict[str, str],
        customer_email: str | None,
        expires_at: datetime | None,
        idempotency_key: str,
    ) -> HostedCheckout:
        params: dict[str, Any] = {
            "mode": "payment",
            "line_items": [
                {
                    "price_data": {
                        "currency": currency.lower(),
                        "unit_amount": to_minor_units(item.unit_amount, currency),
                        "product_data": {"name": item.name}
                        | ({"description": item.description} if item.description else {}),
                    },
                    "quantity": item.quantity,
                }
                for item in line_items
            ],
            "success_url": success_url,
            "cancel_url": cancel_url,
            "client_reference_id": reference,
            "metadata": metadata,
            "payment_intent_data": {"transfer_group": reference, "metadata": metadata},
            "customer_email": customer_email,
            "expires_at": int(expires_at.timestamp()) if expires_at else None,
        }
        with _provider_errors():
            session = self.client.v1.checkout.sessions.create(
                params=params, options={"idempotency_key": idempotency_key}
            )
        return _checkout_from(session.to_dict())

    def retrieve_checkout_session(self, session_id: str) -> HostedCheckout:
        with _provider_errors():
            session = self.client.v1.checkout.sessions.retrieve(
                session_id, params={"expand": ["payment_intent.latest_charge"]}
            )
        return _checkout_from(session.to_dict())

    def expire_checkout_session(self, session_id: str) -> HostedCheckout:
        with _provider_errors():
            return _checkout_from(self.client.v1.checkout.sessions.expire(session_id).to_dict())

    # Money out
    def create_transfer(
        self,
        *,
        amount: Decimal,
        currency: str,
        destination: str,
        source_transaction: str,
        transfer_group: str,
        idempotency_key: str,
        metadata: dict[str, str],
    ) -> TransferResult:
        with _provider_errors():
            transfer = self.client.v1.transfers.create(
                params={
                    "amount": to_minor_units(amount, currency),
                    "currency": currency.lower(),
                    "destination": destination,
                    "source_transaction": source_transaction,
                    "transfer_group": transfer_group,
                    "metadata": metadata,
                },
                options={"idempotency_key": idempotency_key},
            )
        return TransferResult(
            id=transfer.id,
            amount=from_minor_units(transfer.amount, transfer.currency),
            currency=transfer.currency.upper(),
            destination=_id(transfer.destination),
            source_transaction=_id(transfer.source_transaction),
            transfer_group=transfer.transfer_group,
        )

    def create_refund(
        self,
        *,
        charge_or_intent: str,
        amount: Decimal | None,
        idempotency_key: str,
        metadata: dict[str, str],
    ) -> RefundResult:
        target = "payment_intent" if charge_or_intent.startswith("pi_") else "charge"
        params: dict[str, Any] = {target: charge_or_intent, "metadata": metadata}
        if amount is not None:
            params["amount"] = to_minor_units(amount, settings.CURRENCY)
        with _provider_errors():
            refund = self.client.v1.refunds.create(
                params=params, options={"idempotency_key": idempotency_key}
            )
        return RefundResult(
            id=refund.id,
            amount=from_minor_units(refund.amount, refund.currency),
            currency=refund.currency.upper(),
            charge_id=_id(refund.charge),
            payment_intent_id=_id(refund.payment_intent),
            status=refund.status,
        )

    # Webhooks
    def construct_event(self, payload: bytes, sig_header: str) -> PaymentEvent:
        if not self.webhook_secrets:
            raise WebhookRejected(_("Webhooks are not configured (no signing secret)."))
        for secret in self.webhook_secrets:
            try:
                stripe.Webhook.construct_event(payload, sig_header, secret)
                break
            except stripe.SignatureVerificationError:
                continue
            except ValueError as error:
                raise WebhookRejected(_("The webhook body is not an event.")) from error
        else:
            raise WebhookRejected(_("The webhook signature is missing, wrong or too old."))
        data = json.loads(payload)
        obj = data.get("data", {}).get("object") or {}
        kind = obj.get("object")
        return PaymentEvent(
            id=data["id"],
            type=data["type"],
            created=_timestamp(data.get("created")) or timezone.now(),
            object=obj,
            previous_attributes=data.get("data", {}).get("previous_attributes") or {},
            account=data.get("account"),
            checkout=_checkout_from(obj) if kind == "checkout.session" else None,
            charge=_charge_from(obj) if kind == "charge" else None,
            connected_account=_account_from(obj) if kind == "account" else None,
        )


PROVIDERS = {"stripe": StripeProvider}


def get_provider() -> PaymentProvider:
    """The provider named by settings.PAYMENT_PROVIDER, configured from the current settings."""
    return PROVIDERS[settings.PAYMENT_PROVIDER].from_settings()


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
    return get_provider().create_checkout_session(
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


def retrieve_checkout_session(session_id: str) -> HostedCheckout:
    """The session as the provider sees it now, with the charge id once paid."""
    return get_provider().retrieve_checkout_session(session_id)


def expire_checkout_session(session_id: str) -> HostedCheckout:
    """Close an open hosted checkout so it can no longer be paid (order cancelled)."""
    return get_provider().expire_checkout_session(session_id)


def create_transfer(
    *,
    amount: Decimal,
    destination: str,
    source_transaction: str,
    transfer_group: str,
    idempotency_key: str,
    metadata: dict[str, str] | None = None,
) -> TransferResult:
    """Send a seller's share from a charge to their connected account."""
    return get_provider().create_transfer(
        amount=amount,
        currency=settings.CURRENCY,
        destination=destination,
        source_transaction=source_transaction,
        transfer_group=transfer_group,
        idempotency_key=idempotency_key,
        metadata=metadata or {},
    )


def create_refund(
    *,
    charge_or_intent: str,
    amount: Decimal | None,
    idempotency_key: str,
    metadata: dict[str, str] | None = None,
) -> RefundResult:
    """Refund the buyer (amount None: whatever is left of the charge)."""
    return get_provider().create_refund(
        charge_or_intent=charge_or_intent,
        amount=amount,
        idempotency_key=idempotency_key,
        metadata=metadata or {},
    )


def construct_event(payload: bytes, sig_header: str) -> PaymentEvent:
    """Verify a webhook and parse it; raises WebhookRejected for anything unsigned or stale."""
    return get_provider().construct_event(payload, sig_header or "")
