"""Taking payment for checkouts and the webhook events about payments.

Sellers' accounts are in `services.payouts`, transfers to sellers in `services.transfers`,
refunds in `services.refunds`, deadlines and second chances in `services.deadlines`.

Every provider call goes through `marketplace.payments`. Decisions recorded here:

- **Locks and provider calls.** `start_checkout_payment` keeps the checkout row locked while it
  expires the previous hosted page and opens the next one: only the same buyer (a double click)
  or the webhook for that checkout ever wait on it, and it is what guarantees that at most one
  page per checkout can be paid. Everything else here calls the provider outside any lock.
- **A payment for orders that can no longer be paid** (cancelled at the deadline while the
  buyer was on the payment page, or paid already through another page) is refunded
  automatically: a `Refund` row is written in the same transaction as the `Payment`, and sent
  after commit (and retried by the transfers job until it succeeds).
- **Sellers are paid after delivery** (issue 14): a paid order is a sale in the seller ledger
  (`ledger.record_sale`, same fee rule), pending until the return window after delivery ends;
  no Stripe transfer is made at payment. `SellerTransfer` rows are only those made before.
"""

import logging
from decimal import Decimal

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Exists, OuterRef, Q
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from marketplace import payments
from marketplace.exceptions import PaymentProviderError, PaymentRejected
from marketplace.models import (
    Address,
    Checkout,
    Order,
    OrderEvent,
    Payment,
    PaymentAttempt,
    Refund,
    StripeEvent,
    User,
)
from marketplace.services import ledger, payment_notices
from marketplace.services.orders import (
    SHIPPING_FIELDS,
    delivery_fee,
    record_event,
    shop_profiles,
    snapshot_address,
)
from marketplace.services.payouts import unready_sellers, update_connected_account
from marketplace.services.refunds import record_refund, send_refund

log = logging.getLogger(__name__)


# --- Buyer pays --------------------------------------------------------------------------------
@transaction.atomic
def choose_checkout_address(*, checkout: Checkout, buyer: User, address: Address) -> int:
    """Ship the checkout's unpaid orders (won auctions) to `address`, with each shop's delivery
    fee to it added to the order's total."""
    if checkout.buyer_id != buyer.pk or address.user_id != buyer.pk:
        raise PaymentRejected(_("Choose one of your own addresses."), code="bad_address")
    orders = list(
        Order.objects.select_for_update()
        .filter(checkout=checkout, status=Order.Status.AWAITING_PAYMENT)
        .order_by("pk")
    )
    profiles = shop_profiles(order.seller_id for order in orders)
    for order in orders:
        snapshot_address(order, address)
        order.shipping_fee = delivery_fee(profiles, order.seller_id, address)
        order.total = order.subtotal + order.shipping_fee
        order.save(update_fields=[*SHIPPING_FIELDS, "shipping_fee", "total"])
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


def start_checkout_payment(
    *, checkout: Checkout, buyer: User, success_url: str, cancel_url: str
) -> str:
    """Open the card payment page for all of the checkout's unpaid orders; its URL."""
    return open_checkout_payment(
        checkout=checkout, buyer=buyer, success_url=success_url, cancel_url=cancel_url
    ).url


@transaction.atomic
def open_checkout_payment(
    *,
    checkout: Checkout,
    buyer: User,
    success_url: str,
    cancel_url: str,
    method: str = Checkout.PaymentMethod.CARD,
) -> payments.HostedCheckout:
    """Open the hosted payment page for all of the checkout's unpaid orders, by `method`
    (card, or a wallet that is configured), which becomes the checkout's payment method.

    For cards `success_url` should contain `{CHECKOUT_SESSION_ID}`; a wallet's page is reached
    by posting the returned `form_fields` to its `url`. Any page opened before is expired
    first, so only one can ever be paid: the buyer can switch methods until one is paid.
    """
    if method == Checkout.PaymentMethod.CARD:
        provider = settings.PAYMENT_PROVIDER
    elif method in payments.wallet_providers():
        provider = method
    else:
        raise PaymentRejected(_("This way of paying is not available."), code="bad_method")
    checkout = (
        Checkout.objects.select_for_update(of=("self",)).select_related("buyer").get(pk=checkout.pk)
    )
    orders = _payable_orders(checkout, buyer)
    if checkout.payment_method != method:
        checkout.payment_method = method
        checkout.save(update_fields=["payment_method"])
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
        provider=provider,
    )
    PaymentAttempt.objects.create(
        checkout=checkout,
        number=number,
        provider=provider,
        session_id=session.id,
        url=session.url or "",
        amount=session.amount_total,
        expires_at=session.expires_at,
        order_ids=",".join(str(order.pk) for order in orders),
    )
    return session


