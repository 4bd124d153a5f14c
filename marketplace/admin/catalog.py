from django.contrib import admin, messages
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from marketplace.models import Category, Favourite, FixedPriceListing, Product, ProductImage

# --- Catalogue ------------------------------------------------------------------------------


@admin.register(Category)
class CategoryAdmin(admin.ModelAdmin):
    list_display = ["name", "parent", "position", "slug"]
    list_editable = ["position"]
    list_filter = [("parent", admin.RelatedOnlyFieldListFilter)]
    list_select_related = ["parent"]
    search_fields = ["name", "slug"]
    prepopulated_fields = {"slug": ["name"]}


class ProductImageInline(admin.TabularInline):
    model = ProductImage
    extra = 0
    fields = ["image", "medium", "thumbnail", "position", "alt_text", "width", "height"]
    readonly_fields = ["image", "medium", "thumbnail", "width", "height"]

    def has_add_permission(self, request, obj=None) -> bool:
        # Photos must go through Pillow re-encoding (the seller's form), never a raw upload.
        return False


@admin.action(description=_("Withdraw listing"))
def withdraw_listings(modeladmin, request, queryset) -> None:
    listing_ids = queryset.filter(fixed_price__isnull=False).values("fixed_price_id")
    count = FixedPriceListing.objects.filter(pk__in=listing_ids).update(
        status=FixedPriceListing.Status.WITHDRAWN
    )
    modeladmin.message_user(
        request,
        ngettext("%(count)d listing withdrawn.", "%(count)d listings withdrawn.", count)
        % {"count": count},
        messages.SUCCESS,
    )


class ListingTypeFilter(admin.SimpleListFilter):
    title = _("listing type")
    parameter_name = "type"

    def lookups(self, request, model_admin):
        return [("fixed", _("Fixed price")), ("auction", _("Auction"))]

    def queryset(self, request, queryset):
        if self.value() == "fixed":
            return queryset.filter(fixed_price__isnull=False)
        if self.value() == "auction":
            return queryset.filter(auction__isnull=False)
        return queryset


@admin.register(Product)
class ProductAdmin(admin.ModelAdmin):
    list_display = ["title", "seller", "listing_type", "display_price", "city", "created_at"]
    list_filter = ["category", "condition", ListingTypeFilter, "fixed_price__status"]
    list_select_related = ["seller", "city", "fixed_price", "auction"]
    search_fields = [
        "title",
        "seller__username",
        "seller__email",
        "seller__seller_profile__shop_name",
    ]
    raw_id_fields = ["seller", "fixed_price", "auction"]
    readonly_fields = ["display_price", "created_at", "updated_at"]
    date_hierarchy = "created_at"
    inlines = [ProductImageInline]
    actions = [withdraw_listings]

    @admin.display(description=_("type"))
    def listing_type(self, obj: Product) -> str:
        return _("Auction") if obj.auction_id else _("Fixed price")


@admin.register(FixedPriceListing)
class FixedPriceListingAdmin(admin.ModelAdmin):
    list_display = ["id", "product", "price", "quantity", "status", "sale_percent", "created_at"]
    list_filter = ["status"]
    list_select_related = ["product"]
    search_fields = ["product__title"]


@admin.register(ProductImage)
class ProductImageAdmin(admin.ModelAdmin):
    list_display = ["product", "position", "width", "height"]
    list_select_related = ["product"]
    search_fields = ["product__title"]
    raw_id_fields = ["product"]
    readonly_fields = ["image", "medium", "thumbnail", "width", "height"]

    def has_add_permission(self, request) -> bool:
        return False


@admin.register(Favourite)
class FavouriteAdmin(admin.ModelAdmin):
    list_display = ["user", "product", "created_at"]
    list_select_related = ["user", "product"]
    search_fields = ["user__username", "product__title"]
    raw_id_fields = ["user", "product"]


# --- End of catalogue -----------------------------------------------------------------------
