# --- Payments: payments, refunds, seller transfers, webhook events, accounts, violations ---------
from django import forms
from django.contrib import admin, messages
from django.contrib.admin.helpers import ActionForm
from django.db.models import Q
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from marketplace.exceptions import MarketplaceError
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
from marketplace.services import manual_refunds, transfers
from marketplace.services.manual_refunds import REFERENCE_MAX_LENGTH


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


class RefundActionForm(ActionForm):
    reference = forms.CharField(
        label=_("Transfer reference"), required=False, max_length=REFERENCE_MAX_LENGTH
    )
    reason = forms.CharField(label=_("Why it failed"), required=False, max_length=300)


def _mark_each(modeladmin, request, queryset, mark, **kwargs) -> None:
    done = 0
    for refund in queryset:
        try:
            mark(refund=refund, by=request.user, **kwargs)
        except MarketplaceError as error:
            modeladmin.message_user(
                request, f"{refund.idempotency_key}: {error.message}", messages.ERROR
            )
        else:
            done += 1
    if done:
        modeladmin.message_user(
            request, gettext("%(count)d refund(s) marked.") % {"count": done}, messages.SUCCESS
        )


@admin.action(
    description=_("Mark sent by hand (with the transfer reference above)"), permissions=["pay"]
)
def mark_refunds_sent(modeladmin, request, queryset) -> None:
    reference = request.POST.get("reference", "")
    _mark_each(modeladmin, request, queryset, manual_refunds.mark_refund_sent, reference=reference)


@admin.action(description=_("Mark failed (with the reason above)"), permissions=["pay"])
def mark_refunds_failed(modeladmin, request, queryset) -> None:
    reason = request.POST.get("reason", "")
    _mark_each(modeladmin, request, queryset, manual_refunds.mark_refund_failed, reason=reason)


class ManualRefundFilter(admin.SimpleListFilter):
    """Refunds staff send by hand, by what they wait for."""

    title = _("sent by hand")
    parameter_name = "by_hand"

    def lookups(self, request, model_admin):
        return [
            ("to_send", _("To send (account given)")),
            ("account", _("Waiting for the buyer's account")),
            ("all", _("Any state")),
        ]

    def queryset(self, request, queryset):
        manual = queryset.filter(provider=Refund.MANUAL)
        if self.value() == "to_send":
            return manual.filter(status=Refund.Status.PENDING).exclude(payee_kind="")
        if self.value() == "account":
            return manual.filter(
                Q(status=Refund.Status.FAILED) | Q(status=Refund.Status.PENDING, payee_kind="")
            )
        if self.value() == "all":
            return manual
        return queryset


@admin.register(Refund)
class RefundAdmin(ReadOnlyAdmin):
    list_display = [
        "idempotency_key",
        "order",
        "provider",
        "amount",
        "status",
        "payee_kind",
        "payee_account",
        "payee_title",
        "created_at",
    ]
    list_filter = [ManualRefundFilter, "status", "provider"]
    search_fields = [
        "idempotency_key",
        "stripe_refund_id",
        "order__number",
        "payee_iban",
        "payee_wallet",
    ]
    list_select_related = ["order"]
    action_form = RefundActionForm
    actions = [mark_refunds_sent, mark_refunds_failed]

    @admin.display(description=_("account"))
    def payee_account(self, obj: Refund) -> str:
        # Staff send the money here: the whole number, not the masked one buyers see.
        return obj.payee_account or "-"

    def has_pay_permission(self, request) -> bool:
        return request.user.has_perm("marketplace.change_refund")


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
