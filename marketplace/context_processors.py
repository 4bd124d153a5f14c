from django.db.models import Count, IntegerField, OuterRef, QuerySet, Subquery, Value
from django.db.models.functions import Coalesce
from django.http import HttpRequest


def _count(queryset: QuerySet) -> Coalesce:
    """COUNT(*) of `queryset` as a scalar subquery (grouped on a constant: one row)."""
    counted = (
        queryset.order_by().annotate(one=Value(1)).values("one").annotate(n=Count("pk")).values("n")
    )
    return Coalesce(Subquery(counted[:1], output_field=IntegerField()), 0)


def navigation_counts(user) -> dict[str, int]:
    """Cart items, unread messages and unread notifications of a user, in one query."""
    from marketplace.models import CartItem, Message, Notification, User

    me = OuterRef("pk")
    row = (
        User.objects.filter(pk=user.pk)
        .annotate(
            cart_count=_count(CartItem.objects.filter(user=me)),
            unread_messages=_count(Message.objects.unread_by(me)),
            unread_notifications=_count(Notification.objects.filter(user=me, read_at__isnull=True)),
        )
        .values("cart_count", "unread_messages", "unread_notifications")
        .first()
    )
    return row or {"cart_count": 0, "unread_messages": 0, "unread_notifications": 0}


def navigation(request: HttpRequest) -> dict:
    """Counts shown in the navigation bar for the signed-in user (one query)."""
    user = getattr(request, "user", None)
    # The shared copy for signed-in visitors has the navigation as a hole (personal.py).
    if user is None or not user.is_authenticated or getattr(request, "personal_holes", None):
        return {"cart_count": 0, "unread_messages": 0, "unread_notifications": 0}
    return navigation_counts(user)
