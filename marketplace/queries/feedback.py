"""Read builders of feedback and reviews: seller ratings, recent feedback, product reviews."""

from dataclasses import dataclass

from django.db.models import Avg, Count, Max, OuterRef, Q, QuerySet, Subquery

from marketplace.models import (
    Feedback,
    Order,
    OrderItem,
    ProductReview,
    User,
)


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
        # The buyer's public name reads their shop profile (a buyer may also sell).
        .select_related("buyer__seller_profile", "order")
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
        .select_related("buyer__seller_profile")
        .order_by("-created_at", "-pk")
    )


def review_summary(product) -> dict:
    return ProductReview.objects.filter(product=product).aggregate(
        average=Avg("rating"), count=Count("pk"), latest=Max("created_at")
    )
