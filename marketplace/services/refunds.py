"""Refunds: the one path an order's money goes back (`refund_in_full`), and what the provider
reports about refunds.

- **Refunding an order** has one path, `refund_in_full` (staff's `refund_order` and
  `cancellation.cancel_order` for a paid order call it and do their own authorisation): the
  Refund row is written with the order locked (and, for an order in the seller ledger, the
  seller's sale reversed in the same transaction: the money never left), then `send_refund`
  reverses a transfer already sent (orders paid before the ledger) and sends the refund; either failing leaves the refund FAILED for the transfers job to
  resend. A cancellation makes the order CANCELLED at once (stock back, nothing to ship) and
  REFUNDED when the refund succeeds.
- **Cash on delivery** has no payment to refund: `refund_in_full` writes the Refund with the
  `manual` provider (owed to the buyer), reverses the seller's credit from the courier's
  remittance if there is one (none yet: the remittance then credits nothing; a parcel the
  seller's own courier took: the seller holds the cash and owes it), and asks the buyer where
  to send it. Staff send it by hand and record the outcome through `send_refund` too
  (`manual_refunds`). Such an order stays DELIVERED until the refund is sent.
- **Refunded amount** on a payment is the largest of what the provider reported
  (charge.refunded carries the charge's absolute `amount_refunded`) and the sum of our own
  succeeded refunds, so events arriving late, twice or in any order never count a refund twice.
"""

import logging
from collections.abc import Callable
from decimal import Decimal

from django.db import transaction
from django.db.models import Q
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from marketplace import payments
from marketplace.exceptions import PaymentProviderError, PaymentRejected
from marketplace.models import (
    LedgerEntry,
    Order,
    OrderEvent,
    Parcel,
    Payment,
    Refund,
    SellerTransfer,
    User,
)
from marketplace.services import ledger, refund_notices
from marketplace.services.orders import record_event
from marketplace.services.transfers import reverse_sent_transfer

log = logging.getLogger(__name__)


def _refresh_refunded(payment: Payment, reported: Decimal | None = None) -> None:
    """Update the locked payment's refunded amount and status (see the module docstring)."""
    ours = sum(
        payment.refunds.filter(status=Refund.Status.SUCCEEDED).values_list("amount", flat=True),
        Decimal("0.00"),
    )
    payment.refunded_amount = min(
        payment.amount, max(payment.refunded_amount, ours, reported or Decimal("0.00"))
    )
    if payment.status != Payment.Status.UNMATCHED:
        if payment.refunded_amount >= payment.amount:
            payment.status = Payment.Status.REFUNDED
        elif payment.refunded_amount > 0:
            payment.status = Payment.Status.PARTIALLY_REFUNDED
    payment.save(update_fields=["refunded_amount", "status"])


def record_refund(
    *, charge_id: str, payment_intent_id: str | None, amount_refunded: Decimal, refunded: bool
) -> Payment | None:
    """charge.refunded: record how much of the payment went back; a full refund marks the
    payment's orders refunded and cancels transfers not sent yet."""
    with transaction.atomic():
        match = Q(charge_id=charge_id)
        if payment_intent_id:
            match |= Q(payment_intent_id=payment_intent_id)
        payment = Payment.objects.select_for_update().filter(match).first()
        if payment is None:
            log.warning("refund for unknown charge %s", charge_id)
            return None
        _refresh_refunded(payment, amount_refunded)
        if refunded or payment.refunded_amount >= payment.amount:
            # Orders before transfers, as refund_order locks them, so the two never deadlock.
            paid_orders = Q(seller_transfer__payment=payment) | Q(
                ledger_entries__payment=payment, ledger_entries__kind=LedgerEntry.Kind.SALE
            )
            order_ids = Order.objects.filter(paid_orders).values("pk")
            for order in Order.objects.select_for_update().filter(pk__in=order_ids).order_by("pk"):
                if _is_refundable(order):
                    order.transition_to(Order.Status.REFUNDED)
                    order.save(update_fields=["status"])
                    record_event(order=order, kind=OrderEvent.Kind.REFUNDED)
                # Refunded at the provider (its dashboard, say): the seller's sale is reversed
                # too, under the same key as refund_in_full's, so never twice.
                ledger.record_remaining_refund(order=order)
            SellerTransfer.objects.select_for_update().filter(
                payment=payment,
                status__in=[SellerTransfer.Status.PENDING, SellerTransfer.Status.FAILED],
            ).update(status=SellerTransfer.Status.CANCELLED)
    return payment


