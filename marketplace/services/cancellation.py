"""Cancelling orders: who may, and what it undoes (stock back; a paid order refunded in full).

`cancel_order` is the one path for a person (buyer, seller, staff on the order page or in the
admin): it chooses itself between an unpaid cancellation (stock back) and a paid one (stock
back and the whole total refunded through `refunds.refund_in_full`). `cancel_overdue_order`
is the payment deadline job's. Reasons the site writes are stored in English (gettext_noop)
and shown in each reader's language.
"""

from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, gettext_noop

from marketplace.exceptions import OrderActionRefused
from marketplace.i18n import lazy_format
from marketplace.models import FixedPriceListing, Notification, Order, OrderEvent, User
from marketplace.money import lazy_pkr
from marketplace.page_cache import catalogue_changed
from marketplace.services.notifications import notify
from marketplace.services.orders import record_event
from marketplace.services.payments import expire_stale_pages
from marketplace.services.refunds import refund_in_full

UNPAID = {Order.Status.AWAITING_PAYMENT, Order.Status.UNCONFIRMED, Order.Status.CONFIRMED}


def check_cancellation(*, order: Order, by: User) -> None:
    """Raise unless `by` may cancel `order` now (the rules: `Order.cancel_refusal`)."""
    refusal = order.cancel_refusal(by)
    if refusal is not None:
        raise refusal


def _cancel_paid(order: Order, *, by: User, reason: str) -> Order:
    """Cancel a paid, unshipped order and give the buyer the whole total back.

    Who may: `check_cancellation` (the buyer of a fixed-price order, or staff), checked on the
    locked order. In the refund's transaction (`refunds.refund_in_full`) the order becomes
    CANCELLED, its stock goes back on sale, the seller's transfer is stopped and the Refund is
    recorded; then the refund is sent and the order becomes REFUNDED. If the provider fails,
    the order stays CANCELLED (nothing can be shipped) with a FAILED refund that the transfers
    job resends until the order is REFUNDED. Calling it again is refused: one refund, once.
    """

    def cancel(locked: Order) -> None:
        check_cancellation(order=locked, by=by)
        if locked.status != Order.Status.PAID:
            raise OrderActionRefused(
                _("Only a paid order is cancelled with a refund."), code="not_paid"
            )
        _cancel_and_restock(locked, reason, actor=by)
        _notify_paid_cancellation(locked, by=by)

    by_buyer = by.pk == order.buyer_id
    refund_in_full(
        order=order,
        requested_by=by,
        # Stored once in English; pages show it in the reader's language (gettext).
        reason=gettext_noop("Cancelled by the buyer before shipping")
        if by_buyer
        else gettext_noop("Cancelled by staff before shipping"),
        prepare=cancel,
        raise_errors=False,
    )
    return Order.objects.get(pk=order.pk)


def _notify_paid_cancellation(order: Order, *, by: User) -> None:
    url = reverse("order_detail", args=[order.number])
    total = lazy_pkr(order.total)  # formatted for each reader, in their language
    if by.pk == order.buyer_id:
        body = gettext_lazy(
            "The buyer cancelled it before it was shipped and gets %(total)s back. "
            "Please do not send it; the items are back on sale."
        )
    else:
        body = gettext_lazy(
            "MadeInPK staff cancelled it before it was shipped and the buyer gets %(total)s "
            "back. Please do not send it; the items are back on sale."
        )
    notify(
        user=order.seller,
        kind=Notification.Kind.ORDER_CANCELLED,
        title=lazy_format(gettext_lazy("Order %(number)s was cancelled"), number=order.number),
        body=lazy_format(body, total=total),
        url=url,
        dedupe_key=f"order:{order.pk}",
    )
    if by.pk != order.buyer_id:
        notify(
            user=order.buyer,
            kind=Notification.Kind.ORDER_CANCELLED,
            title=lazy_format(
                gettext_lazy("Your order %(number)s was cancelled"), number=order.number
            ),
            body=lazy_format(
                gettext_lazy("MadeInPK staff cancelled it and you will get %(total)s back."),
                total=total,
            ),
            url=url,
            dedupe_key=f"order:{order.pk}",
        )


