# --- Orders: checkouts, orders, carts -------------------------------------------------------
from django.contrib import admin, messages
from django.utils.translation import gettext_lazy as _
from django.utils.translation import gettext_noop

from marketplace.exceptions import MarketplaceError
from marketplace.models import CartItem, Checkout, Order, OrderItem
from marketplace.services.cancellation import cancel_order
from marketplace.services.refunds import refund_order

from .fulfilment import OrderEventInline


class OrderInline(admin.TabularInline):
    model = Order
    fields = ["number", "seller", "status", "total", "payment_deadline"]
    readonly_fields = fields
    extra = 0
    can_delete = False
    show_change_link = True

    def has_add_permission(self, request, obj=None) -> bool:
        return False


@admin.register(Checkout)
class CheckoutAdmin(admin.ModelAdmin):
    list_display = ["number", "buyer", "created_at"]
    search_fields = ["number", "buyer__username", "buyer__email"]
    date_hierarchy = "created_at"
    readonly_fields = ["number", "buyer", "created_at"]
    inlines = [OrderInline]

    def has_add_permission(self, request) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


class OrderItemInline(admin.TabularInline):
    model = OrderItem
    fields = ["title", "product", "listing", "unit_price", "quantity", "line_total"]
    readonly_fields = fields
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None) -> bool:
        return False


@admin.action(
    description=_("Cancel (returns stock; a paid, unshipped order is refunded)"),
    permissions=["change"],
)
def cancel_unpaid_orders(modeladmin, request, queryset) -> None:
    done = 0
    for order in queryset:
        try:
            # Stored in English, shown in each reader's language.
            cancel_order(order=order, by=request.user, reason=gettext_noop("Cancelled by staff"))
        except MarketplaceError as error:
            modeladmin.message_user(request, error.message, messages.WARNING)
        else:
            done += 1
    if done:
        modeladmin.message_user(
            request, _("%(count)d order(s) cancelled.") % {"count": done}, messages.SUCCESS
        )


@admin.action(description=_("Refund (calls Stripe)"), permissions=["change"])
def refund_paid_orders(modeladmin, request, queryset) -> None:
    done = 0
    for order in queryset:
        try:
            refund_order(order=order, by_staff=request.user)
        except MarketplaceError as error:
            detail = getattr(error, "detail", "")
            text = f"{order.number}: {error.message}" + (f" ({detail})" if detail else "")
            modeladmin.message_user(request, text, messages.WARNING)
        else:
            done += 1
    if done:
        modeladmin.message_user(
            request, _("%(count)d order(s) refunded.") % {"count": done}, messages.SUCCESS
        )


@admin.register(Order)
class OrderAdmin(admin.ModelAdmin):
    list_display = [
        "number",
        "buyer",
        "seller",
        "status",
        "total",
        "created_at",
        "payment_deadline",
    ]
    list_filter = ["status", "created_at"]
    search_fields = [
        "number",
        "checkout__number",
        "buyer__username",
        "buyer__email",
        "seller__username",
        "seller__email",
        "seller__seller_profile__shop_name",
    ]
    list_select_related = ["buyer", "seller"]
    date_hierarchy = "created_at"
    inlines = [OrderItemInline, OrderEventInline]
    actions = [cancel_unpaid_orders, refund_paid_orders]
    # Money, parties and status are history: status changes only through the guarded action.
    readonly_fields = [
        "number",
        "checkout",
        "buyer",
        "seller",
        "auction",
        "status",
        "ship_name",
        "ship_phone",
        "ship_line1",
        "ship_line2",
        "ship_city",
        "ship_province",
        "ship_postal_code",
        "subtotal",
        "shipping_fee",
        "total",
        "payment_deadline",
        "created_at",
        "paid_at",
        "shipped_at",
        "delivered_at",
        "cancelled_at",
        "cancel_reason",
        "courier",
        "tracking_number",
    ]

    def has_add_permission(self, request) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


@admin.register(CartItem)
class CartItemAdmin(admin.ModelAdmin):
    list_display = ["user", "listing", "quantity", "price_when_added", "added_at"]
    search_fields = ["user__username", "user__email", "listing__product__title"]
    list_select_related = ["user", "listing"]
    raw_id_fields = ["user", "listing"]
