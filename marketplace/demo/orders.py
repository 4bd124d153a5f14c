"""Demo orders for `load_demo --orders`: orders at every step, feedback, a review, messages
and a complaint, so shop ratings, timelines and the inbox have something to show.

Idempotent: does nothing once the demo buyer has left feedback. The demo orders are marked
paid directly (no payment is made): demo data only, never for a real site.
"""

from collections.abc import Callable

from django.db import transaction

from marketplace.models import Feedback, FixedPriceListing, Order, OrderEvent, User
from marketplace.services import complaints, feedback, fulfilment, messaging
from marketplace.services.orders import place_checkout, record_event

COMMENTS = [
    (5, "Beautiful glaze, packed in a wooden crate. Shukriya!"),
    (4, "Lovely colours; the courier took a week."),
]


def load_demo_orders(*, out: Callable[[str], None], err: Callable[[str], None]) -> None:
    """Create the demo orders on top of load_demo's users and listings; report through out/err."""
    buyer = User.objects.filter(username="bilal").first()
    if buyer is None:
        err("Run `manage.py load_demo` first.")
        return
    if Feedback.objects.filter(buyer=buyer).exists():
        out("Demo orders are already there.")
        return
    address = buyer.addresses.first()
    if address is None:
        from marketplace.models import Address, City

        address = Address.objects.create(
            user=buyer,
            full_name="Bilal Ahmed",
            phone="+923001234567",
            line1="12 Mall Road",
            city=City.objects.get(name="Lahore"),
            postal_code="54000",
            is_default=True,
        )
    listings = list(
        FixedPriceListing.objects.filter(status="active", quantity__gte=2)
        .exclude(product__seller=buyer)
        .select_related("product__seller")
        .order_by("pk")[:4]
    )
    if len(listings) < 4:
        err("Not enough demo listings: run `manage.py load_demo` first.")
        return
    with transaction.atomic():
        orders = [_paid_order(buyer, listing, address) for listing in listings]
        delivered, rated, shipped, paid = orders
        for order in (delivered, rated, shipped):
            fulfilment.mark_shipped(
                order=order,
                by=order.seller,
                courier="TCS",
                tracking_number=f"TCS-{order.pk:06d}",
            )
        for order in (delivered, rated):
            fulfilment.confirm_delivery(order=order, by=buyer)
        for order, (score, comment) in zip((delivered, rated), COMMENTS, strict=True):
            feedback.leave_feedback(
                order=order,
                by=buyer,
                seller_rating=score,
                communication=5,
                shipping_speed=score,
                item_as_described=True,
                platform_rating=5,
                comment=comment,
            )
        feedback.leave_review(
            product=delivered.items.get().product,
            by=buyer,
            rating=5,
            title="Even better in person",
            text="The blue is deep and the finish is smooth. It arrived without a scratch.",
        )
        thread = messaging.start_conversation(user=buyer, order=paid)
        messaging.send_message(
            conversation=thread, sender=buyer, body="Salaam! When will my order ship?"
        )
        messaging.send_message(
            conversation=thread, sender=paid.seller, body="Walaikum salaam, tomorrow morning."
        )
        complaints.file_complaint(
            user=buyer,
            category="shipping",
            subject="Tracking number does not work",
            description="The courier's site says the number is unknown.",
            order=shipped,
        )
    out("Demo orders, feedback, messages and a complaint created.")


def _paid_order(buyer: User, listing: FixedPriceListing, address) -> Order:
    order = place_checkout(buyer=buyer, lines=[(listing, 1)], address=address).orders.get()
    order.transition_to(Order.Status.PAID)
    order.save(update_fields=["status", "paid_at"])
    record_event(order=order, kind=OrderEvent.Kind.PAID)
    return order
