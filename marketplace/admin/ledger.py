# --- Seller ledger (issue 14): entries, payout methods, payout batches and lines, mismatches ----
import csv
import uuid

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.helpers import ActionForm
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_POST

from marketplace.admin.payments import ReadOnlyAdmin
from marketplace.exceptions import MarketplaceError
from marketplace.models import LedgerEntry, LedgerMismatch, Payout, PayoutBatch, PayoutMethod
from marketplace.services import ledger, payout_batches
from marketplace.validators import PK_BANK_CODES

# Lines a bank's bulk transfer (IBFT or Raast) can pay; Stripe lines are sent as Transfers.
BANK_FILE_KINDS = [
    PayoutMethod.Kind.BANK,
    PayoutMethod.Kind.JAZZCASH,
    PayoutMethod.Kind.EASYPAISA,
]


class AdjustmentForm(forms.ModelForm):
    """The one entry staff write by hand: an adjustment of a seller's available balance."""

    class Meta:
        model = LedgerEntry
        fields = ["seller", "available", "reason"]
        labels = {"available": _("amount (Rs, negative to take)")}

    def clean_reason(self) -> str:
        reason = self.cleaned_data["reason"].strip()
        if not reason:
            raise forms.ValidationError(_("Say why the balance is adjusted."))
        return reason


@admin.register(LedgerEntry)
class LedgerEntryAdmin(admin.ModelAdmin):
    """History: staff look, and add only adjustments (through the ledger service)."""

    list_display = ["created_at", "seller", "kind", "pending", "available", "paid_out", "order"]
    list_filter = ["kind", "created_at"]
    search_fields = ["seller__username", "order__number", "key", "reason"]
    list_select_related = ["seller", "order"]
    date_hierarchy = "created_at"
    raw_id_fields = ["seller"]

    def get_form(self, request, obj=None, **kwargs):
        if obj is None:
            kwargs["form"] = AdjustmentForm
        return super().get_form(request, obj, **kwargs)

    def get_fields(self, request, obj=None):
        if obj is None:
            return ["seller", "available", "reason"]
        return super().get_fields(request, obj)

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False

    def save_model(self, request, obj, form, change) -> None:
        entry = ledger.adjust(
            seller=obj.seller,
            amount=obj.available,
            reason=obj.reason,
            by=request.user,
            key=uuid.uuid4().hex,
        )
        # The admin goes on with `obj`: make it the entry the service wrote.
        obj.pk = entry.pk
        obj._state.adding = False


@admin.register(PayoutMethod)
class PayoutMethodAdmin(ReadOnlyAdmin):
    list_display = ["seller", "kind", "masked", "account_title", "hold_until", "replaced_at"]
    list_filter = ["kind", ("replaced_at", admin.EmptyFieldListFilter)]
    search_fields = ["seller__username", "iban", "wallet_number", "account_title"]
    list_select_related = ["seller"]


class PayoutLineInline(admin.TabularInline):
    model = Payout
    fields = ["seller", "amount", "method_kind", "account", "account_title", "status", "reference"]
    readonly_fields = fields
    extra = 0
    can_delete = False
    show_change_link = True

    def has_add_permission(self, request, obj=None) -> bool:
        return False


def bank_file(batch: PayoutBatch) -> HttpResponse:
    """The batch's lines still to pay by bank or wallet, in the columns a bulk IBFT/Raast
    upload asks for."""
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="payouts-{batch.pk}.csv"'
    writer = csv.writer(response)
    writer.writerow(
        ["account", "account_title", "bank_code", "bank", "amount_pkr", "reference", "seller"]
    )
    lines = batch.lines.filter(
        status=Payout.Status.DRAFTED, method_kind__in=BANK_FILE_KINDS
    ).select_related("seller")
    for line in lines:
        code = line.account[4:8] if line.method_kind == PayoutMethod.Kind.BANK else ""
        writer.writerow(
            [
                line.account,
                ledger.csv_text(line.account_title),
                code,
                PK_BANK_CODES.get(code, line.get_method_kind_display()),
                f"{line.amount:.2f}",
                line.transfer_reference,
                line.seller.username,
            ]
        )
    return response


