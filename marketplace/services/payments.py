"""Taking payment for checkouts, paying sellers, refunds, and the webhook events about them.

Sellers' accounts are in `services.payouts`, deadlines and second chances in
`services.deadlines`.

Every provider call goes through `marketplace.payments`. Decisions recorded here:

- **Locks and provider calls.** `start_checkout_payment` keeps the checkout row locked while it
  expires the previous hosted page and opens the next one: only the same buyer (a double click)
  or the webhook for that checkout ever wait on it, and it is what guarantees that at most one
  page per checkout can be paid. `send_pending_transfers` calls the provider while holding the
  one transfer row (`skip_locked`, so a second worker passes it by). Everything else calls the
  provider outside any lock.
- **A payment for orders that can no longer be paid** (cancelled at the deadline while the
  buyer was on the payment page, or paid already through another page) is refunded
  automatically: a `Refund` row is written in the same transaction as the `Payment`, and sent
  after commit (and retried by the transfers job until it succeeds).
- **Refunding an order** has one path, `refund_in_full` (staff's `refund_order` and the
  buyer's `fulfilment.cancel_paid_order` call it and do their own authorisation): the Refund
  row is written with the order locked, then `_send_refund` reverses a transfer already sent
  and sends the refund; either failing leaves the refund FAILED for the transfers job to resend.
  A buyer's cancellation makes the order CANCELLED at once (stock back, nothing to ship) and
  REFUNDED when the refund succeeds.
- **Refunded amount** on a payment is the largest of what the provider reported
  (charge.refunded carries the charge's absolute `amount_refunded`) and the sum of our own
  succeeded refunds, so events arriving late, twice or in any order never count a refund twice.
"""

import logging
from collections.abc import Callable, Iterable
from decimal import Decimal

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from marketplace import payments
from marketplace.exceptions import PaymentProviderError, PaymentRejected
from marketplace.models import (
    Address,
    Checkout,
    ConnectedAccount,
    Order,
    OrderEvent,
    Payment,
    PaymentAttempt,
    Refund,
    SellerTransfer,
    StripeEvent,
    User,
)
from marketplace.services import payment_notices
from marketplace.services.fulfilment import record_event
from marketplace.services.orders import SHIPPING_FIELDS, snapshot_address
from marketplace.services.payouts import unready_sellers, update_connected_account

log = logging.getLogger(__name__)

PAID_STATUSES = {Order.Status.PAID, Order.Status.SHIPPED, Order.Status.DELIVERED}


def _queue(task: str) -> None:
    from django_q.tasks import async_task

    async_task(task)


# --- Buyer pays --------------------------------------------------------------------------------
@transaction.atomic
def choose_checkout_address(*, checkout: Checkout, buyer: User, address: Address) -> int:
    """Ship the checkout's unpaid orders that have no address yet (won auctions) to `address`."""
    if checkout.buyer_id != buyer.pk or address.user_id != buyer.pk:
        raise PaymentRejected(_("Choose one of your own addresses."), code="bad_address")
    orders = list(
        Order.objects.select_for_update()
        .filter(checkout=checkout, status=Order.Status.AWAITING_PAYMENT)
        .order_by("pk")
    )
    for order in orders:
        snapshot_address(order, address)
        order.save(update_fields=SHIPPING_FIELDS)
    return len(orders)


def _payable_orders(checkout: Checkout, buyer: User) -> list[Order]:
    """The checkout's unpaid orders, locked, or the reason they cannot be paid now."""
    if checkout.buyer_id != buyer.pk:
        raise PaymentRejected(_("This is not your checkout."), code="not_buyer")
    orders = list(
        Order.objects.select_for_update(of=("self",))
        .filter(checkout=checkout, status=Order.Status.AWAITING_PAYMENT)
        .select_related("seller__seller_profile")
        .order_by("pk")
    )
    if not orders:
        raise PaymentRejected(
            _("There is nothing left to pay in this checkout."), code="nothing_due"
        )
    now = timezone.now()
    for order in orders:
        if order.payment_deadline and order.payment_deadline <= now:
            raise PaymentRejected(
                _("The time to pay for order %(number)s has run out; it is being cancelled.")
                % {"number": order.number},
                code="deadline_passed",
            )
        if not order.has_shipping_address:
            raise PaymentRejected(
                _("Choose where order %(number)s should be delivered before paying.")
                % {"number": order.number},
                code="address_missing",
            )
    unready = unready_sellers(order.seller_id for order in orders)
    if unready:
        names = ", ".join(o.seller.public_name for o in orders if o.seller_id in unready)
        raise PaymentRejected(
            _("%(sellers)s cannot receive payments yet. Please try again later.")
            % {"sellers": names},
            code="seller_not_ready",
        )
    total = sum((order.total for order in orders), Decimal("0.00"))
    if payments.exceeds_payment_limit(total):
        raise PaymentRejected(
            _("This checkout is above the most that can be paid online in one payment."),
            code="amount_too_large",
        )
    return orders


