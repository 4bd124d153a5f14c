"""The seller ledger: one function per kind of entry, balances, payout batches, reconciliation.

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
from django.utils.translation import gettext_lazy

from marketplace import payments
from marketplace.exceptions import LedgerError, PaymentProviderError
from marketplace.i18n import lazy_format
from marketplace.models import (
    Complaint,
    ConnectedAccount,
    LedgerAccount,
    LedgerEntry,
    LedgerMismatch,
    Notification,
    Order,
    Payment,
    Payout,
    PayoutBatch,
    PayoutMethod,
    User,
)
from marketplace.money import quantize
from marketplace.payments import platform_fee
from marketplace.services.notifications import notify

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
    fee = platform_fee(order.total) if fee is None else quantize(fee)
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
    complaint about them."""
    cutoff = now - timedelta(days=settings.LEDGER_RELEASE_DAYS)
    open_complaints = Complaint.objects.filter(
        status__in=[Complaint.Status.OPEN, Complaint.Status.IN_PROGRESS]
    ).values("order_id")
    return (
        Order.objects.filter(
            status=Order.Status.DELIVERED,
            delivered_at__lte=cutoff,
            ledger_entries__kind=Kind.SALE,
        )
        .exclude(ledger_entries__kind=Kind.RELEASE)
        .exclude(pk__in=open_complaints)
    )


def release_order(*, order: Order) -> LedgerEntry | None:
    """Move what is still pending on this order to available (once)."""
    with transaction.atomic():
        _lock_seller(order.seller_id)
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
        released += release_order(order=order) is not None
    return released


# --- Payout methods -------------------------------------------------------------------------


def set_payout_method(
    *,
    seller: User,
    kind: str,
    iban: str = "",
    account_title: str = "",
    wallet_number: str = "",
    now: datetime | None = None,
) -> PayoutMethod:
    """Replace the seller's payout method. Payouts are held for PAYOUT_METHOD_HOLD_HOURS and
    the seller is told by e-mail (even with e-mail notices off): if it was not them, they have
    that long to tell us. The caller has checked the seller's password."""
    now = now or timezone.now()
    connected = None
    if kind == PayoutMethod.Kind.STRIPE:
        connected = ConnectedAccount.objects.ready().filter(user=seller).first()
        if connected is None:
            raise LedgerError(_("Finish setting up your Stripe account first."))
    hold_until = now + timedelta(hours=settings.PAYOUT_METHOD_HOLD_HOURS)
    with transaction.atomic():
        _lock_seller(seller.pk)
        PayoutMethod.objects.current().filter(seller=seller).update(replaced_at=now)
        method = PayoutMethod(
            seller=seller,
            kind=kind,
            iban=iban if kind == PayoutMethod.Kind.BANK else "",
            account_title=account_title if kind != PayoutMethod.Kind.STRIPE else "",
            wallet_number=wallet_number if kind in PayoutMethod.WALLETS else "",
            connected_account=connected,
            hold_until=hold_until,
            created_at=now,
        )
        method.full_clean()
        method.save()
        notify(
            user=seller,
            kind=Notification.Kind.PAYOUT_METHOD_CHANGED,
            title=gettext_lazy("Your payout method was changed"),
            body=lazy_format(
                gettext_lazy(
                    "Your payouts now go to: %(method)s %(account)s. Payouts are held for "
                    "%(hours)s hours. If you did not make this change, change your password and "
                    "contact us now."
                ),
                method=PayoutMethod.Kind(method.kind).label,
                account=method.masked,
                hours=settings.PAYOUT_METHOD_HOLD_HOURS,
            ),
            url="/sell/payout-method/",
            dedupe_key=f"payout-method:{method.pk}",
        )
    return method


# --- Payouts --------------------------------------------------------------------------------


def batch_key(now: datetime) -> str:
    """The schedule period `now` falls in: one batch per ISO week (or per day)."""
    local = timezone.localtime(now)
    if settings.PAYOUT_SCHEDULE == "daily":
        return f"daily:{local.date().isoformat()}"
    year, week, _day = local.isocalendar()
    return f"weekly:{year}-W{week:02d}"


def _payable_methods(now: datetime) -> dict[int, PayoutMethod]:
    methods = PayoutMethod.objects.payable(now).select_related("connected_account")
    return {
        method.seller_id: method
        for method in methods
        if method.kind != PayoutMethod.Kind.STRIPE or method.connected_account.ready
    }


def draft_payout(*, batch: PayoutBatch, seller_id: int, method: PayoutMethod) -> Payout | None:
    """Put the seller's whole available balance in the batch, if it reaches the minimum: one
    line, and one payout entry moving the money from available to paid out."""
    with transaction.atomic():
        _lock_seller(seller_id)
        available = LedgerEntry.objects.filter(seller_id=seller_id).totals()["available"]
        if available < settings.PAYOUT_MINIMUM or available <= 0:
            return None
        if Payout.objects.filter(batch=batch, seller_id=seller_id).exists():
            return None
        line = Payout.objects.create(
            batch=batch,
            seller_id=seller_id,
            amount=available,
            method=method,
            method_kind=method.kind,
            account=method.account,
            account_title=method.account_title,
        )
        record_payout(line=line)
    return line


def record_payout(*, line: Payout) -> LedgerEntry | None:
    """The payout entry of a drafted line (called under the seller's lock by draft_payout)."""
    return _post(
        seller_id=line.seller_id,
        kind=Kind.PAYOUT,
        key=f"payout:line:{line.pk}",
        payout=line,
        available=-line.amount,
        paid_out=line.amount,
    )


