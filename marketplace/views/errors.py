"""Error pages (madeinpk/urls.py's handler404 and friends, CSRF_FAILURE_VIEW).

Rendered without the request's context processors (navigation counts query the database) and
without the user: the same page whatever failed, in the language LocaleMiddleware chose.
"""

from django.http import HttpRequest, HttpResponse
from django.template.loader import render_to_string


def _error_page(template: str, status: int) -> HttpResponse:
    html = render_to_string(f"errors/{template}.html", {"status": status})
    return HttpResponse(html, status=status)


def bad_request(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    return _error_page("400", 400)


def permission_denied(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    return _error_page("403", 403)


def page_not_found(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    return _error_page("404", 404)


def server_error(request: HttpRequest) -> HttpResponse:
    return _error_page("500", 500)


def csrf_failure(request: HttpRequest, reason: str = "") -> HttpResponse:
    return _error_page("csrf", 403)
