from django.conf import settings
from django.contrib import admin
from django.urls import include, path, re_path
from django.views.static import serve

from marketplace.admin.dashboard import staff_dashboard_view

urlpatterns = [
    # Before admin.site.urls, whose catch-all would answer 404 for it.
    path("admin/dashboard/", staff_dashboard_view, name="staff_dashboard"),
    path("admin/", admin.site.urls),
    path("i18n/", include("django.conf.urls.i18n")),
    path("", include("marketplace.urls")),
]

if settings.SERVE_MEDIA:
    # Only our own re-encoded images live under MEDIA_ROOT; originals are never stored.
    urlpatterns += [
        re_path(r"^media/(?P<path>.*)$", serve, {"document_root": settings.MEDIA_ROOT}),
    ]
