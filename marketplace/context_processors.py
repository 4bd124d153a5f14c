from django.db.models import Count, IntegerField, OuterRef, QuerySet, Subquery, Value
from django.db.models.functions import Coalesce
from django.http import HttpRequest


def _count(queryset: QuerySet) -> Coalesce:
    """COUNT(*) of `queryset` as a scalar subquery (grouped on a constant: one row)."""
    counted = (
        queryset.order_by().annotate(one=Value(1)).values("one").annotate(n=Count("*")).values("n")
    )
    return Coalesce(Subquery(counted[:1], output_field=IntegerField()), 0)


_COUNTS = ("cart_count", "unread_messages", "unread_notifications")


def _counts_query(user_id: int) -> QuerySet:
    from marketplace.models import CartItem, Message, Notification, User

    me = OuterRef("pk")
    return (
        User.objects.filter(pk=user_id)
        .annotate(
            cart_count=_count(CartItem.objects.filter(user=me)),
            unread_messages=_count(Message.objects.unread_by(me)),
            unread_notifications=_count(Notification.objects.filter(user=me, read_at__isnull=True)),
        )
        .values_list(*_COUNTS)
    )


def navigation_counts(user) -> dict[str, int]:
    """Cart items, unread messages and unread notifications of a user, in one query (built
    once per process: three correlated subqueries took the ORM about fifty times as long to
    build as the database to run)."""
    from marketplace.models import User
    from marketplace.queries.prepared import first_row

    row = first_row("navigation-counts", User, _counts_query, user.pk)
    return dict(zip(_COUNTS, row or (0, 0, 0), strict=True))


def navigation(request: HttpRequest) -> dict:
    """Counts shown in the navigation bar for the signed-in user (one query)."""
    user = getattr(request, "user", None)
    # The shared copy for signed-in visitors has the navigation as a hole (personal.py).
    if user is None or not user.is_authenticated or getattr(request, "personal_holes", None):
        return {"cart_count": 0, "unread_messages": 0, "unread_notifications": 0}
    return navigation_counts(user)
