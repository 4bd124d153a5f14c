from django.http import HttpRequest


def navigation(request: HttpRequest) -> dict:
    """Counts shown in the navigation bar (cart items) for the signed-in user."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {"cart_count": 0}
    return {"cart_count": user.cart_items.count()}
