"""Stripe: separate charges and transfers through the official library (the only stripe import)."""

import contextlib
import functools
import json
from collections.abc import Iterator
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import stripe
from django.conf import settings
from django.utils import timezone
from django.utils.translation import gettext as _

from marketplace.exceptions import PaymentProviderError, WebhookRejected
from marketplace.payments.base import (
    ChargeInfo,
    ConnectedAccount,
    HostedCheckout,
    LineItem,
    PaymentEvent,
    RefundResult,
    ReversalResult,
    TransferResult,
)
from marketplace.payments.money import from_minor_units, to_minor_units


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
        source_transaction: str | None,
        transfer_group: str,
        idempotency_key: str,
        metadata: dict[str, str],
    ) -> TransferResult:
        params = {
            "amount": to_minor_units(amount, currency),
            "currency": currency.lower(),
            "destination": destination,
            "transfer_group": transfer_group,
            "metadata": metadata,
        }
        if source_transaction:
            params["source_transaction"] = source_transaction
        with _provider_errors():
            transfer = self.client.v1.transfers.create(
                params=params, options={"idempotency_key": idempotency_key}
            )
        return TransferResult(
            id=transfer.id,
            amount=from_minor_units(transfer.amount, transfer.currency),
            currency=transfer.currency.upper(),
            destination=_id(transfer.destination),
            source_transaction=_id(transfer.source_transaction),
            transfer_group=transfer.transfer_group,
        )

    def reverse_transfer(
        self, *, transfer_id: str, amount: Decimal | None, idempotency_key: str
    ) -> ReversalResult:
        params: dict[str, Any] = {}
        if amount is not None:
            params["amount"] = to_minor_units(amount, settings.CURRENCY)
        with _provider_errors():
            reversal = self.client.v1.transfers.reversals.create(
                transfer_id, params=params, options={"idempotency_key": idempotency_key}
            )
        return ReversalResult(
            id=reversal.id,
            amount=from_minor_units(reversal.amount, reversal.currency),
            currency=reversal.currency.upper(),
            transfer_id=_id(reversal.transfer),
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
        try:
            data = json.loads(payload)
        except ValueError:
            data = None
        # Stripe's library fails with AttributeError on a body that is not an object.
        if not (
            isinstance(data, dict)
            and isinstance(data.get("id"), str)
            and isinstance(data.get("type"), str)
            and isinstance(data.get("data", {}), dict)
        ):
            raise WebhookRejected(_("The webhook body is not an event."))
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
        return self.event_from_payload(data)

    def event_from_payload(self, data: dict) -> PaymentEvent:
        """An event from its JSON, verified before (a stored event handled again)."""
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
