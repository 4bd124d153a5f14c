"""What providers return (plain dataclasses, never provider objects) and the provider protocol."""

from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Protocol


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
    # Hosted pages reached by a form POST (JazzCash): the fields to post to `url`.
    form_fields: dict = field(default_factory=dict)
    # The provider's own code for the payment's state (JazzCash: pp_PaymentResponseCode).
    response_code: str = ""

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
class ReversalResult:
    id: str
    amount: Decimal
    currency: str
    transfer_id: str


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
class WalletCallback:
    """A verified return POST or IPN from a wallet provider (its signature checked)."""

    reference: str  # our transaction reference (JazzCash: pp_TxnRefNo)
    amount: Decimal
    response_code: str
    message: str
    retrieval_reference: str = ""


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
        source_transaction: str | None,
        transfer_group: str,
        idempotency_key: str,
        metadata: dict[str, str],
    ) -> TransferResult: ...

    def reverse_transfer(
        self, *, transfer_id: str, amount: Decimal | None, idempotency_key: str
    ) -> ReversalResult: ...

    def create_refund(
        self,
        *,
        charge_or_intent: str,
        amount: Decimal | None,
        idempotency_key: str,
        metadata: dict[str, str],
    ) -> RefundResult: ...

    def construct_event(self, payload: bytes, sig_header: str) -> PaymentEvent: ...

    def event_from_payload(self, data: dict) -> PaymentEvent: ...
