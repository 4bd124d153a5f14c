from django.contrib import admin

from marketplace.models import SearchSynonym


@admin.register(SearchSynonym)
class SearchSynonymAdmin(admin.ModelAdmin):
    list_display = ["name", "terms", "category", "updated_at"]
    list_select_related = ["category"]
    search_fields = ["name", "terms"]
    list_filter = ["category"]

    def delete_queryset(self, request, queryset):
        # A bulk delete skips Model.delete(): drop the cached expansion table here too.
        super().delete_queryset(request, queryset)
        from marketplace.queries.search import synonyms_changed

        synonyms_changed()
