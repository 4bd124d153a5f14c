"""Orders brought to a state (paid, shipped, delivered) through the real services."""

from django.db import transaction

from marketplace import models
from marketplace.services import fulfilment
from marketplace.services.orders import record_event
from marketplace.tests.factories.orders import listing_by, order_for


def paid_order(seller, buyer, **listing) -> models.Order:
    """A one-item fixed-price order, paid (payment is the payments flow's job: set it here)."""
    order = order_for(buyer, listing_by(seller, **listing))
    with transaction.atomic():
        order.transition_to(models.Order.Status.PAID)
        order.save(update_fields=["status", "paid_at"])
        record_event(order=order, kind=models.OrderEvent.Kind.PAID)
    return order


def shipped_order(seller, buyer, **listing) -> models.Order:
    order = paid_order(seller, buyer, **listing)
    return fulfilment.mark_shipped(
        order=order, by=seller, courier="TCS", tracking_number="TCS-123456"
    )


def delivered_order(seller, buyer, **listing) -> models.Order:
    order = shipped_order(seller, buyer, **listing)
    return fulfilment.confirm_delivery(order=order, by=buyer)
