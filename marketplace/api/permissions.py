"""Who may call what: the same checks as the HTML views' decorators."""

from django.utils.translation import gettext_lazy as _
from rest_framework import permissions


class IsSeller(permissions.BasePermission):
    """Logged-in sellers only, like `views.decorators.seller_required` (403 for buyers)."""

    message = _("Only sellers can do this. Open a shop first.")
    code = "not_seller"

    def has_permission(self, request, view) -> bool:
        user = request.user
        if not (user and user.is_authenticated):
            return False
        return bool(user.is_seller)


class IsSellerOrReadOnly(IsSeller):
    """Anyone may read; only sellers may create (the seed's "Create ... (seller only)")."""

    def has_permission(self, request, view) -> bool:
        if request.method in permissions.SAFE_METHODS:
            return True
        return super().has_permission(request, view)
