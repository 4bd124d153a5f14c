"""The seller ledger: one function per kind of entry, balances, sales, refunds and release.

Every write locks the seller's LedgerAccount row first, then checks and writes inside that
transaction, so two events for one seller (two releases, two payouts, a refund racing a
release) are decided one after the other. Every entry has a key naming its event: recording
the same event again returns nothing and changes nothing.
"""

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal

from django.conf import settings
from django.db import transaction
from django.db.models import Sum
from django.utils import timezone
from django.utils.translation import gettext as _

from marketplace.exceptions import LedgerError
from marketplace.models import (
    Complaint,
    LedgerAccount,
    LedgerEntry,
    Order,
    Payment,
    Payout,
    ReturnRequest,
    User,
)
from marketplace.money import quantize
from marketplace.payments import order_fee

log = logging.getLogger(__name__)

ZERO = Decimal("0.00")
HALF_PAISA = Decimal("0.005")
Kind = LedgerEntry.Kind


@dataclass(frozen=True)
class Balances:
    """A seller's money, summed from their entries. `in_transfer` is the part of what left
    `available` for a payout whose bank transfer staff have not confirmed yet."""

    pending: Decimal
    available: Decimal
    in_transfer: Decimal
    paid_out: Decimal


def csv_text(value: str) -> str:
    """A text cell for a CSV staff or sellers open in a spreadsheet: one starting like a formula
    (a seller's account title "=HYPERLINK(...)", say) is kept as text."""
    return "'" + value if value[:1] in ("=", "+", "-", "@", "\t", "\r") else value


def _lock_seller(seller_id: int) -> None:
    """Take the seller's ledger lock (created on first use) for the rest of the transaction."""
    LedgerAccount.objects.get_or_create(seller_id=seller_id)
    LedgerAccount.objects.select_for_update().get(seller_id=seller_id)


def _post(*, seller_id: int, kind: str, key: str, **fields) -> LedgerEntry | None:
    """Write one entry under the seller's lock, unless its key is already there."""
    if LedgerEntry.objects.filter(key=key).exists():
        return None
    return LedgerEntry.objects.create(seller_id=seller_id, kind=kind, key=key, **fields)


def balances(seller: User) -> Balances:
    totals = LedgerEntry.objects.filter(seller=seller).totals()
    in_transfer = LedgerEntry.objects.filter(
        seller=seller, payout__status=Payout.Status.DRAFTED
    ).totals()["paid_out"]
    return Balances(
        pending=quantize(totals["pending"]),
        available=quantize(totals["available"]),
        in_transfer=quantize(in_transfer),
        paid_out=quantize(totals["paid_out"] - in_transfer),
    )


def _order_released(order: Order) -> bool:
    return LedgerEntry.objects.filter(order=order, kind=Kind.RELEASE).exists()


def _bucket(order: Order | None) -> str:
    """Where a deduction on an order comes from: still pending, or available once released."""
    if order is not None and not _order_released(order):
        return "pending"
    return "available"


# --- Money in -------------------------------------------------------------------------------


def record_sale(
    *, order: Order, payment: Payment | None = None, fee: Decimal | None = None
) -> list[LedgerEntry]:
    """The buyer paid for `order`: its total is pending for the seller, less the platform fee.

    Returns the entries written (none when the sale was recorded already).
    """
    fee = order_fee(order) if fee is None else quantize(fee)
    if not ZERO <= fee <= order.total or order.total <= 0:
        raise LedgerError(_("The fee must be between nothing and the order's total."))
    with transaction.atomic():
        _lock_seller(order.seller_id)
        links = {"order": order, "payment": payment}
        entries = [
            _post(
                seller_id=order.seller_id,
                kind=Kind.SALE,
                key=f"sale:order:{order.pk}",
                pending=order.total,
                **links,
            )
        ]
        if fee:
            entries.append(
                _post(
                    seller_id=order.seller_id,
                    kind=Kind.FEE,
                    key=f"fee:order:{order.pk}",
                    pending=-fee,
                    **links,
                )
            )
    return [entry for entry in entries if entry is not None]


def sale_entry(order: Order) -> LedgerEntry | None:
    """The order's sale in the ledger (with its payment), or None for an order paid before the
    ledger (a `SellerTransfer`) or not paid."""
    return LedgerEntry.objects.select_related("payment").filter(order=order, kind=Kind.SALE).first()


