"""Cash on delivery (issue 15): the buyer confirms an order before it may be sent, an auction
win's buyer may switch to it, and refused parcels are counted against the buyer.

Placing a COD checkout is `orders.place_checkout(payment_method="cod")`; who may choose COD is
`cod_rules.cod_refusal`; unconfirmed orders are cancelled by `deadlines.check_payment_deadlines`.
"""

from datetime import timedelta
from decimal import Decimal

from django.conf import settings
from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from marketplace.exceptions import OrderActionRefused, PaymentRejected
from marketplace.i18n import isolate, lazy_format
from marketplace.models import Checkout, CodRefusal, Notification, Order, OrderEvent, User
from marketplace.services import cod_rules
from marketplace.services.notifications import notify
from marketplace.services.orders import record_event, shop_profiles


@transaction.atomic
def confirm_cod_order(*, order: Order, by: User) -> Order:
    """The buyer confirms a cash-on-delivery order: the seller may now send it."""
    order = Order.objects.select_for_update().select_related("buyer", "seller").get(pk=order.pk)
    if by.pk != order.buyer_id:
        raise OrderActionRefused(_("Only the buyer can confirm this order."), code="not_buyer")
    if order.status == Order.Status.CONFIRMED:
        return order  # the link opened twice: nothing more to do
    if not order.can_confirm_cod(by):
        raise OrderActionRefused(
            _("This order cannot be confirmed: it is %(status)s.")
            % {"status": order.get_status_display().lower()},
            code="wrong_status",
        )
    if order.payment_deadline and order.payment_deadline <= timezone.now():
        raise OrderActionRefused(
            _("The time to confirm order %(number)s has run out; it is being cancelled.")
            % {"number": isolate(order.number)},
            code="deadline_passed",
        )
    order.transition_to(Order.Status.CONFIRMED)
    order.save(update_fields=["status", "confirmed_at"])
    record_event(order=order, kind=OrderEvent.Kind.CONFIRMED, actor=by)
    notify(
        user=order.seller,
        kind=Notification.Kind.COD_CONFIRMED,
        title=lazy_format(
            gettext_lazy("Order %(number)s is confirmed: please send it"), number=order.number
        ),
        body=gettext_lazy(
            "The buyer confirmed this cash-on-delivery order and pays the courier on delivery."
        ),
        url=reverse("order_detail", args=[order.number]),
        dedupe_key=f"order:{order.pk}:cod-confirmed",
    )
    return order


@transaction.atomic
def choose_cash_on_delivery(*, checkout: Checkout, buyer: User) -> Checkout:
    """An auction win's buyer pays in cash on delivery instead of online, where its seller allows
    it for wins and it is below the limit. Its orders then wait for the buyer's confirmation,
    like any COD order (a payment page opened before is refused by `fulfil_checkout`, which
    refunds a payment landing anyway)."""
    checkout = Checkout.objects.select_for_update().get(pk=checkout.pk)
    if checkout.buyer_id != buyer.pk:
        raise PaymentRejected(_("This is not your checkout."), code="not_buyer")
    buyer_now = User.objects.select_for_update().get(pk=buyer.pk)
    orders = list(
        Order.objects.select_for_update()
        .filter(checkout=checkout, status=Order.Status.AWAITING_PAYMENT)
        .order_by("pk")
    )
    if not orders:
        raise PaymentRejected(
            _("There is nothing left to pay in this checkout."), code="nothing_due"
        )
    if any(not order.has_shipping_address for order in orders):
        raise PaymentRejected(
            _("Choose where it should be delivered first."), code="address_missing"
        )
    now = timezone.now()
    if any(order.payment_deadline and order.payment_deadline <= now for order in orders):
        raise PaymentRejected(_("The time to pay has run out."), code="deadline_passed")
    profiles = shop_profiles(order.seller_id for order in orders)
    refusal = cod_rules.cod_refusal(
        buyer=buyer_now,
        profiles=[profiles.get(order.seller_id) for order in orders],
        total=sum((order.total for order in orders), Decimal("0.00")),
        for_auction=True,
    )
    if refusal is not None:
        raise refusal
    checkout.payment_method = Checkout.PaymentMethod.COD
    checkout.save(update_fields=["payment_method"])
    deadline = now + timedelta(hours=settings.COD_CONFIRM_HOURS)
    for order in orders:
        order.transition_to(Order.Status.UNCONFIRMED)
        order.payment_deadline = min(order.payment_deadline or deadline, deadline)
        order.save(update_fields=["status", "payment_deadline"])
        order.buyer = buyer_now
        cod_rules.ask_for_confirmation(order)
    return checkout


@transaction.atomic
def record_cod_refusal(order: Order) -> CodRefusal | None:
    """A COD parcel was refused, or the buyer could not be reached (the courier's report):
    count it against the buyer, once per order. At COD_REFUSAL_LIMIT they can no longer
    choose COD (`cod_rules.buyer_cod_refusal`) until staff clear it. Returns the new refusal,
    or None when this order's was recorded already (or it is not a COD order)."""
    order = Order.objects.select_related("checkout").get(pk=order.pk)
    if not order.is_cod:
        return None
    User.objects.select_for_update().get(pk=order.buyer_id)  # counted one at a time
    refusal, created = CodRefusal.objects.get_or_create(
        order=order, defaults={"buyer_id": order.buyer_id}
    )
    return refusal if created else None


def clear_cod_refusals(*, buyer: User) -> int:
    """Staff let the buyer choose COD again: their refusals stop counting (kept, marked)."""
    return CodRefusal.objects.counting().filter(buyer=buyer).update(cleared_at=timezone.now())