@transaction.atomic
def start_checkout_payment(
    *, checkout: Checkout, buyer: User, success_url: str, cancel_url: str
) -> str:
    """Open the hosted payment page for all of the checkout's unpaid orders; its URL.

    `success_url` should contain `{CHECKOUT_SESSION_ID}`. Any page opened before is expired
    first, so only one can ever be paid.
    """
    checkout = (
        Checkout.objects.select_for_update(of=("self",)).select_related("buyer").get(pk=checkout.pk)
    )
    orders = _payable_orders(checkout, buyer)
    attempts = list(PaymentAttempt.objects.select_for_update().filter(checkout=checkout))
    for attempt in attempts:
        if attempt.status == PaymentAttempt.Status.OPEN:
            _close_open_attempt(attempt)
    number = max((a.number for a in attempts), default=0) + 1
    deadline = min((o.payment_deadline for o in orders if o.payment_deadline), default=None)
    session = payments.create_checkout_session(
        checkout=checkout,
        orders=orders,
        success_url=success_url,
        cancel_url=cancel_url,
        idempotency_key=f"{checkout.number}-attempt-{number}",
        expires_at=deadline,
    )
    PaymentAttempt.objects.create(
        checkout=checkout,
        number=number,
        session_id=session.id,
        url=session.url or "",
        amount=session.amount_total,
        expires_at=session.expires_at,
    )
    return session.url


def _close_open_attempt(attempt: PaymentAttempt) -> None:
    """Expire the attempt's hosted page; refuse to open another if it was paid meanwhile."""
    try:
        payments.expire_checkout_session(attempt.session_id)
    except PaymentProviderError:
        session = payments.retrieve_checkout_session(attempt.session_id)
        if session.is_paid:
            raise PaymentRejected(
                _("This checkout has just been paid. We are confirming the payment."),
                code="already_paid",
            ) from None
        if session.status == "open":
            raise
    attempt.status = PaymentAttempt.Status.EXPIRED
    attempt.save(update_fields=["status"])


def fulfil_checkout(*, session_id: str) -> Payment | None:
    """Record a completed payment: orders paid, one pending transfer per order; idempotent.

    The session is fetched again from the provider (never trusted from the event body).
    Returns None for a session that is not paid or not ours.
    """
    session = payments.retrieve_checkout_session(session_id)
    if not session.is_paid:
        log.info("checkout session %s is not paid (%s)", session_id, session.payment_status)
        return None
    with transaction.atomic():
        attempt = PaymentAttempt.objects.filter(session_id=session_id).first()
        if attempt is None:
            log.warning("paid checkout session %s is not one of ours", session_id)
            return None
        checkout = Checkout.objects.select_for_update().get(pk=attempt.checkout_id)
        existing = Payment.objects.filter(session_id=session_id).first()
        if existing is not None:
            return existing
        attempt = PaymentAttempt.objects.select_for_update().get(pk=attempt.pk)
        attempt.status = PaymentAttempt.Status.COMPLETE
        attempt.save(update_fields=["status"])

        wanted = _order_ids(session.metadata.get("order_ids", ""))
        orders = list(
            Order.objects.select_for_update()
            .filter(checkout=checkout, pk__in=wanted)
            .order_by("pk")
        )
        matches = (
            len(orders) == len(wanted)
            and session.currency.upper() == settings.CURRENCY.upper()
            and session.amount_total == sum((o.total for o in orders), Decimal("0.00"))
        )
        if not matches:
            log.error(
                "checkout session %s does not match checkout %s: refunding it all",
                session_id,
                checkout.number,
            )
        payable = [o for o in orders if matches and o.status == Order.Status.AWAITING_PAYMENT]
        if (
            payable
            and Payment.objects.filter(
                checkout=checkout,
                status__in=[Payment.Status.PAID, Payment.Status.PARTIALLY_REFUNDED],
            ).exists()
        ):
            payable = []  # paid already through another page: this one goes back
        splits = payments.split_checkout(payable)
        payment = Payment.objects.create(
            checkout=checkout,
            provider=payments.get_provider().name,
            session_id=session.id,
            payment_intent_id=session.payment_intent_id or "",
            charge_id=session.charge_id or "",
            amount=session.amount_total,
            currency=session.currency.upper(),
            platform_fee=sum((split.fee for split in splits), Decimal("0.00")),
            status=Payment.Status.PAID if payable else Payment.Status.UNMATCHED,
        )
        for order, fee, share in splits:
            order.transition_to(Order.Status.PAID)
            order.save(update_fields=["status", "paid_at"])
            record_event(order=order, kind=OrderEvent.Kind.PAID, actor=checkout.buyer)
            SellerTransfer.objects.create(
                order=order,
                payment=payment,
                amount=share,
                fee=fee,
                idempotency_key=f"transfer-{order.number}",
            )
        if payable:
            payment_notices.checkout_paid(checkout=checkout, payment=payment, orders=payable)
        refund_due = session.amount_total - sum((o.total for o in payable), Decimal("0.00"))
        if refund_due > 0:
            refund = Refund.objects.create(
                payment=payment,
                amount=refund_due,
                reason=gettext_noop("Paid after the orders were cancelled or already paid"),
                idempotency_key=f"refund-{session.id}",
            )
            transaction.on_commit(lambda: _send_refund(refund.pk))
        if payable:
            transaction.on_commit(lambda: _queue("marketplace.tasks.send_pending_transfers"))
    _handle_waiting_refunds(payment)
    return payment