def has_sale(order_id: int) -> bool:
    return LedgerEntry.objects.filter(order_id=order_id, kind=Kind.SALE).exists()


def order_money(order: Order) -> dict | None:
    """What the order brought its seller in the ledger (for the seller's order page): fee,
    share after refunds, and whether the money is released; None when it is not in the ledger.
    """
    sums = _order_sums(order)
    if Kind.SALE not in sums:
        return None
    return {
        "fee": -sums.get(Kind.FEE, ZERO),
        "share": sum(sums.values(), ZERO) - sums.get(Kind.RELEASE, ZERO),
        "released": Kind.RELEASE in sums,
    }


def buyer_protection(order: Order) -> dict | None:
    """For the buyer's order page, while the seller's money on the order is held:
    {"until": end of the return window (delivered_at + LEDGER_RELEASE_DAYS), or None before
    delivery}. None once released or refunded, or for an order not in the ledger."""
    if order.status not in (Order.Status.PAID, Order.Status.SHIPPED, Order.Status.DELIVERED):
        return None
    if not has_sale(order.pk) or _order_released(order):
        return None
    if order.delivered_at is None:
        return {"until": None}
    return {"until": order.delivered_at + timedelta(days=settings.LEDGER_RELEASE_DAYS)}


def order_refund_key(order: Order) -> str:
    """The key of an order's refund in full, whichever path records it first."""
    return f"order:{order.pk}"


def record_remaining_refund(*, order: Order) -> list[LedgerEntry]:
    """The provider reports the order's payment refunded in full: reverse what is left of the
    sale (nothing when `refund_in_full` recorded it already, or the order is not in the
    ledger)."""
    with transaction.atomic():
        _lock_seller(order.seller_id)
        sums = _order_sums(order)
        left = sums.get(Kind.SALE, ZERO) + sums.get(Kind.REFUND, ZERO)
        if left <= 0:
            return []
        return record_refund(order=order, amount=left, key=order_refund_key(order))


def _order_sums(order: Order) -> dict[str, Decimal]:
    rows = (
        LedgerEntry.objects.filter(order=order)
        .values("kind")
        .annotate(held=Sum("pending") + Sum("available"))
    )
    return {row["kind"]: quantize(row["held"]) for row in rows}


def record_refund(
    *, order: Order, amount: Decimal, key: str, reason: str = "", by: User | None = None
) -> list[LedgerEntry]:
    """`amount` of the order's total went back to the buyer (a refund before delivery, or an
    accepted return after it): the seller loses it, and gets back the matching share of the
    platform fee. Taken from pending before the order's release, from available after it.
    """
    amount = quantize(amount)
    with transaction.atomic():
        _lock_seller(order.seller_id)
        if LedgerEntry.objects.filter(key=f"refund:{key}").exists():
            return []
        sums = _order_sums(order)
        sale = sums.get(Kind.SALE, ZERO)
        if not sale:
            raise LedgerError(_("This order has no sale in the ledger to refund."))
        refunded_before = -sums.get(Kind.REFUND, ZERO)
        if amount <= 0 or refunded_before + amount > sale:
            raise LedgerError(_("A refund cannot be more than what is left of the order."))
        # The fee returned is worked out on the running total, so partial refunds never drift
        # by a paisa from the fee on the whole.
        fee = -sums.get(Kind.FEE, ZERO)
        fee_returned_before = sums.get(Kind.FEE_REFUND, ZERO)
        fee_back = quantize(fee * (refunded_before + amount) / sale) - fee_returned_before
        payment = (
            LedgerEntry.objects.filter(order=order, kind=Kind.SALE).values_list(
                "payment", flat=True
            )
        ).first()
        bucket = _bucket(order)
        links = {"order": order, "payment_id": payment, "reason": reason, "created_by": by}
        entries = [
            _post(
                seller_id=order.seller_id,
                kind=Kind.REFUND,
                key=f"refund:{key}",
                **{bucket: -amount},
                **links,
            )
        ]
        if fee_back > 0:
            entries.append(
                _post(
                    seller_id=order.seller_id,
                    kind=Kind.FEE_REFUND,
                    key=f"fee-refund:{key}",
                    **{bucket: fee_back},
                    **links,
                )
            )
    return [entry for entry in entries if entry is not None]


