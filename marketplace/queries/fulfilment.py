"""The order page's timeline: recorded events, with older steps filled in from timestamps."""

from dataclasses import dataclass
from datetime import datetime

from django.utils.translation import gettext

from marketplace.models import (
    Order,
    OrderEvent,
    User,
)


@dataclass
class TimelineEntry:
    kind: str
    label: str
    at: datetime
    actor: User | None = None
    note: str = ""


def order_timeline(order: Order) -> list[TimelineEntry]:
    """The order's events, oldest first; steps recorded before events existed (or by code
    that does not record them) are filled in from the order's own timestamps."""
    entries = [
        TimelineEntry(
            event.kind,
            event.get_kind_display(),
            event.created_at,
            event.actor,
            # Notes the site wrote are stored in English and have a translation; a person's
            # own words have none and show as typed.
            gettext(event.note) if event.note else "",
        )
        for event in OrderEvent.objects.filter(order=order).select_related("actor__seller_profile")
    ]
    seen = {entry.kind for entry in entries}
    stamps = [
        (OrderEvent.Kind.PLACED, order.created_at, order.buyer if order.buyer_id else None),
        (OrderEvent.Kind.PAID, order.paid_at, None),
        (OrderEvent.Kind.SHIPPED, order.shipped_at, None),
        (OrderEvent.Kind.CANCELLED, order.cancelled_at, None),
    ]
    for kind, at, actor in stamps:
        if at and kind not in seen:
            entries.append(TimelineEntry(kind, OrderEvent.Kind(kind).label, at, actor))
    if order.delivered_at and not seen & {
        OrderEvent.Kind.DELIVERED,
        OrderEvent.Kind.AUTO_DELIVERED,
        OrderEvent.Kind.COURIER_DELIVERED,
    }:
        entries.append(
            TimelineEntry(
                OrderEvent.Kind.DELIVERED, OrderEvent.Kind.DELIVERED.label, order.delivered_at
            )
        )
    entries.sort(key=lambda entry: entry.at)
    return entries
