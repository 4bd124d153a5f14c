"""Language choice: per user (User.language), per visitor (cookie), per socket, per recipient.

Requests: LocaleMiddleware picks the cookie or Accept-Language; `UserLanguageMiddleware`
(after AuthenticationMiddleware) then applies the logged-in user's saved language, so it
follows them to every device. WebSockets and notifications have no request: they use
`language_from_scope` and `language_for_user`.
"""

from collections.abc import Callable, Iterable
from http.cookies import SimpleCookie
from typing import Any

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.utils import translation
from django.utils.functional import lazy

from marketplace.models import User


def supported(code: str | None) -> str | None:
    """The supported language for `code` ("ur-PK" -> "ur"), or None."""
    if not code:
        return None
    try:
        return translation.get_supported_language_variant(code)
    except LookupError:
        return None


def _is_stand_in(user: Any) -> bool:
    """A bare User(pk=...), not loaded from the database: its language is not known."""
    state = getattr(user, "_state", None)
    return bool(getattr(user, "pk", None)) and state is not None and state.adding


def language_for_user(user: Any) -> str:
    """The language to write to `user` in (notifications, e-mails)."""
    code = getattr(user, "language", None)
    if _is_stand_in(user):
        code = User.objects.filter(pk=user.pk).values_list("language", flat=True).first()
    return supported(code) or settings.LANGUAGE_CODE


def languages_for_users(users: Iterable[Any]) -> dict[int, str]:
    """`language_for_user` of many users by pk, with one query for all the stand-ins."""
    users = list(users)
    stand_ins = {user.pk for user in users if _is_stand_in(user)}
    saved = (
        dict(User.objects.filter(pk__in=stand_ins).values_list("pk", "language"))
        if stand_ins
        else {}
    )
    return {
        user.pk: supported(saved.get(user.pk) if user.pk in stand_ins else user.language)
        or settings.LANGUAGE_CODE
        for user in users
    }


def language_from_scope(scope: dict[str, Any]) -> str:
    """The language of a WebSocket connection: the user's choice, the cookie, Accept-Language."""
    user = scope.get("user")
    if user is not None and getattr(user, "is_authenticated", False):
        chosen = supported(getattr(user, "language", ""))
        if chosen:
            return chosen
    headers = {name.decode("latin-1").lower(): value for name, value in scope.get("headers", [])}
    cookie = SimpleCookie()
    try:
        cookie.load(headers.get("cookie", b"").decode("latin-1"))
    except Exception:  # a malformed cookie header means "no cookie"
        cookie = SimpleCookie()
    morsel = cookie.get(settings.LANGUAGE_COOKIE_NAME)
    chosen = supported(morsel.value if morsel else None)
    if chosen:
        return chosen
    accept = headers.get("accept-language", b"").decode("latin-1")
    for code, _quality in translation.trans_real.parse_accept_lang_header(accept):
        if code == "*":
            break
        chosen = supported(code)
        if chosen:
            return chosen
    return settings.LANGUAGE_CODE


# First strong isolate ... pop directional isolate: a value keeps its own direction inside
# text of the other (an order number or a phone inside an Urdu sentence), in any plain text.
FSI, PDI = "\u2068", "\u2069"


def isolate(value: Any) -> str:
    """`value` as text, isolated from the text around it when the active language is written
    right to left (plain text: e-mails, notices, page titles); unchanged otherwise."""
    text = str(value)
    if not text or not translation.get_language_bidi():
        return text
    return f"{FSI}{text}{PDI}"


def _interpolate(message: Any, params: dict[str, Any]) -> str:
    # Every value isolated: numbers, amounts and Latin names inside Urdu text.
    return str(message) % {key: isolate(value) for key, value in params.items()}


_lazy_interpolate = lazy(_interpolate, str)


def lazy_format(message: Any, **params: Any) -> str:
    """`message % params`, evaluated only when rendered: in the reader's language.

    Use with gettext_lazy messages (and lazy parameters, e.g. a price) for text stored or
    sent for someone else, such as a notification written while serving another user.
    """
    return _lazy_interpolate(message, params)


class UserLanguageMiddleware:
    """Apply a logged-in user's saved language; keep the cookie in step with it."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        user = getattr(request, "user", None)
        chosen = None
        if user is not None and user.is_authenticated:
            chosen = supported(user.language)
            if chosen:
                translation.activate(chosen)
                request.LANGUAGE_CODE = chosen
            else:
                # Chosen from the menu before registering or logging in: keep it (once).
                from_cookie = supported(request.COOKIES.get(settings.LANGUAGE_COOKIE_NAME))
                if from_cookie:
                    User.objects.filter(pk=user.pk, language="").update(language=from_cookie)
                    user.language = from_cookie
        response = self.get_response(request)
        if chosen and request.COOKIES.get(settings.LANGUAGE_COOKIE_NAME) != chosen:
            # After logging out on this device the site stays in the user's language.
            set_language_cookie(response, chosen)
        return response


def set_language_cookie(response: HttpResponse, code: str) -> None:
    response.set_cookie(
        settings.LANGUAGE_COOKIE_NAME,
        code,
        max_age=settings.LANGUAGE_COOKIE_AGE,
        path=settings.LANGUAGE_COOKIE_PATH,
        domain=settings.LANGUAGE_COOKIE_DOMAIN,
        secure=settings.LANGUAGE_COOKIE_SECURE,
        httponly=settings.LANGUAGE_COOKIE_HTTPONLY,
        samesite=settings.LANGUAGE_COOKIE_SAMESITE,
    )