def _handle_waiting_refunds(payment: Payment) -> None:
    """charge.refunded events that arrived before this payment was recorded, handled now."""
    about_it = Q(payload__data__object__id=payment.charge_id) if payment.charge_id else Q()
    if payment.payment_intent_id:
        about_it |= Q(payload__data__object__payment_intent=payment.payment_intent_id)
    if not about_it:
        return
    waiting = StripeEvent.objects.filter(
        about_it, type="charge.refunded", processed_at__isnull=True
    ).order_by("pk")
    for stored in waiting:
        event = payments.event_from_payload(stored.payload)
        if event.charge is None:
            continue
        record_refund(
            charge_id=event.charge.id,
            payment_intent_id=event.charge.payment_intent_id,
            amount_refunded=event.charge.amount_refunded,
            refunded=event.charge.refunded,
        )
        StripeEvent.objects.filter(pk=stored.pk).update(processed_at=timezone.now())


def _order_ids(value: str) -> set[int]:
    ids = set()
    for part in value.split(","):
        if part.strip().isdigit():
            ids.add(int(part))
    return ids


@transaction.atomic
def release_checkout_session(*, session_id: str) -> bool:
    """The hosted page expired unpaid: its orders stay awaiting payment; False if already
    closed (paid, or expired before)."""
    return bool(
        PaymentAttempt.objects.filter(
            session_id=session_id, status=PaymentAttempt.Status.OPEN
        ).update(status=PaymentAttempt.Status.EXPIRED)
    )