def record_cash_refund(
    *, order: Order, amount: Decimal, key: str, reason: str = "", by: User | None = None
) -> LedgerEntry | None:
    """A cash-on-delivery order the seller's own courier delivered (no parcel booked with us,
    so no remittance and no sale here): the seller holds the buyer's cash, so the refund
    MadeInPK sends the buyer comes out of their available balance (which may go below zero:
    the next payouts wait)."""
    amount = quantize(amount)
    if amount <= 0:
        raise LedgerError(_("A refund must be more than nothing."))
    with transaction.atomic():
        _lock_seller(order.seller_id)
        if _order_sums(order).get(Kind.SALE):
            raise LedgerError(_("This order's sale is in the ledger: refund it from there."))
        return _post(
            seller_id=order.seller_id,
            kind=Kind.REFUND,
            key=f"refund:{key}",
            order=order,
            reason=reason,
            created_by=by,
            available=-amount,
        )


def record_courier_charge(
    *, order: Order, amount: Decimal, key: str, reason: str = ""
) -> LedgerEntry | None:
    """A courier's charge the seller bears (a refused parcel's return fee, say). It comes out
    of available, never pending: the order may have no money pending at all."""
    amount = quantize(amount)
    if amount <= 0:
        raise LedgerError(_("A charge must be more than nothing."))
    with transaction.atomic():
        _lock_seller(order.seller_id)
        return _post(
            seller_id=order.seller_id,
            kind=Kind.COURIER,
            key=f"courier:{key}",
            order=order,
            reason=reason,
            available=-amount,
        )


def adjust(*, seller: User, amount: Decimal, reason: str, by: User, key: str) -> LedgerEntry | None:
    """Staff add to (or take from) a seller's available balance, saying why."""
    amount = quantize(amount)
    reason = (reason or "").strip()
    if not by.is_staff:
        raise LedgerError(_("Only staff can adjust a seller's balance."))
    if not reason:
        raise LedgerError(_("Say why the balance is adjusted."))
    if not amount:
        raise LedgerError(_("An adjustment must change the balance."))
    with transaction.atomic():
        _lock_seller(seller.pk)
        return _post(
            seller_id=seller.pk,
            kind=Kind.ADJUSTMENT,
            key=f"adjustment:{key}",
            available=amount,
            reason=reason,
            created_by=by,
        )


# --- Release --------------------------------------------------------------------------------


def orders_due_for_release(now: datetime):
    """Delivered orders past the return window, with a sale and no release yet, and no open
    complaint or return holding them (asked for, with staff, or refused while the buyer may
    still take it to staff: `ReturnRequest.objects.holding_money`)."""
    cutoff = now - timedelta(days=settings.LEDGER_RELEASE_DAYS)
    open_complaints = Complaint.objects.filter(
        status__in=[Complaint.Status.OPEN, Complaint.Status.IN_PROGRESS]
    ).values("order_id")
    open_returns = ReturnRequest.objects.holding_money(now).values("order_id")
    return (
        Order.objects.filter(
            status=Order.Status.DELIVERED,
            delivered_at__lte=cutoff,
            ledger_entries__kind=Kind.SALE,
        )
        .exclude(ledger_entries__kind=Kind.RELEASE)
        .exclude(pk__in=open_complaints)
        .exclude(pk__in=open_returns)
    )


def release_order(*, order: Order, now: datetime | None = None) -> LedgerEntry | None:
    """Move what is still pending on this order to available (once), unless a return holds it
    at `now` (asked for, with staff, or refused inside the buyer's escalation days).

    The order is locked before the seller, as a return and `refund_in_full` lock them, so a
    return asked for at the last moment and the release job are decided one after the other.
    """
    with transaction.atomic():
        Order.objects.select_for_update().filter(pk=order.pk).first()
        _lock_seller(order.seller_id)
        holding = ReturnRequest.objects.holding_money(now or timezone.now())
        if holding.filter(order=order).exists():
            return None
        pending = LedgerEntry.objects.filter(order=order).totals()["pending"]
        if pending <= 0 or _order_released(order):
            return None
        return _post(
            seller_id=order.seller_id,
            kind=Kind.RELEASE,
            key=f"release:order:{order.pk}",
            order=order,
            pending=-pending,
            available=pending,
        )


def release_due(*, now: datetime | None = None) -> int:
    """The job: release every order due; returns how many were released."""
    now = now or timezone.now()
    released = 0
    for order in orders_due_for_release(now).only("pk", "seller_id"):
        released += release_order(order=order, now=now) is not None
    return released


# --- Payout methods -------------------------------------------------------------------------
