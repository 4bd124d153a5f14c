"""Parcels booked through a courier (issue 15): booking, and the one path by which the courier's
news (its callback or our polling) moves a parcel and its order.

Booking calls the courier outside any lock, then ships the order through the same
`fulfilment.mark_shipped` as a seller who enters courier and tracking number by hand.
`apply_tracking` locks the parcel row, stores each tracking event once (by its sequence number)
and applies only events newer than the last one applied: a repeated or late callback, or a poll
racing a callback, changes nothing twice.
"""

import logging
from decimal import Decimal

from django.conf import settings
from django.db import transaction
from django.utils.translation import gettext as _

from marketplace.couriers import ParcelRequest, Tracking, get_courier
from marketplace.exceptions import CourierError, OrderActionRefused
from marketplace.models import Order, OrderEvent, Parcel, ParcelEvent, User
from marketplace.money import quantize
from marketplace.services import cod, fulfilment, ledger
from marketplace.services.cancellation import restock
from marketplace.services.orders import record_event

log = logging.getLogger(__name__)
ZERO = Decimal("0.00")


def booking_enabled() -> bool:
    return bool(settings.COURIER_API_BASE)


def cod_amount_for(order: Order) -> Decimal:
    """What the courier must collect: the order's total when cash on delivery, else nothing."""
    return order.total if order.is_cod else ZERO


def book_parcel(
    *, order: Order, by: User, weight_kg: Decimal, pieces: int, cod_amount: Decimal
) -> Parcel:
    """The seller books a parcel for a paid (or confirmed COD) order and the order ships."""
    if not booking_enabled():
        raise OrderActionRefused(
            _(
                "Booking a courier from the site is not set up: enter the courier and tracking number."
            ),
            code="courier_off",
        )
    order = Order.objects.select_related("buyer", "checkout").get(pk=order.pk)
    if not order.can_ship(by):
        raise fulfilment.cannot_ship(order, by)
    if Parcel.objects.filter(order=order).exists():
        raise OrderActionRefused(_("A parcel is already booked for this order."), code="booked")
    if not order.has_shipping_address:
        raise OrderActionRefused(_("This order has no delivery address."), code="no_address")
    if quantize(cod_amount) != cod_amount_for(order):
        raise OrderActionRefused(
            _("The cash to collect must be %(amount)s for this order.")
            % {"amount": cod_amount_for(order)},
            code="cod_amount",
        )
    key = settings.COURIER_PROVIDER
    courier = get_courier(key)
    address = ", ".join(part for part in (order.ship_line1, order.ship_line2) if part)
    tracking_number = courier.book(
        ParcelRequest(
            order_reference=order.number,
            cod_amount=cod_amount_for(order),
            weight_kg=weight_kg,
            pieces=pieces,
            name=order.ship_name,
            phone=order.ship_phone,
            address=address,
            city=order.ship_city,
            description=", ".join(item.title for item in order.items.all())[:200],
        )
    )
    try:
        with transaction.atomic():
            order = fulfilment.mark_shipped(
                order=order, by=by, courier=courier.name, tracking_number=tracking_number
            )
            return Parcel.objects.create(
                order=order,
                courier=key,
                tracking_number=tracking_number,
                weight_kg=weight_kg,
                pieces=pieces,
                cod_amount=cod_amount_for(order),
                booked_by=by,
            )
    except Exception:
        # Booked at the courier but not shipped here (the order changed meanwhile): staff
        # cancel it at the courier by this number.
        log.error("parcel %s booked for order %s was not recorded", tracking_number, order.number)
        raise


