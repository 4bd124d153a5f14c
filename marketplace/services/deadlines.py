"""Payment deadlines and second chances: orders unpaid at their deadline are cancelled; a won
auction's buyer gets a violation (blocked at the limit) and the runner-up a second-chance offer.

Second-chance orders do not set `Order.auction` (the unpaid order keeps it: at most one order
per auction); they are linked through `SecondChanceOffer.order` and count as auction orders
here.
"""

import logging
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import CharField, Exists, OuterRef, Q, Value
from django.db.models.functions import Cast, Concat
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from marketplace.exceptions import PaymentProviderError, PaymentRejected, PurchaseRejected
from marketplace.i18n import language_for_user
from marketplace.models import (
    Bid,
    Checkout,
    Notification,
    Order,
    PaymentAttempt,
    PaymentViolation,
    SecondChanceOffer,
    User,
)
from marketplace.services import cod_rules, payment_notices
from marketplace.services.cancellation import cancel_overdue_order
from marketplace.services.orders import NewOrder, OrderLine, create_orders
from marketplace.services.payments import expire_stale_pages, fulfil_checkout
from marketplace.services.payouts import unready_sellers

log = logging.getLogger(__name__)

SECOND_CHANCE_HOURS = 48


def _auction_order_q() -> Q:
    return Q(auction__isnull=False) | Q(second_chance_offer__isnull=False)


# Orders the deadline job cancels at `payment_deadline`: unpaid, or cash on delivery and not
# confirmed by the buyer.
WAITING_ON_BUYER = [Order.Status.AWAITING_PAYMENT, Order.Status.UNCONFIRMED]


def check_payment_deadlines() -> dict[str, int]:
    """Cancel every order unpaid (or, cash on delivery, unconfirmed) at its deadline. A won
    auction's buyer gets a violation (and is blocked at the limit) and the runner-up a
    second-chance offer; fixed-price stock goes back. Idempotent and safe to run concurrently."""
    now = timezone.now()
    counts = {"cancelled": 0, "violations": 0, "pages_expired": 0, "offers_expired": 0}
    due = list(
        Order.objects.filter(status__in=WAITING_ON_BUYER, payment_deadline__lte=now).values_list(
            "pk", "checkout_id"
        )
    )
    unsettled = _settle_open_pages({checkout_id for _pk, checkout_id in due})
    for pk, checkout_id in due:
        if checkout_id in unsettled:
            continue  # whether it was paid is unknown for now: the next run decides
        outcome = _expire_order(pk)
        if outcome:
            counts["cancelled"] += 1
            counts["violations"] += outcome == "violation"
    # Pages a cancellation could not expire at once (provider down): tried again every run.
    counts["pages_expired"] = expire_stale_pages()
    counts["offers_expired"] = SecondChanceOffer.objects.filter(
        status=SecondChanceOffer.Status.OFFERED, expires_at__lte=now
    ).update(status=SecondChanceOffer.Status.EXPIRED)
    return counts


def send_payment_reminders() -> int:
    """Remind buyers once, when half the time to an order's payment deadline is gone."""
    now = timezone.now()
    reminded = Notification.objects.filter(
        kind=Notification.Kind.PAYMENT_REMINDER,
        user_id=OuterRef("buyer_id"),
        dedupe_key=Concat(Value("order:"), Cast(OuterRef("pk"), CharField()), Value(":reminder")),
    )
    due = (
        Order.objects.filter(status=Order.Status.AWAITING_PAYMENT, payment_deadline__gt=now)
        .exclude(Exists(reminded))
        .select_related("buyer", "checkout")
    )
    sent = 0
    for order in due:
        if now < order.created_at + (order.payment_deadline - order.created_at) / 2:
            continue
        with transaction.atomic():
            sent += payment_notices.payment_reminder(order=order) is not None
    return sent


def _settle_open_pages(checkout_ids: set[int]) -> set[int]:
    """Before cancelling, ask the provider about these checkouts' open payment pages: one paid
    just before the deadline whose webhook has not arrived yet is fulfilled now, so a buyer who
    paid is never cancelled or given a violation. Returns the checkouts that could not be
    checked (provider unreachable)."""
    unsettled = set()
    for attempt in PaymentAttempt.objects.filter(
        checkout_id__in=checkout_ids, status=PaymentAttempt.Status.OPEN
    ):
        try:
            fulfil_checkout(session_id=attempt.session_id)
        except PaymentProviderError as error:
            log.warning("could not check session %s: %s", attempt.session_id, error.detail)
            unsettled.add(attempt.checkout_id)
    return unsettled


