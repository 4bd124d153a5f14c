"""Helpers for the ledger tests: paid orders with their Payment, payout methods, staff."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from marketplace import models, payments
from marketplace.couriers import RemittanceLine
from marketplace.models.orders import new_reference
from marketplace.payments import platform_fee
from marketplace.payments.base import RefundResult
from marketplace.services import ledger, payout_batches
from marketplace.tests.factories.accounts import UserFactory

VALID_IBAN = "PK36SCBL0000001123456702"  # the registry's own example


def _order(seller, buyer, total: str, *, payment_method: str = "card", **fields) -> models.Order:
    """A one-seller order of `total` in a checkout of its own (no items: the ledger needs none)."""
    checkout = models.Checkout.objects.create(
        number=new_reference("C-"), buyer=buyer, payment_method=payment_method
    )
    return models.Order.objects.create(
        number=new_reference("MPK-"),
        checkout=checkout,
        buyer=buyer,
        seller=seller,
        subtotal=Decimal(total),
        total=Decimal(total),
        **fields,
    )


def paid_order(seller, buyer, total: str = "2500.00", provider: str = "stripe") -> models.Order:
    """A paid one-seller order with the Payment that paid it (no items: the ledger needs none)."""
    order = _order(seller, buyer, total, status=models.Order.Status.PAID, paid_at=timezone.now())
    checkout = order.checkout
    models.Payment.objects.create(
        checkout=checkout,
        provider=provider,
        session_id=f"cs_{order.number}",
        amount=order.total,
        currency="PKR",
        platform_fee=platform_fee(order.total),
    )
    return order


def sold(seller, buyer, total: str = "2500.00", provider: str = "stripe") -> models.Order:
    """A paid order whose sale is in the ledger."""
    order = paid_order(seller, buyer, total, provider)
    ledger.record_sale(order=order, payment=order.checkout.payments.get())
    return order


def cod_order_with_parcel(
    seller, buyer, total: str = "2500.00", *, delivered: bool = False
) -> models.Order:
    """A cash-on-delivery order (no items) with its parcel booked at the courier ("postex"),
    on its way, or delivered today."""
    order = _order(
        seller,
        buyer,
        total,
        payment_method=models.Checkout.PaymentMethod.COD,
        status=models.Order.Status.DELIVERED if delivered else models.Order.Status.SHIPPED,
        delivered_at=timezone.now() if delivered else None,
    )
    models.Parcel.objects.create(
        order=order,
        courier="postex",
        tracking_number=f"T-{order.number}",
        weight_kg=Decimal("1"),
        pieces=1,
        cod_amount=order.total,
        booked_by=seller,
        status=models.Parcel.Status.DELIVERED if delivered else models.Parcel.Status.IN_TRANSIT,
    )
    return order


def remittance_line(order: models.Order) -> RemittanceLine:
    """The courier's line for the order's parcel: its total collected, no charges."""
    return RemittanceLine(f"T-{order.number}", order.total, Decimal(0), Decimal(0), "CPR-1")


def deliver(order: models.Order, *, days_ago: int) -> None:
    """Mark delivered `days_ago` days ago (the fulfilment flow is not under test here)."""
    models.Order.objects.filter(pk=order.pk).update(
        status=models.Order.Status.DELIVERED,
        delivered_at=timezone.now() - timedelta(days=days_ago),
    )


def refund_at_provider(order: models.Order, amount: Decimal) -> None:
    """What the payments flow records when the provider refunds: Payment.refunded_amount."""
    payment = order.checkout.payments.get()
    payment.refunded_amount += amount
    payment.save(update_fields=["refunded_amount"])


def bank_method(seller, *, held: bool = False) -> models.PayoutMethod:
    """A current bank payout method, out of its hold unless `held`."""
    now = timezone.now()
    set_at = now if held else now - timedelta(days=3)
    return payout_batches.set_payout_method(
        seller=seller,
        kind=models.PayoutMethod.Kind.BANK,
        iban=VALID_IBAN,
        account_title="Amina Bibi",
        now=set_at,
    )


def staff_user() -> models.User:
    return UserFactory(username="sadia", is_staff=True, is_superuser=True)


@pytest.fixture
def provider_refunds(monkeypatch):
    """The provider's refund call, recorded (these orders have no charge at the emulator);
    refunds staff send by hand (cash on delivery) keep their own provider."""
    calls = []
    real = payments.create_refund

    def create_refund(*, charge_or_intent, amount, idempotency_key, metadata=None, provider=None):
        if provider == "manual":  # sent by staff, not a provider: the real record of it
            return real(
                charge_or_intent=charge_or_intent,
                amount=amount,
                idempotency_key=idempotency_key,
                metadata=metadata,
                provider=provider,
            )
        calls.append(idempotency_key)
        return RefundResult(
            id=f"re_{len(calls)}",
            amount=amount,
            currency="PKR",
            charge_id="ch_1",
            payment_intent_id=None,
            status="succeeded",
        )

    monkeypatch.setattr(payments, "create_refund", create_refund)
    return calls
