"""After payment: shipping and delivery (by the buyer or automatically).

Every change locks the order row, goes through `Order.transition_to()`, writes an
`OrderEvent` for the timeline, and sends its notices only after commit.
"""

import logging
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from marketplace.exceptions import OrderActionRefused
from marketplace.i18n import lazy_format
from marketplace.models import Notification, Order, OrderEvent, User
from marketplace.services.notifications import notify
from marketplace.services.orders import record_event

logger = logging.getLogger(__name__)

COURIER_MAX_LENGTH = Order._meta.get_field("courier").max_length
TRACKING_MAX_LENGTH = Order._meta.get_field("tracking_number").max_length


def _locked(order: Order) -> Order:
    return Order.objects.select_for_update().select_related("buyer", "seller").get(pk=order.pk)


def _clean_text(value: object, *, label: str, max_length: int) -> str:
    text = " ".join(str(value or "").split())
    if not text:
        raise OrderActionRefused(_("Enter the %(field)s.") % {"field": label}, code="missing")
    if len(text) > max_length:
        raise OrderActionRefused(
            _("The %(field)s can be at most %(max)s characters.")
            % {"field": label, "max": max_length},
            code="too_long",
        )
    return text


@transaction.atomic
def mark_shipped(*, order: Order, by: User, courier: str, tracking_number: str) -> Order:
    """The seller hands a paid order to a courier."""
    courier = _clean_text(courier, label=_("courier's name"), max_length=COURIER_MAX_LENGTH)
    tracking_number = _clean_text(
        tracking_number, label=_("tracking number"), max_length=TRACKING_MAX_LENGTH
    )
    order = _locked(order)
    if not order.can_ship(by):
        raise cannot_ship(order, by)
    order.transition_to(Order.Status.SHIPPED)
    order.courier = courier
    order.tracking_number = tracking_number
    order.save(update_fields=["status", "shipped_at", "courier", "tracking_number"])
    # The note is what both parties read on the timeline: courier and number, no prose (it is
    # stored once and read in two languages).
    note = f"{courier} · {tracking_number}"
    record_event(order=order, kind=OrderEvent.Kind.SHIPPED, actor=by, note=note)
    notify(
        user=order.buyer,
        kind=Notification.Kind.SHIPPED,
        title=lazy_format(gettext_lazy("Your order %(number)s is on its way"), number=order.number),
        body=lazy_format(
            gettext_lazy("%(seller)s sent it with %(courier)s, tracking number %(tracking)s."),
            seller=order.seller.public_name,
            courier=courier,
            tracking=tracking_number,
        ),
        url=reverse("order_detail", args=[order.number]),
        dedupe_key=f"order:{order.pk}",
    )
    return order


@transaction.atomic
def confirm_delivery(*, order: Order, by: User) -> Order:
    """The buyer says the parcel has arrived."""
    order = _locked(order)
    if not order.can_confirm_delivery(by):
        raise _cannot_confirm(order, by)
    _deliver(order, actor=by, kind=OrderEvent.Kind.DELIVERED)
    return order


def cannot_ship(order: Order, by: User) -> OrderActionRefused:
    """Why `Order.can_ship` said no, in words."""
    if by.pk != order.seller_id:
        return OrderActionRefused(
            _("Only the seller can mark this order as shipped."), code="not_seller"
        )
    if order.status == Order.Status.AWAITING_PAYMENT:
        return OrderActionRefused(
            _("This order is not paid yet: please do not send it before it is paid."),
            code="not_paid",
        )
    return OrderActionRefused(
        _("This order is %(status)s and cannot be marked as shipped.")
        % {"status": order.get_status_display().lower()},
        code="wrong_status",
    )


def _cannot_confirm(order: Order, by: User) -> OrderActionRefused:
    """Why `Order.can_confirm_delivery` said no, in words."""
    if by.pk != order.buyer_id:
        return OrderActionRefused(
            _("Only the buyer can confirm that this order was delivered."), code="not_buyer"
        )
    return OrderActionRefused(
        _("Delivery can be confirmed only for a shipped order; this one is %(status)s.")
        % {"status": order.get_status_display().lower()},
        code="wrong_status",
    )


def auto_confirm_deliveries(*, now: datetime | None = None) -> int:
    """Confirm every order shipped more than AUTO_CONFIRM_DELIVERY_DAYS ago; returns how many.

    Level-triggered and idempotent: each order is re-checked under its own lock, so a buyer
    confirming at the same moment, or a second run, changes nothing twice.
    """
    now = now or timezone.now()
    cutoff = now - timedelta(days=settings.AUTO_CONFIRM_DELIVERY_DAYS)
    confirmed = 0
    for pk in Order.objects.due_for_auto_delivery(cutoff).values_list("pk", flat=True):
        with transaction.atomic():
            order = (
                Order.objects.select_for_update(skip_locked=True)
                .due_for_auto_delivery(cutoff)
                .filter(pk=pk)
                .first()
            )
            if order is None:  # confirmed meanwhile, or another run holds it
                continue
            _deliver(order, actor=None, kind=OrderEvent.Kind.AUTO_DELIVERED)
            confirmed += 1
    return confirmed


def deliver_by_courier(*, order: Order, note: str = "") -> None:
    """The courier reports the parcel delivered (services.parcels, with the order locked):
    the same delivery as the buyer's confirmation, so the ledger's return window starts."""
    _deliver(order, actor=None, kind=OrderEvent.Kind.COURIER_DELIVERED, note=note)


def _deliver(order: Order, *, actor: User | None, kind: str, note: str = "") -> None:
    order.transition_to(Order.Status.DELIVERED)
    order.save(update_fields=["status", "delivered_at"])
    record_event(order=order, kind=kind, actor=actor, note=note)
    if kind == OrderEvent.Kind.COURIER_DELIVERED:
        body = lazy_format(
            gettext_lazy("%(courier)s delivered the parcel to the buyer."), courier=order.courier
        )
    elif actor is None:
        body = lazy_format(
            gettext_lazy(
                "No problem was reported within %(days)s days of shipping, so delivery counts "
                "as confirmed."
            ),
            days=settings.AUTO_CONFIRM_DELIVERY_DAYS,
        )
    else:
        body = lazy_format(
            gettext_lazy("%(buyer)s confirmed that the parcel arrived."),
            buyer=order.buyer.public_name,
        )
    notify(
        user=order.seller,
        kind=Notification.Kind.DELIVERED,
        title=lazy_format(gettext_lazy("Order %(number)s was delivered"), number=order.number),
        body=body,
        url=reverse("order_detail", args=[order.number]),
        dedupe_key=f"order:{order.pk}",
    )
    transaction.on_commit(lambda: _after_delivered(order.pk))


# --- After commit ---------------------------------------------------------------------------


def _after_delivered(order_id: int) -> None:
    from django_q.tasks import async_task

    try:
        async_task("marketplace.tasks.send_feedback_request_email", order_id)
    except Exception:
        # The delivery is committed; a broker that is down must not turn it into an error.
        logger.exception("could not queue the feedback request for order %s", order_id)
