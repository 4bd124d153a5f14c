# --- Complaints: staff change status, assignee and note through update_complaint ----------
from django.contrib import admin, messages
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from marketplace.exceptions import ComplaintRejected
from marketplace.models import Complaint, ComplaintMessage
from marketplace.services.complaints import add_complaint_message, update_complaint


def _update_each(modeladmin, request, queryset, **changes) -> None:
    done = 0
    for complaint in queryset:
        values = {
            "status": complaint.status,
            "assigned_to": complaint.assigned_to,
            "resolution_note": complaint.resolution_note,
            **changes,
        }
        try:
            update_complaint(complaint=complaint, by=request.user, **values)
        except ComplaintRejected as error:
            modeladmin.message_user(request, error.message, messages.WARNING)
        else:
            done += 1
    modeladmin.message_user(
        request,
        ngettext("%(count)d complaint updated.", "%(count)d complaints updated.", done)
        % {"count": done},
        messages.SUCCESS,
    )


class ComplaintMessageInline(admin.TabularInline):
    """The thread with the user: earlier messages as written, one new reply at a time."""

    model = ComplaintMessage
    fields = ["created_at", "author", "body"]
    readonly_fields = ["created_at", "author"]
    extra = 1
    can_delete = False
    verbose_name = _("reply")

    def has_change_permission(self, request, obj=None) -> bool:
        return False


@admin.register(Complaint)
class ComplaintAdmin(admin.ModelAdmin):
    inlines = [ComplaintMessageInline]
    list_display = ["number", "subject", "category", "user", "status", "assigned_to", "created_at"]
    list_filter = ["status", "category", ("assigned_to", admin.RelatedOnlyFieldListFilter)]
    search_fields = ["number", "subject", "user__username", "user__email", "order__number"]
    list_select_related = ["user", "assigned_to"]
    date_hierarchy = "created_at"
    fieldsets = [
        (None, {"fields": ["number", "user", "category", "subject", "description", "photo_link"]}),
        (_("About"), {"fields": ["order", "seller"]}),
        (
            _("Handling"),
            {"fields": ["status", "assigned_to", "resolution_note", "updated_at", "resolved_at"]},
        ),
    ]
    # What the user wrote is evidence: staff change only the handling fields.
    readonly_fields = [
        "number",
        "user",
        "category",
        "subject",
        "description",
        "photo_link",
        "order",
        "seller",
        "updated_at",
        "resolved_at",
    ]
    actions = ["assign_to_me", "mark_in_progress", "mark_resolved", "mark_closed"]

    def has_add_permission(self, request) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name == "assigned_to":
            from marketplace.models import User

            kwargs["queryset"] = User.objects.filter(is_staff=True, is_active=True)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    @admin.display(description=_("photo"))
    def photo_link(self, obj: Complaint) -> str:
        from django.urls import reverse
        from django.utils.html import format_html

        if not obj.photo:
            return "-"
        url = reverse("complaint_photo", args=[obj.number])
        return format_html('<a href="{}" target="_blank" rel="noopener">{}</a>', url, _("Open"))

    def save_model(self, request, obj, form, change) -> None:
        # Every change goes through the service, which tells the user.
        try:
            update_complaint(
                complaint=obj,
                by=request.user,
                status=form.cleaned_data["status"],
                assigned_to=form.cleaned_data["assigned_to"],
                resolution_note=form.cleaned_data["resolution_note"],
            )
        except ComplaintRejected as error:
            self.message_user(request, error.message, messages.ERROR)

    def save_formset(self, request, form, formset, change) -> None:
        # A staff reply goes through the service, which tells the user.
        for reply in formset.save(commit=False):
            if reply.pk is None:
                try:
                    add_complaint_message(complaint=form.instance, by=request.user, body=reply.body)
                except ComplaintRejected as error:
                    self.message_user(request, error.message, messages.ERROR)

    @admin.action(description=_("Assign to me"), permissions=["change"])
    def assign_to_me(self, request, queryset) -> None:
        _update_each(self, request, queryset, assigned_to=request.user)

    @admin.action(description=_("Mark in progress"), permissions=["change"])
    def mark_in_progress(self, request, queryset) -> None:
        _update_each(self, request, queryset, status=Complaint.Status.IN_PROGRESS)

    @admin.action(description=_("Mark resolved"), permissions=["change"])
    def mark_resolved(self, request, queryset) -> None:
        _update_each(self, request, queryset, status=Complaint.Status.RESOLVED)

    @admin.action(description=_("Close"), permissions=["change"])
    def mark_closed(self, request, queryset) -> None:
        _update_each(self, request, queryset, status=Complaint.Status.CLOSED)
