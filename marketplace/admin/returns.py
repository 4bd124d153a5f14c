# --- Returns: staff decide disputes (a return the seller refused and the buyer sent on) -----
from django.contrib import admin, messages
from django.urls import reverse
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from marketplace.exceptions import MarketplaceError
from marketplace.models import ReturnRequest
from marketplace.services.returns import accept_return, reject_dispute


def _decide_each(modeladmin, request, queryset, decide) -> None:
    done = 0
    for return_request in queryset.select_related("order"):
        try:
            decide(request=return_request, by=request.user, note=return_request.decision_note)
        except MarketplaceError as error:
            text = f"{return_request.order.number}: {error.message}"
            modeladmin.message_user(request, text, messages.WARNING)
        else:
            done += 1
    if done:
        modeladmin.message_user(
            request,
            ngettext("%(count)d dispute decided.", "%(count)d disputes decided.", done)
            % {"count": done},
            messages.SUCCESS,
        )


@admin.action(
    description=_("Decide for the buyer: accept the return and refund (calls Stripe)"),
    permissions=["change"],
)
def accept_disputes(modeladmin, request, queryset) -> None:
    _decide_each(modeladmin, request, queryset, accept_return)


@admin.action(
    description=_("Decide for the seller: reject the return (the money is released)"),
    permissions=["change"],
)
def reject_disputes(modeladmin, request, queryset) -> None:
    _decide_each(modeladmin, request, queryset, reject_dispute)


@admin.register(ReturnRequest)
class ReturnRequestAdmin(admin.ModelAdmin):
    list_display = ["order", "reason", "status", "created_at", "answered_at", "disputed_at"]
    list_filter = ["status", "reason"]
    search_fields = ["order__number", "order__buyer__username", "order__seller__username"]
    list_select_related = ["order"]
    date_hierarchy = "created_at"
    actions = [accept_disputes, reject_disputes]
    # What the parties wrote is evidence; staff write only their decision's note (while the
    # dispute is open), then decide with an action, which goes through the service.
    readonly_fields = [
        "order",
        "status",
        "reason",
        "details",
        "photo_links",
        "refusal_reason",
        "dispute_note",
        "decided_by",
        "created_at",
        "answered_at",
        "disputed_at",
        "closed_at",
    ]
    fields = [*readonly_fields[:7], "decision_note", *readonly_fields[7:]]

    @admin.display(description=_("Photos"))
    def photo_links(self, obj: ReturnRequest) -> str:
        # Served by the permission-checked view (staff may see every return's photos).
        number = obj.order.number
        rows = [
            (reverse("return_photo", args=[number, photo.pk]),) * 2 for photo in obj.photos.all()
        ]
        if not rows:
            return "-"
        return format_html(
            '<div id="return-photos">{}</div>',
            format_html_join(
                "",
                '<a href="{}" target="_blank" rel="noopener"><img src="{}" width="120" '
                'height="120" style="object-fit:cover;margin:0 .5rem .5rem 0" alt=""></a>',
                rows,
            ),
        )

    def get_readonly_fields(self, request, obj=None):
        if obj is not None and obj.status == ReturnRequest.Status.DISPUTED:
            return self.readonly_fields
        return [*self.readonly_fields, "decision_note"]

    def has_change_permission(self, request, obj=None) -> bool:
        # Only an open dispute has anything for staff to write; the rest is a record.
        if obj is not None and obj.status != ReturnRequest.Status.DISPUTED:
            return False
        return super().has_change_permission(request, obj)

    def has_add_permission(self, request) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False
