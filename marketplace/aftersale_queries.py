"""Read builders of the after-sale pages: order timelines, conversations, ratings, reviews.

Kept apart from queries.py (browse, cards, auctions) so neither grows past a readable size.
"""

from dataclasses import dataclass
from datetime import datetime

from django.db.models import Avg, Count, F, Max, OuterRef, Q, QuerySet, Subquery
from django.utils.translation import gettext

from marketplace.models import (
    Conversation,
    Feedback,
    Message,
    Order,
    OrderEvent,
    OrderItem,
    ProductReview,
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
    }:
        entries.append(
            TimelineEntry(
                OrderEvent.Kind.DELIVERED, OrderEvent.Kind.DELIVERED.label, order.delivered_at
            )
        )
    entries.sort(key=lambda entry: entry.at)
    return entries


def reviewable_items(order: Order, user: User) -> list[OrderItem]:
    """Fixed-price items of a delivered order that `user` bought and has not reviewed yet."""
    if order.buyer_id != user.pk or order.status != Order.Status.DELIVERED:
        return []
    reviewed = ProductReview.objects.filter(buyer=user).values("product_id")
    return list(
        order.items.filter(product__isnull=False, product__fixed_price__isnull=False)
        .exclude(product_id__in=reviewed)
        .select_related("product")
        .order_by("pk")
    )


def conversations_for(user: User) -> QuerySet[Conversation]:
    """The user's conversations, newest message first, with unread counts and the last line."""
    last_body = Message.objects.filter(conversation=OuterRef("pk")).order_by("-created_at", "-pk")
    return (
        Conversation.objects.for_user(user)
        .select_related("buyer__seller_profile", "seller__seller_profile", "product", "order")
        .annotate(
            unread=Count(
                "messages", filter=Q(messages__read_at__isnull=True) & ~Q(messages__sender=user)
            ),
            last_body=Subquery(last_body.values("body")[:1]),
            last_sender_id=Subquery(last_body.values("sender_id")[:1]),
        )
        .order_by(F("last_message_at").desc(nulls_last=True), "-pk")
    )


@dataclass
class SellerRating:
    average: float | None
    communication: float | None
    shipping_speed: float | None
    as_described_percent: int | None
    count: int


def seller_rating(seller: User) -> SellerRating:
    """Averages over every feedback the seller has received."""
    row = Feedback.objects.filter(seller=seller).aggregate(
        average=Avg("seller_rating"),
        communication=Avg("communication"),
        shipping_speed=Avg("shipping_speed"),
        described=Count("pk", filter=Q(item_as_described=True)),
        count=Count("pk"),
    )
    count = row["count"]
    return SellerRating(
        average=row["average"],
        communication=row["communication"],
        shipping_speed=row["shipping_speed"],
        as_described_percent=round(100 * row["described"] / count) if count else None,
        count=count,
    )


def recent_feedback(seller: User, limit: int = 10) -> QuerySet[Feedback]:
    return (
        Feedback.objects.filter(seller=seller)
        .select_related("buyer", "order")
        .order_by("-created_at", "-pk")[:limit]
    )


def with_seller_rating(queryset: QuerySet, seller_field: str = "seller") -> QuerySet:
    """Annotate `seller_rating_avg` and `seller_rating_count` on rows that have a seller FK."""
    ratings = Feedback.objects.filter(seller=OuterRef(seller_field)).values("seller")
    return queryset.annotate(
        seller_rating_avg=Subquery(ratings.annotate(a=Avg("seller_rating")).values("a")[:1]),
        seller_rating_count=Subquery(ratings.annotate(c=Count("pk")).values("c")[:1]),
    )


def product_reviews(product) -> QuerySet[ProductReview]:
    return (
        ProductReview.objects.filter(product=product)
        .select_related("buyer")
        .order_by("-created_at", "-pk")
    )


def review_summary(product) -> dict:
    return ProductReview.objects.filter(product=product).aggregate(
        average=Avg("rating"), count=Count("pk"), latest=Max("created_at")
    )
