# --- Payments: payments, refunds, seller transfers, webhook events, accounts, violations ---------
from django.contrib import admin, messages
from django.utils.translation import gettext_lazy as _

from marketplace.models import (
    CodRefusal,
    ConnectedAccount,
    Payment,
    PaymentAttempt,
    PaymentViolation,
    Refund,
    SecondChanceOffer,
    SellerTransfer,
    StripeEvent,
)
from marketplace.services import transfers


class ReadOnlyAdmin(admin.ModelAdmin):
    """Money records are history: staff look, and act only through the actions."""

    def has_add_permission(self, request, obj=None) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


class SellerTransferInline(admin.TabularInline):
    model = SellerTransfer
    fields = ["order", "amount", "fee", "status", "stripe_transfer_id", "attempts", "last_error"]
    readonly_fields = fields
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None) -> bool:
        return False


class RefundInline(admin.TabularInline):
    model = Refund
    fields = ["order", "amount", "status", "stripe_refund_id", "reason", "last_error"]
    readonly_fields = fields
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None) -> bool:
        return False


@admin.register(Payment)
class PaymentAdmin(ReadOnlyAdmin):
    list_display = [
        "checkout",
        "amount",
        "platform_fee",
        "refunded_amount",
        "status",
        "created_at",
    ]
    list_filter = ["status", "created_at"]
    search_fields = ["session_id", "payment_intent_id", "charge_id", "checkout__number"]
    list_select_related = ["checkout"]
    date_hierarchy = "created_at"
    inlines = [SellerTransferInline, RefundInline]


@admin.action(description=_("Retry now"), permissions=["retry"])
def retry_transfers(modeladmin, request, queryset) -> None:
    counts = transfers.send_pending_transfers(only=queryset.values_list("pk", flat=True))
    modeladmin.message_user(
        request,
        _("%(sent)d transfer(s) sent, %(failed)d failed.") % counts,
        messages.SUCCESS if not counts["failed"] else messages.WARNING,
    )


@admin.register(SellerTransfer)
class SellerTransferAdmin(ReadOnlyAdmin):
    list_display = [
        "idempotency_key",
        "order",
        "amount",
        "fee",
        "status",
        "attempts",
        "last_error",
        "sent_at",
    ]
    list_filter = ["status", "created_at"]
    search_fields = [
        "idempotency_key",
        "stripe_transfer_id",
        "order__number",
        "order__seller__username",
    ]
    list_select_related = ["order"]
    actions = [retry_transfers]

    def has_retry_permission(self, request) -> bool:
        # Sending money is more than looking: the model's change permission (read-only here).
        return request.user.has_perm("marketplace.change_sellertransfer")


@admin.register(Refund)
class RefundAdmin(ReadOnlyAdmin):
    list_display = [
        "idempotency_key",
        "payment",
        "order",
        "amount",
        "status",
        "attempts",
        "created_at",
    ]
    list_filter = ["status"]
    search_fields = ["idempotency_key", "stripe_refund_id", "order__number"]


@admin.register(StripeEvent)
class StripeEventAdmin(ReadOnlyAdmin):
    list_display = ["event_id", "type", "received_at", "processed_at"]
    list_filter = ["type", "received_at"]
    search_fields = ["event_id"]


@admin.register(PaymentAttempt)
class PaymentAttemptAdmin(ReadOnlyAdmin):
    list_display = [
        "checkout",
        "number",
        "provider",
        "session_id",
        "amount",
        "status",
        "response_code",
        "created_at",
    ]
    list_filter = ["status", "provider"]
    search_fields = ["checkout__number", "session_id"]


@admin.register(ConnectedAccount)
class ConnectedAccountAdmin(ReadOnlyAdmin):
    list_display = [
        "user",
        "stripe_account_id",
        "payouts_enabled",
        "transfers_active",
        "details_submitted",
        "updated_at",
    ]
    list_filter = ["payouts_enabled", "transfers_active", "details_submitted"]
    search_fields = ["user__username", "user__email", "stripe_account_id"]


@admin.register(PaymentViolation)
class PaymentViolationAdmin(ReadOnlyAdmin):
    list_display = ["buyer", "order", "created_at"]
    search_fields = ["buyer__username", "buyer__email", "order__number"]
    list_select_related = ["buyer", "order"]


@admin.register(CodRefusal)
class CodRefusalAdmin(ReadOnlyAdmin):
    """Refused cash-on-delivery parcels; staff clear them with the user action "Allow cash on
    delivery again"."""

    list_display = ["buyer", "order", "created_at", "cleared_at"]
    list_filter = [("cleared_at", admin.EmptyFieldListFilter)]
    search_fields = ["buyer__username", "buyer__email", "order__number"]
    list_select_related = ["buyer", "order"]


@admin.register(SecondChanceOffer)
class SecondChanceOfferAdmin(ReadOnlyAdmin):
    list_display = ["auction", "bidder", "amount", "status", "expires_at", "order"]
    list_filter = ["status"]
    search_fields = ["bidder__username", "unpaid_order__number"]
