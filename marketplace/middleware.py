"""Response headers for private pages (issue 12)."""

from django.conf import settings


class PrivateCacheControlMiddleware:
    """`Cache-Control: private, no-store` on what only this visitor should see.

    That is every response to a signed-in user and every page carrying a CSRF token (the
    token is tied to this browser's cookie), unless the view set its own Cache-Control.
    Public files (static, product photos under MEDIA_URL) stay cacheable.
    """

    def __init__(self, get_response) -> None:
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        if response.has_header("Cache-Control"):
            return response
        if request.path.startswith((settings.STATIC_URL, settings.MEDIA_URL)):
            return response
        user = getattr(request, "user", None)
        signed_in = user is not None and user.is_authenticated
        if signed_in or request.META.get("CSRF_COOKIE_NEEDS_UPDATE"):
            response["Cache-Control"] = "private, no-store"
        return response