def refund_order(*, order: Order, by_staff: User) -> Refund:
    """Staff refund a paid order in full (in any paid state, shipped or delivered too): the
    seller's transfer is not sent (or is reversed first if it was), the buyer gets the order
    total back, and the order becomes refunded. Calling it again after a failure retries with
    the same idempotency keys."""
    if not by_staff.is_staff:
        raise PaymentRejected(_("Only staff can refund orders."), code="not_staff")
    return refund_in_full(
        order=order, requested_by=by_staff, reason=gettext_noop("Refunded by staff")
    )


def refund_in_full(
    *,
    order: Order,
    requested_by: User,
    reason: str,
    prepare: Callable[[Order], None] | None = None,
    raise_errors: bool = True,
) -> Refund:
    """The one way an order's total goes back to its buyer; callers decide who may.

    In one transaction, with the order locked: `prepare(order)` runs first (a
    cancellation checks its rules and puts the stock back there; raising rolls everything
    back), a transfer not sent yet is cancelled, and the `Refund` row is written. Then, outside
    that transaction, `send_refund` reverses a transfer already sent and sends the refund. A
    provider failure leaves the refund FAILED (with the error) for the transfers job to resend,
    and is raised if `raise_errors`. A second call resends an existing refund, never a new one.
    A cash-on-delivery order's refund stays owed until staff send it (`manual_refunds`).
    """
    with transaction.atomic():
        order = Order.objects.select_for_update().select_related("checkout").get(pk=order.pk)
        refund = Refund.objects.filter(order=order).first()
        had_money = order.has_money_to_refund
        if prepare is not None:
            prepare(order)
        if refund is None:
            refund = _new_refund(
                order, requested_by=requested_by, reason=reason[:200], had_money=had_money
            )
    return send_refund(refund.pk, raise_errors=raise_errors)


def _new_refund(order: Order, *, requested_by: User, reason: str, had_money: bool) -> Refund:
    """The order's Refund row and the seller's side of it, in the caller's transaction (the
    order locked). A cash-on-delivery order has no payment: its refund is owed to the buyer
    and sent by staff (the `manual` provider)."""
    sale = ledger.sale_entry(order)
    transfer = None
    if sale is None and not order.is_cod:
        transfer = SellerTransfer.objects.select_for_update().filter(order=order).first()
    payment = sale.payment if sale is not None else getattr(transfer, "payment", None)
    provider = Refund.MANUAL if order.is_cod else getattr(payment, "provider", None)
    if provider is None or not had_money:
        raise PaymentRejected(
            _("Order %(number)s is not a paid order that can be refunded.")
            % {"number": order.number},
            code="not_paid",
        )
    if transfer is not None and transfer.status in {
        SellerTransfer.Status.PENDING,
        SellerTransfer.Status.FAILED,
    }:
        transfer.status = SellerTransfer.Status.CANCELLED
        transfer.save(update_fields=["status"])
    refund = Refund.objects.create(
        order=order,
        payment=payment,
        provider=provider,
        amount=order.total,
        reason=reason,
        idempotency_key=f"refund-{order.number}",
        requested_by=requested_by,
    )
    ledger_refund = {
        "order": order,
        "amount": order.total,
        "key": ledger.order_refund_key(order),
        "reason": reason,
        "by": requested_by,
    }
    if sale is not None:
        # The money never left: the seller's entries are reversed, nothing to claw back (for
        # cash on delivery, the credit the courier's remittance gave).
        ledger.record_refund(**ledger_refund)
    elif order.is_cod and not Parcel.objects.filter(order=order).exists():
        # Sent by the seller's own courier: the seller holds the buyer's cash, and owes it.
        ledger.record_cash_refund(**ledger_refund)
    # A booked COD parcel not remitted yet: nothing was credited, so nothing is reversed, and
    # the remittance credits no sale for an order with a refund (it locks the order first).
    if refund.is_manual:
        refund_notices.ask_for_account(refund)
    return refund


