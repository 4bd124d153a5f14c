from django.contrib import admin

from marketplace.models import ApiToken


@admin.register(ApiToken)
class ApiTokenAdmin(admin.ModelAdmin):
    """Staff see and revoke (delete) API tokens; keys are never stored, so never shown."""

    list_display = ["prefix", "user", "name", "created_at", "last_used_at"]
    list_select_related = ["user"]
    search_fields = ["user__username", "user__email", "name", "prefix"]
    readonly_fields = ["user", "name", "prefix", "created_at", "last_used_at"]
    fields = readonly_fields
    date_hierarchy = "created_at"

    def has_add_permission(self, request) -> bool:
        # A token's key is shown once, to its user, when they log in: staff cannot mint one.
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False
