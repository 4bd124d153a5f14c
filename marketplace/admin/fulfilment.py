# --- Fulfilment: an order's events (its timeline), shown inside the order's page -----------
from django.contrib import admin

from marketplace.models import (
    OrderEvent,
)


class OrderEventInline(admin.TabularInline):
    model = OrderEvent
    fields = ["created_at", "kind", "actor", "note"]
    readonly_fields = fields
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None) -> bool:
        return False