def draft_payout_batch(*, now: datetime | None = None) -> PayoutBatch:
    """The scheduled job: this period's batch, with a line for every seller whose available
    balance reaches PAYOUT_MINIMUM and whose payout method is on file and not on hold.
    Running it again in the same period adds only sellers who have become payable since."""
    now = now or timezone.now()
    batch, _created = PayoutBatch.objects.get_or_create(
        key=batch_key(now), defaults={"created_at": now}
    )
    methods = _payable_methods(now)
    candidates = (
        LedgerEntry.objects.filter(seller_id__in=methods)
        .values("seller_id")
        .annotate(available=Sum("available"))
        # Half a paisa of slack: SQLite sums as floats; draft_payout checks the exact sum.
        .filter(available__gte=settings.PAYOUT_MINIMUM - HALF_PAISA, available__gt=0)
        .exclude(seller_id__in=batch.lines.values("seller_id"))
    )
    for row in candidates:
        seller_id = row["seller_id"]
        draft_payout(batch=batch, seller_id=seller_id, method=methods[seller_id])
    return batch


def _locked_line(line_id: int) -> Payout:
    seller_id = Payout.objects.values_list("seller_id", flat=True).get(pk=line_id)
    _lock_seller(seller_id)
    return Payout.objects.select_for_update().get(pk=line_id)


def mark_payout_paid(*, line: Payout, reference: str, now: datetime | None = None) -> Payout:
    """Staff confirm the bank (or Stripe) transfer of a line, with its reference."""
    reference = (reference or "").strip()
    if not reference:
        raise LedgerError(_("Enter the bank's reference for this transfer."))
    now = now or timezone.now()
    with transaction.atomic():
        line = _locked_line(line.pk)
        if line.status == Payout.Status.PAID and line.reference == reference:
            return line
        if line.status != Payout.Status.DRAFTED:
            raise LedgerError(
                _("Payout %(ref)s is “%(status)s”: only a line being transferred can be paid.")
                % {"ref": line.transfer_reference, "status": line.get_status_display()}
            )
        line.status = Payout.Status.PAID
        line.reference = reference
        line.paid_at = now
        line.save(update_fields=["status", "reference", "paid_at"])
        notify(
            user=line.seller,
            kind=Notification.Kind.PAYOUT_SENT,
            title=lazy_format(gettext_lazy("Payout of Rs %(amount)s sent"), amount=line.amount),
            body=lazy_format(
                gettext_lazy("Sent to %(account)s, bank reference %(reference)s."),
                account=line.method.masked,
                reference=reference,
            ),
            url="/sell/statement/",
            dedupe_key=f"payout:{line.pk}",
        )
    return line


def reverse_payout(*, line: Payout) -> LedgerEntry | None:
    """The payout's money back in available (called under the seller's lock)."""
    return _post(
        seller_id=line.seller_id,
        kind=Kind.PAYOUT_REVERSAL,
        key=f"payout-reversal:line:{line.pk}",
        payout=line,
        available=line.amount,
        paid_out=-line.amount,
    )


def mark_payout_failed(*, line: Payout, now: datetime | None = None) -> Payout:
    """The transfer failed (or the bank returned it): the money goes back to available and is
    paid in a later batch."""
    now = now or timezone.now()
    with transaction.atomic():
        line = _locked_line(line.pk)
        if line.status == Payout.Status.FAILED:
            return line
        line.status = Payout.Status.FAILED
        line.failed_at = now
        line.save(update_fields=["status", "failed_at"])
        reverse_payout(line=line)
        notify(
            user=line.seller,
            kind=Notification.Kind.PAYOUT_FAILED,
            title=lazy_format(
                gettext_lazy("Payout of Rs %(amount)s did not go through"), amount=line.amount
            ),
            body=gettext_lazy(
                "The money is back in your available balance. Check your payout method: it "
                "will be paid in the next batch."
            ),
            url="/sell/payout-method/",
            dedupe_key=f"payout:{line.pk}",
        )
    return line


def pay_stripe_lines() -> dict[str, int]:
    """The job for Stripe-rail sellers: each drafted line paid to a Stripe account gets a
    Transfer from the platform's balance (no source charge: the money was held), called
    outside the seller's lock with the key `payout-<line>` so a retry never pays twice; the
    line is marked paid with the transfer id, or failed on an error that will not go away
    (money back to available). A retryable error leaves it drafted for the next run."""
    counts = {"paid": 0, "failed": 0, "retry": 0}
    lines = Payout.objects.filter(
        status=Payout.Status.DRAFTED, method_kind=PayoutMethod.Kind.STRIPE
    ).select_related("batch")
    for line in lines.order_by("pk"):
        try:
            result = payments.create_transfer(
                amount=line.amount,
                destination=line.account,
                source_transaction=None,
                transfer_group=f"payout-batch-{line.batch_id}",
                idempotency_key=f"payout-{line.pk}",
                metadata={"payout": line.transfer_reference},
            )
        except PaymentProviderError as error:
            if error.retryable:
                counts["retry"] += 1
                log.warning("payout %s: will retry: %s", line.pk, error.detail or error.message)
                continue
            log.warning("payout %s failed: %s", line.pk, error.detail or error.message)
            mark_payout_failed(line=line)
            counts["failed"] += 1
            continue
        mark_payout_paid(line=line, reference=result.id)
        counts["paid"] += 1
    return counts


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
