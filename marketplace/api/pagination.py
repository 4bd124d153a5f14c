"""Page-numbered lists: `{"count", "next", "previous", "results"}`."""

from django.conf import settings
from rest_framework.pagination import PageNumberPagination


class PagePagination(PageNumberPagination):
    page_size_query_param = "per_page"
    max_page_size = 100

    def get_page_size(self, request) -> int:
        return super().get_page_size(request) or settings.PAGE_SIZE
