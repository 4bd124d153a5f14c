from django.conf import settings
from django.contrib import admin
from django.urls import include, path, re_path
from django.views.static import serve

from marketplace.admin.dashboard import staff_dashboard_view
from marketplace.views.pages import set_language

urlpatterns = [
    # Before admin.site.urls, whose catch-all would answer 404 for it.
    path("admin/dashboard/", staff_dashboard_view, name="staff_dashboard"),
    path("admin/", admin.site.urls),
    # Django's set_language plus saving the choice on the logged-in user (URLs stay unprefixed).
    path("i18n/setlang/", set_language, name="set_language"),
    path("", include("marketplace.urls")),
    # After marketplace.urls, which keeps the webhook's alias /api/stripe/webhook/.
    path("api/", include("marketplace.api.urls")),
]

if settings.SERVE_MEDIA:
    # Only our own re-encoded images live under MEDIA_ROOT; originals are never stored.
    urlpatterns += [
        re_path(r"^media/(?P<path>.*)$", serve, {"document_root": settings.MEDIA_ROOT}),
    ]

# Styled pages in the visitor's language; none of them touches the database.
handler400 = "marketplace.views.errors.bad_request"
handler403 = "marketplace.views.errors.permission_denied"
handler404 = "marketplace.views.errors.page_not_found"
handler500 = "marketplace.views.errors.server_error"