def _is_refundable(order: Order) -> bool:
    """A paid order, or a paid order cancelled before shipping (its refund is on its way), or
    a prepaid parcel returned to the seller, or a cash-on-delivery order delivered
    (`Order.has_money_to_refund`)."""
    return order.has_money_to_refund


def send_refund(
    refund_pk: int, *, raise_errors: bool = False, staff_word: dict[str, str] | None = None
) -> Refund:
    """Send one refund (its idempotency key makes a resend harmless) and record the result.

    `staff_word` is for refunds staff send by hand (`manual_refunds`): their reference, or why
    it failed. Without it such a refund stays owed (the provider answers "pending")."""
    with transaction.atomic():
        refund = (
            Refund.objects.select_for_update(skip_locked=True, of=("self",))
            .select_related("payment", "order")
            .filter(pk=refund_pk)
            .first()
        )
        if refund is None or refund.status == Refund.Status.SUCCEEDED:
            return refund or Refund.objects.get(pk=refund_pk)
        payment = refund.payment
        refund.attempts += 1
        try:
            if refund.order_id and not refund.is_manual and not ledger.has_sale(refund.order_id):
                # Orders in the ledger (paid since, or migrated): the refund is a ledger entry;
                # one migrated after its transfer was sent leaves the seller owing it, taken
                # from their next payouts, rather than the money clawed back twice.
                reverse_sent_transfer(refund.order_id)
            checkout_id = payment.checkout_id if payment else refund.order.checkout_id
            result = payments.create_refund(
                charge_or_intent=(payment.charge_id or payment.payment_intent_id)
                if payment
                else refund.idempotency_key,
                amount=refund.amount,
                idempotency_key=refund.idempotency_key,
                metadata={"checkout": str(checkout_id), "refund": str(refund.pk)}
                | (staff_word or {}),
                # The provider that took the money; none for cash on delivery (manual).
                provider=payment.provider if payment else refund.provider,
            )
        except PaymentProviderError as error:
            refund.status = Refund.Status.FAILED
            refund.last_error = error.detail or error.message
            refund.save(update_fields=["status", "attempts", "last_error"])
            log.warning("refund %s failed: %s", refund.idempotency_key, refund.last_error)
            # Raised after the block, so the failure stays recorded for the retry job.
            failed = error
        else:
            failed = None
            if result.status == "pending":
                # Owed, not sent yet (a refund staff send by hand).
                refund.save(update_fields=["attempts"])
            else:
                _succeeded(refund, result.id)
    if failed is not None and raise_errors:
        raise failed
    return refund


def _succeeded(refund: Refund, provider_id: str) -> None:
    """The refund went through: record it, and the payment's and the order's new state."""
    refund.status = Refund.Status.SUCCEEDED
    refund.stripe_refund_id = provider_id
    refund.last_error = ""
    refund.save(update_fields=["status", "stripe_refund_id", "attempts", "last_error"])
    if refund.payment_id:
        _refresh_refunded(Payment.objects.select_for_update().get(pk=refund.payment_id))
    if refund.order_id:
        order = Order.objects.select_for_update().select_related("checkout").get(pk=refund.order_id)
        if _is_refundable(order):
            order.transition_to(Order.Status.REFUNDED)
            order.save(update_fields=["status"])
            record_event(
                order=order,
                kind=OrderEvent.Kind.REFUNDED,
                actor=refund.requested_by,
                note=refund.reason,
            )


def resend_failed_refunds() -> int:
    """Send again every refund that is pending or failed (the transfers job); how many went."""
    sent = 0
    # Refunds staff send by hand are not resent: they wait for staff (and a failed one for
    # the buyer's new account).
    waiting = Refund.objects.filter(status__in=[Refund.Status.PENDING, Refund.Status.FAILED])
    for pk in list(waiting.exclude(provider=Refund.MANUAL).values_list("pk", flat=True)):
        if send_refund(pk).status == Refund.Status.SUCCEEDED:
            sent += 1
    return sent
