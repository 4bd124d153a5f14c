# --- Feedback and product reviews ---------------------------------------------------------
from django.contrib import admin

from marketplace.models import (
    Feedback,
    ProductReview,
)


@admin.register(Feedback)
class FeedbackAdmin(admin.ModelAdmin):
    list_display = [
        "order",
        "seller",
        "buyer",
        "seller_rating",
        "item_as_described",
        "platform_rating",
        "created_at",
    ]
    list_filter = ["seller_rating", "platform_rating", "item_as_described"]
    search_fields = ["order__number", "seller__username", "buyer__username", "comment"]
    list_select_related = ["order", "seller", "buyer"]
    readonly_fields = [
        field.name for field in Feedback._meta.fields if field.name not in {"id", "comment"}
    ]

    def has_add_permission(self, request) -> bool:
        return False


@admin.register(ProductReview)
class ProductReviewAdmin(admin.ModelAdmin):
    list_display = ["title", "product", "buyer", "rating", "verified_purchase", "created_at"]
    list_filter = ["rating", "verified_purchase"]
    search_fields = ["title", "text", "product__title", "buyer__username"]
    list_select_related = ["product", "buyer"]
    readonly_fields = ["product", "buyer", "rating", "verified_purchase", "created_at"]

    def has_add_permission(self, request) -> bool:
        return False