@admin.register(PayoutBatch)
class PayoutBatchAdmin(ReadOnlyAdmin):
    list_display = ["key", "created_at", "line_count", "total", "to_pay", "download"]
    readonly_fields = ["key", "created_at", "download"]
    inlines = [PayoutLineInline]
    change_list_template = "admin/marketplace/payoutbatch/change_list.html"

    @admin.display(description=_("lines"))
    def line_count(self, batch: PayoutBatch) -> int:
        return batch.lines.count()

    @admin.display(description=_("total (Rs)"))
    def total(self, batch: PayoutBatch):
        return sum(line.amount for line in batch.lines.all())

    @admin.display(description=_("still to pay"))
    def to_pay(self, batch: PayoutBatch) -> int:
        return batch.lines.filter(status=Payout.Status.DRAFTED).count()

    @admin.display(description=_("bank file"))
    def download(self, batch: PayoutBatch) -> str:
        url = reverse("admin:marketplace_payoutbatch_csv", args=[batch.pk])
        return format_html('<a href="{}">{}</a>', url, gettext("Download CSV"))

    def get_urls(self):
        return [
            path(
                "<int:pk>/bank-file.csv",
                self.admin_site.admin_view(self.csv_view),
                name="marketplace_payoutbatch_csv",
            ),
            path(
                "draft/",
                self.admin_site.admin_view(require_POST(self.draft_view)),
                name="marketplace_payoutbatch_draft",
            ),
            *super().get_urls(),
        ]

    def csv_view(self, request: HttpRequest, pk: int) -> HttpResponse:
        if not self.has_view_permission(request):
            return HttpResponse(status=403)
        return bank_file(get_object_or_404(PayoutBatch, pk=pk))

    def draft_view(self, request: HttpRequest) -> HttpResponse:
        if not request.user.has_perm("marketplace.add_payout"):
            return HttpResponse(status=403)
        batch = payout_batches.draft_payout_batch(now=timezone.now())
        self.message_user(
            request,
            gettext("Batch %(key)s: %(count)d line(s).")
            % {"key": batch.key, "count": batch.lines.count()},
        )
        return HttpResponseRedirect(
            reverse("admin:marketplace_payoutbatch_change", args=[batch.pk])
        )


class PayoutActionForm(ActionForm):
    reference = forms.CharField(label=_("Bank reference"), required=False, max_length=100)


@admin.action(description=_("Mark paid (with the bank reference above)"), permissions=["pay"])
def mark_paid(modeladmin, request, queryset) -> None:
    reference = request.POST.get("reference", "")
    done = 0
    for line in queryset:
        try:
            payout_batches.mark_payout_paid(line=line, reference=reference)
            done += 1
        except MarketplaceError as error:
            modeladmin.message_user(request, error.message, messages.ERROR)
    if done:
        modeladmin.message_user(request, gettext("%(count)d line(s) paid.") % {"count": done})


@admin.action(description=_("Mark failed (money back to available)"), permissions=["pay"])
def mark_failed(modeladmin, request, queryset) -> None:
    for line in queryset:
        payout_batches.mark_payout_failed(line=line)
    modeladmin.message_user(
        request, gettext("%(count)d line(s) failed.") % {"count": len(queryset)}, messages.WARNING
    )


@admin.register(Payout)
class PayoutAdmin(ReadOnlyAdmin):
    list_display = [
        "transfer_reference",
        "batch",
        "seller",
        "amount",
        "method_kind",
        "account",
        "account_title",
        "status",
        "reference",
        "paid_at",
    ]
    list_filter = ["status", "method_kind", "batch"]
    search_fields = ["seller__username", "account", "reference"]
    list_select_related = ["seller", "batch"]
    action_form = PayoutActionForm
    actions = [mark_paid, mark_failed]

    def has_pay_permission(self, request) -> bool:
        return request.user.has_perm("marketplace.change_payout")


@admin.register(LedgerMismatch)
class LedgerMismatchAdmin(ReadOnlyAdmin):
    list_display = ["found_at", "check_name", "provider", "expected", "actual", "difference"]
    list_filter = ["check_name", "provider"]
    readonly_fields = ["found_at", "check_name", "provider", "expected", "actual", "details"]