@transaction.atomic
def _expire_order(pk: int) -> str | None:
    order = (
        Order.objects.select_for_update(skip_locked=True)
        .filter(pk=pk, status__in=WAITING_ON_BUYER, payment_deadline__lte=timezone.now())
        .first()
    )
    if order is None:
        return None  # paid, confirmed, cancelled, or handled by a concurrent run
    is_auction = Order.objects.filter(_auction_order_q(), pk=order.pk).exists()
    # A buyer who could not pay because the seller never set up payouts is not at fault.
    seller_ready = not unready_sellers([order.seller_id])
    unconfirmed = order.status == Order.Status.UNCONFIRMED
    # Stored in English, shown in each reader's language (gettext at display).
    if unconfirmed:
        reason = gettext_noop("Cash on delivery not confirmed by the buyer in time")
    else:
        reason = gettext_noop("Not paid by the payment deadline")
    cancel_overdue_order(order=order, reason=reason)
    checkout_id = order.checkout_id
    transaction.on_commit(lambda: expire_stale_pages(checkout_ids=[checkout_id]))
    if unconfirmed and not is_auction:
        cod_rules.unconfirmed_cancelled(order)
        return "cancelled"
    if not is_auction or not seller_ready:
        payment_notices.order_unpaid(order=order, violation=False, offer=None)
        return "cancelled"
    buyer = User.objects.select_for_update().get(pk=order.buyer_id)
    _violation, created = PaymentViolation.objects.get_or_create(
        order=order, defaults={"buyer": buyer}
    )
    offer = None
    if (
        order.auction_id
        and not SecondChanceOffer.objects.filter(auction_id=order.auction_id).exists()
    ):
        offer = _offer_second_chance(order)
    payment_notices.order_unpaid(order=order, violation=True, offer=offer)
    if offer is not None:
        title = order.items.values_list("title", flat=True).first() or order.number
        payment_notices.second_chance_offered(offer=offer, title=title)
    limit = settings.PAYMENT_VIOLATIONS_BEFORE_BLOCK
    violations = buyer.payment_violations.count()
    if not buyer.is_blocked and violations >= limit:
        # The reason is shown to the buyer on their profile: written in their language.
        with translation.override(language_for_user(buyer)):
            reason = _("%(count)s won items not paid for by their deadline.") % {"count": limit}
        buyer.block(reason)
        payment_notices.account_blocked(user=buyer, violations=violations)
    return "violation" if created else "cancelled"


def _offer_second_chance(order: Order) -> SecondChanceOffer | None:
    runner_up = (
        Bid.objects.filter(auction_id=order.auction_id)
        .exclude(bidder_id=order.buyer_id)
        .filter(bidder__blocked_at__isnull=True)
        .order_by("-amount", "created_at")
        .first()
    )
    if runner_up is None:
        return None
    now = timezone.now()
    return SecondChanceOffer.objects.create(
        auction_id=order.auction_id,
        unpaid_order=order,
        bidder_id=runner_up.bidder_id,
        amount=runner_up.amount,
        created_at=now,
        expires_at=now + timedelta(hours=SECOND_CHANCE_HOURS),
    )


def _locked_offer(offer: SecondChanceOffer, buyer: User) -> SecondChanceOffer | None:
    """The offer locked, if the buyer may answer it; None if its time ran out (it is marked
    expired, which the caller commits before refusing)."""
    offer = (
        SecondChanceOffer.objects.select_for_update(of=("self",))
        .select_related("auction__product__seller")
        .get(pk=offer.pk)
    )
    if offer.bidder_id != buyer.pk:
        raise PaymentRejected(_("This offer is not yours."), code="not_yours")
    if offer.status == SecondChanceOffer.Status.OFFERED and not offer.is_open():
        offer.status = SecondChanceOffer.Status.EXPIRED
        offer.save(update_fields=["status"])
        return None
    if offer.status != SecondChanceOffer.Status.OFFERED:
        raise PaymentRejected(
            _("This offer is %(status)s.") % {"status": offer.get_status_display().lower()},
            code="offer_closed",
        )
    return offer


def _offer_expired() -> PaymentRejected:
    return PaymentRejected(
        _("This offer has expired: it was open for %(hours)s hours.")
        % {"hours": SECOND_CHANCE_HOURS},
        code="offer_expired",
    )


def accept_second_chance_offer(*, offer: SecondChanceOffer, buyer: User) -> Checkout:
    """The runner-up buys the item at their last bid: a checkout of one order awaiting payment."""
    with transaction.atomic():
        offer = _locked_offer(offer, buyer)
        if offer is None:
            expired = True
        elif User.objects.select_for_update().get(pk=buyer.pk).is_blocked:
            raise PurchaseRejected(
                _(
                    "Your account is blocked from buying. Please contact us if you think this "
                    "is wrong."
                ),
                code="buyer_blocked",
            )
        else:
            expired = False
            checkout = _second_chance_order(offer, buyer)
    if expired:
        raise _offer_expired()
    return checkout


def _second_chance_order(offer: SecondChanceOffer, buyer: User) -> Checkout:
    """The locked, open offer becomes a checkout of one order at the offered price."""
    now = timezone.now()
    product = offer.auction.product
    (order,) = create_orders(
        [
            NewOrder(
                buyer_id=buyer.pk,
                seller_id=product.seller_id,
                lines=[OrderLine(product=product, unit_price=offer.amount)],
            )
        ],
        now=now,
        payment_deadline=now + timedelta(hours=settings.AUCTION_PAYMENT_DEADLINE_HOURS),
    )
    offer.status = SecondChanceOffer.Status.ACCEPTED
    offer.answered_at = now
    offer.order = order
    offer.save(update_fields=["status", "answered_at", "order"])
    return order.checkout


def decline_second_chance_offer(*, offer: SecondChanceOffer, buyer: User) -> SecondChanceOffer:
    with transaction.atomic():
        locked = _locked_offer(offer, buyer)
        if locked is not None:
            locked.status = SecondChanceOffer.Status.DECLINED
            locked.answered_at = timezone.now()
            locked.save(update_fields=["status", "answered_at"])
    if locked is None:
        raise _offer_expired()
    return locked