def cancel_order(*, order: Order, by: User, reason: str = "") -> Order:
    """Cancel `order` for `by` in whatever state it is: before payment the stock goes back;
    paid and not shipped, the buyer also gets the whole total back. Who may:
    `check_cancellation`, judged on the locked order. Returns the order as it is now.

    `reason` is the person's own words (stored as typed) or a reason the site writes, passed
    as `gettext_noop(...)` so it is stored in English.
    """
    reason = " ".join(str(reason or "").split())[:200]
    if Order.objects.filter(pk=order.pk, status=Order.Status.PAID).exists():
        return _cancel_paid(order, by=by, reason=reason)
    return _cancel_unpaid(order, by=by, reason=reason)


@transaction.atomic
def _cancel_unpaid(order: Order, *, by: User, reason: str) -> Order:
    order = Order.objects.select_for_update().get(pk=order.pk)
    check_cancellation(order=order, by=by)
    # Cash on delivery takes no money before delivery: cancelled like an unpaid order.
    if order.status not in UNPAID:
        # Paid since we looked: cancelling it now would need a refund, so ask again.
        raise OrderActionRefused(
            _("This order is paid: cancelling it refunds the buyer."), code="refund_required"
        )
    # The checkout's open payment page still asks for this order's money: closed after
    # commit (the payment deadline job retries a failure; a payment landing anyway is refunded).
    checkout_id = order.checkout_id
    transaction.on_commit(lambda: expire_stale_pages(checkout_ids=[checkout_id]))
    was_confirmed = order.status == Order.Status.CONFIRMED
    order = _cancel_and_restock(order, reason, actor=by)
    if was_confirmed:
        _notify_cod_cancellation(order, by=by)
    return order


def _notify_cod_cancellation(order: Order, *, by: User) -> None:
    """A confirmed cash-on-delivery order may be packed already: the other party is told."""
    other = order.seller if by.pk == order.buyer_id else order.buyer
    if other.pk == by.pk:
        return
    notify(
        user=other,
        kind=Notification.Kind.ORDER_CANCELLED,
        title=lazy_format(gettext_lazy("Order %(number)s was cancelled"), number=order.number),
        body=gettext_lazy(
            "This cash-on-delivery order was cancelled before it was sent: it will not be "
            "delivered, and nothing is owed."
        ),
        url=reverse("order_detail", args=[order.number]),
        dedupe_key=f"order:{order.pk}",
    )


@transaction.atomic
def cancel_overdue_order(*, order: Order, reason: str) -> Order | None:
    """Cancel an order still unpaid (or, cash on delivery, unconfirmed) at its deadline and put
    its stock back (the payment deadline job); None if it has been paid, confirmed, cancelled
    or is not due after all."""
    order = (
        Order.objects.select_for_update()
        .filter(
            pk=order.pk,
            status__in=[Order.Status.AWAITING_PAYMENT, Order.Status.UNCONFIRMED],
            payment_deadline__lte=timezone.now(),
        )
        .first()
    )
    if order is None:
        return None
    return _cancel_and_restock(order, reason, actor=None)


def _cancel_and_restock(order: Order, reason: str, *, actor: User | None) -> Order:
    """The locked order (unpaid, or paid and not shipped: `_cancel_paid`)
    becomes cancelled and its fixed-price items go back on sale."""
    order.transition_to(Order.Status.CANCELLED, reason=reason[:200])
    order.save(update_fields=["status", "cancelled_at", "cancel_reason"])
    record_event(order=order, kind=OrderEvent.Kind.CANCELLED, actor=actor, note=reason)
    restock(order)
    return order


def restock(order: Order) -> None:
    """Put the order's fixed-price items back on sale (the listings locked, in pk order).
    Also the path of a parcel returned to the seller (services.parcels)."""
    returned: dict[int, int] = {}
    restocked: list[int] = []
    for listing_id, product_id, quantity in order.items.filter(listing__isnull=False).values_list(
        "listing_id", "product_id", "quantity"
    ):
        returned[listing_id] = returned.get(listing_id, 0) + quantity
        restocked.append(product_id)
    for listing in (
        FixedPriceListing.objects.select_for_update().filter(pk__in=returned).order_by("pk")
    ):
        listing.quantity += returned[listing.pk]
        update_fields = ["quantity"]
        if listing.status == FixedPriceListing.Status.SOLD_OUT:
            listing.status = FixedPriceListing.Status.ACTIVE
            update_fields.append("status")
        listing.save(update_fields=update_fields)
    catalogue_changed(product_ids=restocked)
