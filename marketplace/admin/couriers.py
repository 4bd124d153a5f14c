"""Parcels and the courier's COD remittance lines: staff look, upload a report, match again."""

from django import forms
from django.contrib import admin, messages
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import path, reverse
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from marketplace.admin.payments import ReadOnlyAdmin
from marketplace.models import Parcel, ParcelEvent, RemittanceLine
from marketplace.services import remittance

MAX_UPLOAD_BYTES = 2 * 1024 * 1024


class ParcelEventInline(admin.TabularInline):
    model = ParcelEvent
    fields = ["sequence", "status", "courier_status", "happened_at", "recorded_at"]
    readonly_fields = fields
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None) -> bool:
        return False


@admin.register(Parcel)
class ParcelAdmin(ReadOnlyAdmin):
    list_display = ["tracking_number", "courier", "order", "status", "cod_amount", "booked_at"]
    list_filter = ["status", "courier"]
    search_fields = ["tracking_number", "order__number"]
    list_select_related = ["order"]
    inlines = [ParcelEventInline]


class RemittanceUploadForm(forms.Form):
    report = forms.FileField(
        label=_("Remittance report (CSV)"),
        help_text=_(
            "Columns: tracking_number, collected, cod_charge, return_charge, reference. "
            "Lines received before are skipped."
        ),
    )


@admin.action(description=_("Match again (after fixing the cause)"), permissions=["change"])
def match_again(modeladmin, request, queryset) -> None:
    lines = [remittance.rematch(line=line) for line in queryset]
    matched = sum(line.outcome == RemittanceLine.Outcome.MATCHED for line in lines)
    modeladmin.message_user(
        request, gettext("%(count)d line(s) matched.") % {"count": matched}, messages.INFO
    )


@admin.register(RemittanceLine)
class RemittanceLineAdmin(ReadOnlyAdmin):
    list_display = [
        "tracking_number",
        "outcome",
        "problem",
        "collected",
        "cod_charge",
        "return_charge",
        "reference",
        "source",
        "received_at",
    ]
    list_filter = ["outcome", "courier", "source"]
    search_fields = ["tracking_number", "reference"]
    actions = [match_again]
    change_list_template = "admin/marketplace/remittanceline/change_list.html"

    def has_change_permission(self, request, obj=None) -> bool:
        # Only for the action: the lines themselves stay read-only (no change form fields).
        return request.user.has_perm("marketplace.change_remittanceline")

    def get_readonly_fields(self, request, obj=None):
        return [field.name for field in self.model._meta.fields]

    def get_urls(self):
        return [
            path(
                "upload/",
                self.admin_site.admin_view(self.upload_view),
                name="marketplace_remittanceline_upload",
            ),
            *super().get_urls(),
        ]

    def upload_view(self, request: HttpRequest) -> HttpResponse:
        if not request.user.has_perm("marketplace.add_remittanceline"):
            return HttpResponse(status=403)
        form = RemittanceUploadForm(request.POST or None, request.FILES or None)
        if request.method == "POST" and form.is_valid():
            upload = form.cleaned_data["report"]
            if upload.size > MAX_UPLOAD_BYTES:
                form.add_error("report", gettext("The file is too large (2 MB at most)."))
            else:
                try:
                    text = upload.read().decode("utf-8-sig")
                except UnicodeDecodeError:
                    form.add_error("report", gettext("Save the report as CSV in UTF-8."))
                else:
                    matched, mismatched, errors = remittance.reconcile_csv(text=text)
                    self.message_user(
                        request,
                        gettext("%(matched)d line(s) matched, %(mismatched)d listed as mismatches.")
                        % {"matched": matched, "mismatched": mismatched},
                    )
                    for error in errors:
                        self.message_user(request, error, messages.WARNING)
                    return HttpResponseRedirect(
                        reverse("admin:marketplace_remittanceline_changelist")
                    )
        context = {
            **self.admin_site.each_context(request),
            "title": gettext("Upload a remittance report"),
            "form": form,
            "opts": self.model._meta,
        }
        return render(request, "admin/marketplace/remittanceline/upload.html", context)
