from django.db import connections, router
from django.db.models import Count, IntegerField, OuterRef, QuerySet, Subquery, Value
from django.db.models.functions import Coalesce
from django.http import HttpRequest


def _count(queryset: QuerySet) -> Coalesce:
    """COUNT(*) of `queryset` as a scalar subquery (grouped on a constant: one row)."""
    counted = (
        queryset.order_by().annotate(one=Value(1)).values("one").annotate(n=Count("pk")).values("n")
    )
    return Coalesce(Subquery(counted[:1], output_field=IntegerField()), 0)


# Building the counts' statement (three correlated subqueries) took the ORM about fifty times
# as long as running it: it is built once per process and database, for a stand-in id that is
# replaced by the user's own.
_ANY_USER = 987_654_321_987_656
_COUNTS = ("cart_count", "unread_messages", "unread_notifications")
_compiled: dict[tuple[str, str], tuple[str, tuple]] = {}


def _counts_query(user_id) -> QuerySet:
    from marketplace.models import CartItem, Message, Notification, User

    me = OuterRef("pk")
    return (
        User.objects.filter(pk=user_id)
        .annotate(
            cart_count=_count(CartItem.objects.filter(user=me)),
            unread_messages=_count(Message.objects.unread_by(me)),
            unread_notifications=_count(Notification.objects.filter(user=me, read_at__isnull=True)),
        )
        .values(*_COUNTS)[:1]
    )


def navigation_counts(user) -> dict[str, int]:
    """Cart items, unread messages and unread notifications of a user, in one query."""
    from marketplace.models import User

    alias = router.db_for_read(User)
    connection = connections[alias]
    compiled = _compiled.get((alias, connection.vendor))
    if compiled is None:
        query = _counts_query(_ANY_USER).using(alias).query
        compiled = _compiled[alias, connection.vendor] = query.sql_with_params()
        assert compiled[1].count(_ANY_USER) == 1, compiled  # only the user's id is replaced
    sql, params = compiled
    with connection.cursor() as cursor:
        cursor.execute(sql, [user.pk if param == _ANY_USER else param for param in params])
        row = cursor.fetchone()
    return dict(zip(_COUNTS, row or (0, 0, 0), strict=True))


def navigation(request: HttpRequest) -> dict:
    """Counts shown in the navigation bar for the signed-in user (one query)."""
    user = getattr(request, "user", None)
    # The shared copy for signed-in visitors has the navigation as a hole (personal.py).
    if user is None or not user.is_authenticated or getattr(request, "personal_holes", None):
        return {"cart_count": 0, "unread_messages": 0, "unread_notifications": 0}
    return navigation_counts(user)