# --- Refunds ------------------------------------------------------------------------------------
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
            order_ids = SellerTransfer.objects.filter(payment=payment).values("order_id")
            for order in Order.objects.select_for_update().filter(pk__in=order_ids).order_by("pk"):
                if _is_refundable(order):
                    order.transition_to(Order.Status.REFUNDED)
                    order.save(update_fields=["status"])
                    record_event(order=order, kind=OrderEvent.Kind.REFUNDED)
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

    In one transaction, with the order locked: `prepare(order)` runs first (the buyer's
    cancellation checks its rules and puts the stock back there; raising rolls everything
    back), a transfer not sent yet is cancelled, and the `Refund` row is written. Then, outside
    that transaction, `_send_refund` reverses a transfer already sent and sends the refund. A
    provider failure leaves the refund FAILED (with the error) for the transfers job to resend,
    and is raised if `raise_errors`. A second call resends an existing refund, never a new one.
    """
    with transaction.atomic():
        order = Order.objects.select_for_update().get(pk=order.pk)
        refund = Refund.objects.filter(order=order).first()
        was_paid = order.status in PAID_STATUSES
        if prepare is not None:
            prepare(order)
        if refund is None:
            transfer = SellerTransfer.objects.select_for_update().filter(order=order).first()
            if transfer is None or not was_paid:
                raise PaymentRejected(
                    _("Order %(number)s is not a paid order that can be refunded.")
                    % {"number": order.number},
                    code="not_paid",
                )
            if transfer.status in {SellerTransfer.Status.PENDING, SellerTransfer.Status.FAILED}:
                transfer.status = SellerTransfer.Status.CANCELLED
                transfer.save(update_fields=["status"])
            refund = Refund.objects.create(
                order=order,
                payment=transfer.payment,
                amount=order.total,
                reason=reason[:200],
                idempotency_key=f"refund-{order.number}",
                requested_by=requested_by,
            )
    return _send_refund(refund.pk, raise_errors=raise_errors)


def _reverse_sent_transfer(order_id: int) -> None:
    """Take the seller's share back before the buyer's money goes out (inside `_send_refund`:
    if this fails, nothing is refunded and the refund records why)."""
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


def _is_refundable(order: Order) -> bool:
    """A paid order, or a paid order cancelled before shipping (its refund is on its way)."""
    return order.status in PAID_STATUSES or (
        order.status == Order.Status.CANCELLED and order.paid_at is not None
    )


def _send_refund(refund_pk: int, *, raise_errors: bool = False) -> Refund:
    """Send one refund (its idempotency key makes a resend harmless) and record the result."""
    with transaction.atomic():
        refund = (
            Refund.objects.select_for_update(skip_locked=True, of=("self",))
            .select_related("payment")
            .filter(pk=refund_pk)
            .first()
        )
        if refund is None or refund.status == Refund.Status.SUCCEEDED:
            return refund or Refund.objects.get(pk=refund_pk)
        payment = refund.payment
        refund.attempts += 1
        try:
            if refund.order_id:
                _reverse_sent_transfer(refund.order_id)
            result = payments.create_refund(
                charge_or_intent=payment.charge_id or payment.payment_intent_id,
                amount=refund.amount,
                idempotency_key=refund.idempotency_key,
                metadata={"checkout": str(payment.checkout_id), "refund": str(refund.pk)},
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
            refund.status = Refund.Status.SUCCEEDED
            refund.stripe_refund_id = result.id
            refund.last_error = ""
            refund.save(update_fields=["status", "stripe_refund_id", "attempts", "last_error"])
            payment = Payment.objects.select_for_update().get(pk=payment.pk)
            _refresh_refunded(payment)
            if refund.order_id:
                order = Order.objects.select_for_update().get(pk=refund.order_id)
                if _is_refundable(order):
                    order.transition_to(Order.Status.REFUNDED)
                    order.save(update_fields=["status"])
                    record_event(
                        order=order,
                        kind=OrderEvent.Kind.REFUNDED,
                        actor=refund.requested_by,
                        note=refund.reason,
                    )
    if failed is not None and raise_errors:
        raise failed
    return refund


# --- Paying sellers -----------------------------------------------------------------------------
def send_pending_transfers(*, only: Iterable[int] | None = None) -> dict[str, int]:
    """Send every pending or failed transfer whose seller can be paid (or just those in
    `only`), and retry refunds that failed. Safe to run concurrently and repeatedly: each row
    is locked while it is sent, with its own idempotency key, so nothing is ever sent twice."""
    counts = {"sent": 0, "failed": 0, "refunds": 0}
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
    if only is not None:
        return counts
    for pk in list(
        Refund.objects.filter(status__in=[Refund.Status.PENDING, Refund.Status.FAILED]).values_list(
            "pk", flat=True
        )
    ):
        if _send_refund(pk).status == Refund.Status.SUCCEEDED:
            counts["refunds"] += 1
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


# --- Webhook events -----------------------------------------------------------------------------
def handle_event(event: payments.PaymentEvent, payload: dict) -> bool:
    """Store a verified event once and act on it; False if it was handled before."""
    try:
        with transaction.atomic():
            stored, _created = StripeEvent.objects.get_or_create(
                event_id=event.id, defaults={"type": event.type, "payload": payload}
            )
    except IntegrityError:  # the same event delivered twice at once
        return False
    if stored.processed_at is not None:
        return False
    # Each handler is idempotent, so an event whose handling failed half-way (and is delivered
    # again by the provider) is simply handled again.
    if event.type in {"checkout.session.completed", "checkout.session.async_payment_succeeded"}:
        if event.checkout is not None and event.checkout.payment_status == "paid":
            fulfil_checkout(session_id=event.checkout.id)
    elif event.type == "checkout.session.expired" and event.checkout is not None:
        release_checkout_session(session_id=event.checkout.id)
    elif event.type == "charge.refunded" and event.charge is not None:
        payment = record_refund(
            charge_id=event.charge.id,
            payment_intent_id=event.charge.payment_intent_id,
            amount_refunded=event.charge.amount_refunded,
            refunded=event.charge.refunded,
        )
        if payment is None:
            # Events can arrive out of order: a refund of a payment whose completion has not
            # reached us yet stays unprocessed, and fulfil_checkout handles it once it has.
            return True
    elif event.type == "account.updated" and event.connected_account is not None:
        update_connected_account(account=event.connected_account)
    StripeEvent.objects.filter(pk=stored.pk).update(processed_at=timezone.now())
    return True