def apply_tracking(*, courier_key: str, tracking: Tracking) -> Parcel | None:
    """Store the courier's news about a parcel and move its order; None for an unknown parcel."""
    with transaction.atomic():
        parcel = (
            Parcel.objects.select_for_update()
            .filter(courier=courier_key, tracking_number=tracking.tracking_number)
            .first()
        )
        if parcel is None:
            log.warning("tracking for unknown parcel %s %s", courier_key, tracking.tracking_number)
            return None
        new = [event for event in tracking.events if event.sequence > parcel.last_sequence]
        if not new:
            return parcel
        order = Order.objects.select_for_update().select_related("checkout").get(pk=parcel.order_id)
        for event in new:
            ParcelEvent.objects.create(
                parcel=parcel,
                sequence=event.sequence,
                status=event.status,
                courier_status=event.courier_status,
                happened_at=event.at,
            )
            if event.status and parcel.status not in Parcel.FINAL:
                parcel.status = event.status
                _move_order(parcel, order, tracking, note=event.courier_status)
        parcel.last_sequence = new[-1].sequence
        parcel.updated_at = new[-1].at
        parcel.save(update_fields=["status", "last_sequence", "updated_at"])
        return parcel


def _move_order(parcel: Parcel, order: Order, tracking: Tracking, *, note: str) -> None:
    if parcel.status == Parcel.Status.DELIVERED and order.status == Order.Status.SHIPPED:
        fulfilment.deliver_by_courier(order=order, note=note)
    elif parcel.status == Parcel.Status.RETURNED:
        _returned_to_seller(parcel, order, tracking, note=note)


def _returned_to_seller(parcel: Parcel, order: Order, tracking: Tracking, *, note: str) -> None:
    """RTO: the order ends "returned", its stock is back on sale, the seller bears the courier's
    charges, and a refused cash-on-delivery parcel counts against the buyer."""
    if order.status == Order.Status.SHIPPED:
        order.transition_to(Order.Status.RETURNED)
        order.save(update_fields=["status"])
        record_event(order=order, kind=OrderEvent.Kind.RETURNED, note=note)
        restock(order)
        if order.is_cod:
            # Counted against the buyer (once per order); at COD_REFUSAL_LIMIT they can no
            # longer choose cash on delivery. The event shows it on the order's timeline.
            if cod.record_cod_refusal(order) is not None:
                record_event(order=order, kind=OrderEvent.Kind.COD_REFUSED)
    record_courier_charges(
        parcel=parcel, delivery=tracking.delivery_charge, returned=tracking.return_charge
    )


def courier_charge_key(parcel: Parcel, what: str) -> str:
    """The ledger key of a parcel's courier charge ("delivery" or "return"), shared by the
    tracking path and the remittance, so whichever comes first records it."""
    return f"parcel:{parcel.pk}:{what}"


def record_courier_charges(*, parcel: Parcel, delivery: Decimal, returned: Decimal) -> None:
    for what, amount, reason in (
        ("delivery", delivery, "Courier's delivery charge"),
        ("return", returned, "Courier's return charge"),
    ):
        if amount > 0:
            ledger.record_courier_charge(
                order=parcel.order,
                amount=amount,
                key=courier_charge_key(parcel, what),
                reason=reason,
            )


def handle_callback(*, courier_key: str, body: bytes, headers) -> Parcel | None:
    """The courier's status callback (signature checked by its adapter)."""
    tracking = get_courier(courier_key).parse_callback(body, headers)
    return apply_tracking(courier_key=courier_key, tracking=tracking)


def poll_open_parcels() -> int:
    """The job: ask the courier about every parcel still on its way; returns how many moved."""
    moved = 0
    for parcel in Parcel.objects.open().only("pk", "courier", "tracking_number", "last_sequence"):
        try:
            tracking = get_courier(parcel.courier).track(parcel.tracking_number)
        except CourierError as error:
            log.warning("tracking %s failed: %s", parcel.tracking_number, error.detail or error)
            continue
        after = apply_tracking(courier_key=parcel.courier, tracking=tracking)
        moved += after is not None and after.last_sequence != parcel.last_sequence
    return moved


def tracking_url(parcel: Parcel) -> str:
    return get_courier(parcel.courier).tracking_url(parcel.tracking_number)
