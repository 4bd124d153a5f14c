"""Every API error is JSON `{"message": ..., "code": ...}` with a 4xx status, never HTML.

Business errors (`marketplace.exceptions`) carry their own translated message and code; shape
errors add `errors`, the messages per field.
"""

import logging

from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.http import Http404, JsonResponse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.views import set_rollback

from marketplace.exceptions import MarketplaceError

logger = logging.getLogger(__name__)

# Business errors that are about who asks, not what they sent.
FORBIDDEN_CODES = {"not_seller", "not_owner", "not_buyer", "not_party", "blocked", "buyer_blocked"}


# DRF's own messages for these have no Urdu: ours replace them.
MESSAGES = {
    "not_authenticated": gettext_lazy(
        "Log in first: send your token as “Authorization: Token <key>”."
    ),
    "method_not_allowed": gettext_lazy("This address does not take that method."),
    "parse_error": gettext_lazy("The request body could not be read."),
    "unsupported_media_type": gettext_lazy("Send JSON or a form."),
}


def error_body(message: str, code: str, **extra) -> dict:
    return {"message": str(message), "code": code, **extra}


def _first_message(detail) -> str:
    if isinstance(detail, dict):
        for value in detail.values():
            return _first_message(value)
    if isinstance(detail, list) and detail:
        return _first_message(detail[0])
    return str(detail)


def _plain(detail):
    """ErrorDetail trees as plain strings, for the `errors` field."""
    if isinstance(detail, dict):
        return {key: _plain(value) for key, value in detail.items()}
    if isinstance(detail, list):
        return [_plain(value) for value in detail]
    return str(detail)


def marketplace_error_response(error: MarketplaceError) -> Response:
    if error.code == "rate_limited":
        # The bid limit (services.bidding): a 429 with a hint of when to try again.
        retry_after = str(settings.BID_RATE_WINDOW_SECONDS)
        return Response(
            error_body(error.message, error.code),
            status=status.HTTP_429_TOO_MANY_REQUESTS,
            headers={"Retry-After": retry_after},
        )
    status_code = (
        status.HTTP_403_FORBIDDEN if error.code in FORBIDDEN_CODES else status.HTTP_400_BAD_REQUEST
    )
    return Response(error_body(error.message, error.code), status=status_code)


def exception_handler(exc, context):
    set_rollback()
    if isinstance(exc, MarketplaceError):
        return marketplace_error_response(exc)
    if isinstance(exc, Http404):
        exc = exceptions.NotFound(_("Not found."))
    elif isinstance(exc, PermissionDenied):
        exc = exceptions.PermissionDenied()
    if isinstance(exc, exceptions.APIException):
        headers = {}
        if getattr(exc, "auth_header", None):
            headers["WWW-Authenticate"] = exc.auth_header
        if getattr(exc, "wait", None) is not None:
            headers["Retry-After"] = str(int(exc.wait) or 1)
        if isinstance(exc, exceptions.Throttled):
            # The WebSocket's code for the same limit.
            body = error_body(_("Too many requests: slow down."), "rate_limited")
        elif isinstance(exc, exceptions.ValidationError):
            body = error_body(_first_message(exc.detail), "invalid", errors=_plain(exc.detail))
        else:
            code = exc.get_codes() if not isinstance(exc.detail, dict | list) else exc.default_code
            body = error_body(MESSAGES.get(code) or _first_message(exc.detail), str(code))
        return Response(body, status=exc.status_code, headers=headers)
    # A bug, not bad input: logged with its traceback, answered as JSON all the same.
    logger.exception("Unhandled error in the API", exc_info=exc)
    return Response(
        error_body(_("Something went wrong. Please try again."), "server_error"),
        status=status.HTTP_500_INTERNAL_SERVER_ERROR,
    )


def not_found(request, *args, **kwargs) -> JsonResponse:
    """Any other path under /api/: a JSON 404, not the site's HTML page."""
    return JsonResponse(error_body(_("Not found."), "not_found"), status=404)
