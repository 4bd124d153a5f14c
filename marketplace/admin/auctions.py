from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from marketplace.models import AuctionListing, Bid, Notification
from marketplace.services.closing import close_auction

# --- Auctions and notifications (auctions work) ---------------------------------------------


class BidInline(admin.TabularInline):
    model = Bid
    fields = ["created_at", "bidder", "amount", "max_amount", "is_automatic"]
    readonly_fields = fields
    ordering = ["-id"]
    extra = 0
    can_delete = False
    show_change_link = True

    def has_add_permission(self, request: HttpRequest, obj=None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj=None) -> bool:
        return False


@admin.register(AuctionListing)
class AuctionListingAdmin(admin.ModelAdmin):
    list_display = [
        "id",
        "product_title",
        "status",
        "current_price",
        "bid_count",
        "reserve_price",
        "ends_at",
        "winner",
    ]
    list_filter = ["status", "ends_at", "starts_at"]
    search_fields = ["id", "product__title", "product__seller__username", "winner__username"]
    date_hierarchy = "ends_at"
    list_select_related = ["product", "winner"]
    # Price, counters and leader are written by place_bid / close_auction only.
    readonly_fields = [
        "current_price",
        "bid_count",
        "leading_bid",
        "leading_max_amount",
        "winner",
        "closed_at",
        "original_ends_at",
        "relisted_as",
        "created_at",
    ]
    inlines = [BidInline]
    actions = ["close_if_due"]

    @admin.display(description=_("product"), ordering="product__title")
    def product_title(self, obj: AuctionListing) -> str:
        product = getattr(obj, "product", None)
        return product.title if product else "—"

    @admin.action(description=_("Close now if due"))
    def close_if_due(self, request: HttpRequest, queryset: QuerySet[AuctionListing]) -> None:
        closed = sum(
            close_auction(auction_id=pk) is not None for pk in queryset.values_list("pk", flat=True)
        )
        self.message_user(
            request,
            ngettext(
                "%(count)d auction closed; the others were not due or already closed.",
                "%(count)d auctions closed; the others were not due or already closed.",
                closed,
            )
            % {"count": closed},
            messages.SUCCESS if closed else messages.INFO,
        )


@admin.register(Bid)
class BidAdmin(admin.ModelAdmin):
    list_display = ["id", "auction", "bidder", "amount", "max_amount", "is_automatic", "created_at"]
    list_filter = ["is_automatic", "created_at"]
    search_fields = ["auction__id", "auction__product__title", "bidder__username"]
    list_select_related = ["auction", "bidder"]
    raw_id_fields = ["auction", "bidder"]
    date_hierarchy = "created_at"

    # Bids are history: changing one would make the auction's counters lie.
    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj=None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj=None) -> bool:
        return False


@admin.register(Notification)
class NotificationAdmin(admin.ModelAdmin):
    list_display = ["id", "user", "kind", "title", "created_at", "read_at", "emailed_at"]
    list_filter = ["kind", "created_at", "emailed_at"]
    search_fields = ["user__username", "user__email", "title", "dedupe_key"]
    list_select_related = ["user"]
    raw_id_fields = ["user"]
    readonly_fields = ["created_at"]
