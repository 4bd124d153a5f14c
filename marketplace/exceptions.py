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


class PaymentProviderError(MarketplaceError):
    """The payment provider refused or could not complete a request.

    `message` is safe to show; `detail` (the provider's own words) is for logs and staff;
    `retryable` says whether the same request (same idempotency key) may succeed later.
    """

    code = "payment_provider_error"

    def __init__(
        self,
        message: str,
        *,
        detail: str = "",
        provider_code: str | None = None,
        http_status: int | None = None,
        retryable: bool = False,
    ) -> None:
        super().__init__(message)
        self.detail = detail
        self.provider_code = provider_code
        self.http_status = http_status
        self.retryable = retryable


class WebhookRejected(MarketplaceError):
    """A webhook whose signature is missing, wrong or stale, or whose body is not an event."""

    code = "webhook_rejected"


class OrderActionRefused(MarketplaceError):
    """Shipping, delivery or cancelling refused: wrong party or wrong state."""

    code = "order_action_refused"


class MessageRejected(MarketplaceError):
    code = "message_rejected"


class FeedbackRejected(MarketplaceError):
    code = "feedback_rejected"


class ComplaintRejected(MarketplaceError):
    code = "complaint_rejected"


class PaymentRejected(MarketplaceError):
    """A payment cannot start or an offer cannot be taken (nothing due, deadline passed, ...)."""

    code = "payment_rejected"


class LedgerError(MarketplaceError):
    """A ledger or payout step refused: nothing to reverse, wrong line state, bad amount."""

    code = "ledger_error"


class LedgerEntryImmutable(LedgerError):
    """Ledger entries are history: never updated or deleted (a correction is a new entry)."""

    code = "ledger_immutable"


class ReturnActionRefused(MarketplaceError):
    """Asking for, answering or deciding a return refused: wrong party or wrong state."""

    code = "return_refused"


class CourierError(MarketplaceError):
    """The courier refused or could not be reached; `detail` (its own words) is for logs."""

    code = "courier_error"

    def __init__(self, message: str, *, detail: str = "", retryable: bool = False) -> None:
        super().__init__(message)
        self.detail = detail
        self.retryable = retryable
