"""Business errors raised by services: each carries a user-readable, translatable message."""

from django.utils.translation import gettext as _


class MarketplaceError(Exception):
    """Base class: `message` is safe to show to the user; `code` is stable for clients."""

    code = "error"

    def __init__(self, message: str, *, code: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        if code:
            self.code = code

    def __str__(self) -> str:
        return str(self.message)


class AccountError(MarketplaceError):
    code = "account_error"


class ShopNameTaken(AccountError):
    code = "shop_name_taken"


class BidRejected(MarketplaceError):
    code = "bid_rejected"


class PurchaseRejected(MarketplaceError):
    code = "purchase_rejected"


class OutOfStock(PurchaseRejected):
    code = "out_of_stock"


class ListingError(MarketplaceError):
    code = "listing_error"


class InvalidOrderTransition(MarketplaceError):
    code = "invalid_transition"

    def __init__(self, order, status: str) -> None:
        super().__init__(
            _("Order %(number)s cannot go from “%(current)s” to “%(new)s”.")
            % {
                "number": order.number,
                "current": order.get_status_display(),
                "new": order.Status(status).label,
            }
        )
        self.order = order
        self.status = status