def _close_open_attempt(attempt: PaymentAttempt) -> None:
    """Expire the attempt's hosted page; refuse to open another if it was paid meanwhile."""
    try:
        payments.expire_checkout_session(attempt.session_id, attempt.provider)
    except PaymentProviderError:
        session = payments.retrieve_checkout_session(attempt.session_id, attempt.provider)
        if session.is_paid:
            raise PaymentRejected(
                _("This checkout has just been paid. We are confirming the payment."),
                code="already_paid",
            ) from None
        if session.status == "open":
            raise
    attempt.status = PaymentAttempt.Status.EXPIRED
    attempt.save(update_fields=["status"])


def fulfil_checkout(
    *, session_id: str, session: payments.HostedCheckout | None = None
) -> Payment | None:
    """Record a completed payment: orders paid, each sale pending in the ledger; idempotent.

    The session is fetched again from the provider that hosts it (never trusted from the
    event or callback body); a caller that has just fetched it passes it as `session`.
    Returns None for a session that is not paid or not ours.
    """
    known = PaymentAttempt.objects.filter(session_id=session_id).first()
    provider = known.provider if known else None
    if session is None:
        session = payments.retrieve_checkout_session(session_id, provider)
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

        wanted = _order_ids(session.metadata.get("order_ids") or attempt.order_ids)
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
            provider=attempt.provider,
            session_id=session.id,
            payment_intent_id=session.payment_intent_id or "",
            charge_id=session.charge_id or "",
            amount=session.amount_total,
            currency=session.currency.upper(),
            platform_fee=sum((split.fee for split in splits), Decimal("0.00")),
            status=Payment.Status.PAID if payable else Payment.Status.UNMATCHED,
        )
        for order, fee, _share in splits:
            order.transition_to(Order.Status.PAID)
            order.save(update_fields=["status", "paid_at"])
            record_event(order=order, kind=OrderEvent.Kind.PAID, actor=checkout.buyer)
            # The platform holds the money until delivery and the return window (issue 14):
            # the seller's share is pending in the ledger, paid out in a later batch.
            ledger.record_sale(order=order, payment=payment, fee=fee)
        if payable:
            payment_notices.checkout_paid(checkout=checkout, payment=payment, orders=payable)
        refund_due = session.amount_total - sum((o.total for o in payable), Decimal("0.00"))
        if refund_due > 0:
            refund = Refund.objects.create(
                payment=payment,
                provider=payment.provider,
                amount=refund_due,
                reason=gettext_noop("Paid after the orders were cancelled or already paid"),
                idempotency_key=f"refund-{session.id}",
            )
            transaction.on_commit(lambda: send_refund(refund.pk))
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


def stale_payment_attempts(checkout_ids=None):
    """Open hosted pages that include an order cancelled after the page was opened: paying
    one would charge for a cancelled order (refunded, but Stripe keeps its fee)."""
    cancelled_since = Order.objects.filter(
        checkout_id=OuterRef("checkout_id"),
        status__in=[Order.Status.CANCELLED, Order.Status.REFUNDED],
        cancelled_at__gte=OuterRef("created_at"),
    )
    attempts = PaymentAttempt.objects.filter(status=PaymentAttempt.Status.OPEN).filter(
        Exists(cancelled_since)
    )
    if checkout_ids is not None:
        attempts = attempts.filter(checkout_id__in=checkout_ids)
    return attempts


def expire_stale_pages(*, checkout_ids=None) -> int:
    """Expire the open payment pages that cover a cancelled order (after a cancellation
    commits; the payment deadline job retries any the provider refused). The buyer opens a
    fresh page for what is still unpaid; a payment that lands anyway is refunded by
    `fulfil_checkout`. Returns how many were expired."""
    expired = 0
    for attempt in stale_payment_attempts(checkout_ids):
        try:
            payments.expire_checkout_session(attempt.session_id, attempt.provider)
        except PaymentProviderError as error:
            session = _session_or_none(attempt.session_id, attempt.provider)
            if session is None or session.status == "open":
                log.info("could not expire session %s: %s", attempt.session_id, error.detail)
                continue
            if session.is_paid:
                fulfil_checkout(session_id=attempt.session_id)  # refunds what was cancelled
                continue
        expired += release_checkout_session(session_id=attempt.session_id)
    return expired


def _session_or_none(session_id: str, provider: str) -> payments.HostedCheckout | None:
    try:
        return payments.retrieve_checkout_session(session_id, provider)
    except PaymentProviderError:
        return None


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
