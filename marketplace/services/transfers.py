"""Paying sellers: one transfer per paid order, sent once; taken back before a refund.

`send_pending_transfers` calls the provider while holding the one transfer row
(`skip_locked`, so a second worker passes it by).
"""

import logging
from collections.abc import Iterable

from django.db import transaction
from django.utils import timezone

from marketplace import payments
from marketplace.exceptions import PaymentProviderError
from marketplace.models import ConnectedAccount, SellerTransfer

log = logging.getLogger(__name__)


def send_pending_transfers(*, only: Iterable[int] | None = None) -> dict[str, int]:
    """Send every pending or failed transfer whose seller can be paid (or just those in
    `only`). Safe to run concurrently and repeatedly: each row is locked while it is sent,
    with its own idempotency key, so nothing is ever sent twice."""
    counts = {"sent": 0, "failed": 0}
    ready = ConnectedAccount.objects.ready().values("user_id")
    due = SellerTransfer.objects.filter(
        status__in=[SellerTransfer.Status.PENDING, SellerTransfer.Status.FAILED],
        order__seller__in=ready,
    )
    if only is not None:
        due = due.filter(pk__in=list(only))
    due = due.order_by("pk").values_list("pk", flat=True)
    for pk in list(due):
        outcome = _send_transfer(pk)
        if outcome:
            counts[outcome] += 1
    return counts


@transaction.atomic
def _send_transfer(pk: int) -> str | None:
    transfer = (
        SellerTransfer.objects.select_for_update(skip_locked=True, of=("self",))
        .filter(pk=pk, status__in=[SellerTransfer.Status.PENDING, SellerTransfer.Status.FAILED])
        .select_related("payment", "order")
        .first()
    )
    if transfer is None:
        return None  # sent, cancelled, or being sent by another run
    account = ConnectedAccount.objects.filter(user_id=transfer.order.seller_id).first()
    if account is None or not account.ready:
        return None
    transfer.attempts += 1
    try:
        result = payments.create_transfer(
            amount=transfer.amount,
            destination=account.stripe_account_id,
            source_transaction=transfer.payment.charge_id,
            transfer_group=transfer.payment.checkout.number,
            idempotency_key=transfer.idempotency_key,
            metadata={"order": transfer.order.number},
        )
    except PaymentProviderError as error:
        transfer.status = SellerTransfer.Status.FAILED
        transfer.last_error = error.detail or error.message
        transfer.save(update_fields=["status", "attempts", "last_error"])
        log.warning("transfer %s failed: %s", transfer.idempotency_key, transfer.last_error)
        return "failed"
    transfer.status = SellerTransfer.Status.SENT
    transfer.stripe_transfer_id = result.id
    transfer.sent_at = timezone.now()
    transfer.last_error = ""
    transfer.save(
        update_fields=["status", "stripe_transfer_id", "sent_at", "attempts", "last_error"]
    )
    return "sent"


def reverse_sent_transfer(order_id: int) -> None:
    """Take the seller's share back before the buyer's money goes out (inside
    `refunds.send_refund`: if this fails, nothing is refunded and the refund records why)."""
    transfer = SellerTransfer.objects.filter(
        order_id=order_id, status=SellerTransfer.Status.SENT
    ).first()
    if transfer is None:
        return
    payments.reverse_transfer(
        transfer_id=transfer.stripe_transfer_id,
        amount=None,
        idempotency_key=f"reverse-{transfer.order.number}",
    )
    SellerTransfer.objects.filter(pk=transfer.pk, status=SellerTransfer.Status.SENT).update(
        status=SellerTransfer.Status.REVERSED
    )
