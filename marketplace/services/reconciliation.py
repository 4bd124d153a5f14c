"""Reconciliation: money received from buyers against what the ledger holds, has paid out,
earned in fees and refunded, per provider (and for cash on delivery, per the courier's
remittance); mismatches are reported to staff, never corrected."""

import logging
from datetime import datetime
from decimal import Decimal

from django.db import transaction
from django.db.models import Sum
from django.utils import timezone
from django.utils.translation import gettext_lazy

from marketplace.i18n import lazy_format
from marketplace.models import (
    Checkout,
    LedgerEntry,
    LedgerMismatch,
    Notification,
    Parcel,
    Payment,
    Payout,
    Refund,
    RemittanceLine,
    User,
)
from marketplace.money import quantize
from marketplace.services.ledger import ZERO, Kind
from marketplace.services.notifications import notify

log = logging.getLogger(__name__)


def platform_totals() -> dict[str, Decimal]:
    """For the staff dashboard: money held for sellers (pending, and available not yet in a
    batch), platform fees earned (less fees given back), and the drafted payout lines not
    confirmed paid yet."""
    totals = LedgerEntry.objects.totals()
    fees = LedgerEntry.objects.filter(kind__in=[Kind.FEE, Kind.FEE_REFUND]).totals()
    return {
        "pending": totals["pending"],
        "available": totals["available"],
        "fees": -(fees["pending"] + fees["available"]),
        "payouts_due": _sum(Payout.objects.filter(status=Payout.Status.DRAFTED), "amount"),
    }


# --- Reconciliation -------------------------------------------------------------------------


def _sum(queryset, field: str) -> Decimal:
    return quantize(queryset.aggregate(total=Sum(field))["total"] or ZERO)


def reconciliation_figures() -> list[dict]:
    """The invariant, per payment provider: money received from buyers = held for sellers +
    paid out + platform fees + refunded to buyers; and the payout lines = the paid-out bucket.
    Each figure comes from the provider's own records (Payment) on one side and the ledger
    on the other, so a refund or payment the ledger missed shows as a difference."""
    checks = []
    for provider in Payment.objects.values_list("provider", flat=True).distinct():
        payments = Payment.objects.filter(provider=provider)
        entries = LedgerEntry.objects.filter(payment__provider=provider)
        received = _sum(payments, "amount")
        refunded = _sum(payments, "refunded_amount")
        fees = -_sum(entries.filter(kind__in=[Kind.FEE, Kind.FEE_REFUND]), "pending") - _sum(
            entries.filter(kind__in=[Kind.FEE, Kind.FEE_REFUND]), "available"
        )
        sellers = entries.filter(kind__in=[Kind.SALE, Kind.REFUND, Kind.FEE, Kind.FEE_REFUND])
        held_and_paid = _sum(sellers, "pending") + _sum(sellers, "available")
        checks.append(
            {
                "check_name": "received",
                "provider": provider,
                "expected": received,
                "actual": held_and_paid + fees + refunded,
                "details": {
                    "received": str(received),
                    "sellers": str(held_and_paid),
                    "fees": str(fees),
                    "refunded": str(refunded),
                },
            }
        )
    cod = _cash_on_delivery_figures()
    if cod is not None:
        checks.append(cod)
    paid_out = _sum(LedgerEntry.objects.all(), "paid_out")
    lines = _sum(
        Payout.objects.filter(status__in=[Payout.Status.DRAFTED, Payout.Status.PAID]), "amount"
    )
    checks.append(
        {
            "check_name": "payouts",
            "provider": "",
            "expected": lines,
            "actual": paid_out,
            "details": {"payout_lines": str(lines), "ledger_paid_out": str(paid_out)},
        }
    )
    per_seller = LedgerEntry.objects.values("seller_id").annotate(
        pending=Sum("pending"), paid_out=Sum("paid_out")
    )
    for row in per_seller:
        lowest = quantize(min(row["pending"], row["paid_out"]))
        if lowest < 0:
            checks.append(
                {
                    "check_name": "negative_balance",
                    "provider": "",
                    "expected": ZERO,
                    "actual": lowest,
                    "details": {"seller": row["seller_id"]},
                }
            )
    return checks


def _cash_on_delivery_figures() -> dict | None:
    """Cash on delivery, the courier's side: the cash collected for delivered parcels (matched
    remittance lines) = held for their sellers + fees + refunded or owed to their buyers (a
    refund staff send by hand; one written before the remittance leaves no sale to reverse).
    None when no such line exists yet."""
    lines = RemittanceLine.objects.filter(
        outcome=RemittanceLine.Outcome.MATCHED,
        parcel__status=Parcel.Status.DELIVERED,
        parcel__order__checkout__payment_method=Checkout.PaymentMethod.COD,
    )
    if not lines.exists():
        return None
    order_ids = lines.values("parcel__order_id")
    collected = _sum(lines, "collected")
    entries = LedgerEntry.objects.filter(order__in=order_ids, payment__isnull=True)
    fee_entries = entries.filter(kind__in=[Kind.FEE, Kind.FEE_REFUND])
    fees = -_sum(fee_entries, "pending") - _sum(fee_entries, "available")
    sellers = entries.filter(kind__in=[Kind.SALE, Kind.REFUND, Kind.FEE, Kind.FEE_REFUND])
    held_and_paid = _sum(sellers, "pending") + _sum(sellers, "available")
    refunded = _sum(Refund.objects.filter(order__in=order_ids), "amount")
    return {
        "check_name": "received",
        "provider": Checkout.PaymentMethod.COD.value,
        "expected": collected,
        "actual": held_and_paid + fees + refunded,
        "details": {
            "collected": str(collected),
            "sellers": str(held_and_paid),
            "fees": str(fees),
            "refunded": str(refunded),
        },
    }


def reconcile(*, now: datetime | None = None) -> list[LedgerMismatch]:
    """The job: check the invariant; each mismatch is stored and told to staff, never fixed."""
    now = now or timezone.now()
    mismatches = [
        LedgerMismatch(found_at=now, **figures)
        for figures in reconciliation_figures()
        if figures["expected"] != figures["actual"]
    ]
    if not mismatches:
        return []
    with transaction.atomic():
        LedgerMismatch.objects.bulk_create(mismatches)
        day = timezone.localdate(now).isoformat()
        for staff in User.objects.filter(is_staff=True, is_active=True):
            notify(
                user=staff,
                kind=Notification.Kind.LEDGER_MISMATCH,
                title=gettext_lazy("The seller ledger does not reconcile"),
                body=lazy_format(
                    gettext_lazy("%(count)s check(s) found a difference: see Ledger mismatches."),
                    count=len(mismatches),
                ),
                url="/admin/marketplace/ledgermismatch/",
                dedupe_key=f"ledger-mismatch:{day}",
            )
    log.warning("ledger reconciliation: %d mismatch(es)", len(mismatches))
    return mismatches
