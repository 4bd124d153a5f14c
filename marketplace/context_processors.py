from django.http import HttpRequest


def unread_counts(user) -> dict[str, int]:
    """Unread messages (and, with notifications, unread notices) of a signed-in user."""
    from marketplace.services.messaging import unread_count

    return {"unread_messages": unread_count(user)}


def navigation(request: HttpRequest) -> dict:
    """Counts shown in the navigation bar (cart items, unread messages) for the signed-in user."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {"cart_count": 0, "unread_messages": 0}
    return {"cart_count": user.cart_items.count(), **unread_counts(user)}
