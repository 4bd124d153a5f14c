# --- Messaging: conversations and their messages -------------------------------------------
from django.contrib import admin

from marketplace.models import (
    Conversation,
    Message,
)


class MessageInline(admin.TabularInline):
    model = Message
    fields = ["created_at", "sender", "body", "read_at"]
    readonly_fields = fields
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None) -> bool:
        return False


@admin.register(Conversation)
class ConversationAdmin(admin.ModelAdmin):
    """For handling complaints about abuse: read-only."""

    list_display = ["pk", "buyer", "seller", "product", "order", "last_message_at"]
    search_fields = ["buyer__username", "seller__username", "order__number"]
    list_select_related = ["buyer", "seller", "product", "order"]
    readonly_fields = ["buyer", "seller", "product", "order", "created_at", "last_message_at"]
    inlines = [MessageInline]

    def has_add_permission(self, request) -> bool:
        return False
