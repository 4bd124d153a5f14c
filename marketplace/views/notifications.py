"""The notifications page and marking notices read. The bell's count is in the navigation."""

from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_POST
from django.views.decorators.vary import vary_on_headers

from marketplace.models import Notification
from marketplace.services.notifications import mark_read
from marketplace.views.access import get_notification_for_user

PER_PAGE = 30
TEMPLATE = "marketplace/notifications/notification_list.html"


def _page(request: HttpRequest):
    notices = Notification.objects.filter(user=request.user).order_by("-created_at", "-pk")
    return Paginator(notices, PER_PAGE).get_page(request.GET.get("page"))


@login_required
def notification_list(request: HttpRequest) -> HttpResponse:
    page = _page(request)
    shown = list(page.object_list)  # read now: this page still marks what was new
    if any(notice.read_at is None for notice in shown):
        # Opening the list clears the bell: the notices are seen.
        mark_read(user=request.user)
    return render(request, TEMPLATE, {"page": page})


@login_required
@require_POST
def notification_read(request: HttpRequest, pk: int) -> HttpResponse:
    """Mark one notice read and follow its link (only links on this site)."""
    notification = get_notification_for_user(request, pk)
    mark_read(user=request.user, notification_id=notification.pk)
    url = notification.url
    if url and url_has_allowed_host_and_scheme(url, allowed_hosts={request.get_host()}):
        return redirect(url)
    return redirect("notification_list")


@login_required
@require_POST
@vary_on_headers("HX-Request")
def notification_read_all(request: HttpRequest) -> HttpResponse:
    mark_read(user=request.user)
    if request.htmx:
        return render(request, f"{TEMPLATE}#notification-list", {"page": _page(request)})
    return redirect("notification_list")
