"""Payout methods and batches: sellers' available money drafted into a batch, paid by bank file
or Stripe transfer, or failed back into available; each line is a ledger entry."""

import logging
from datetime import datetime, timedelta

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
    ConnectedAccount,
    LedgerEntry,
    Notification,
    Payout,
    PayoutBatch,
    PayoutMethod,
    User,
)
from marketplace.services.ledger import HALF_PAISA, Kind, _lock_seller, _post
from marketplace.services.notifications import notify

log = logging.getLogger(__name__)


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
