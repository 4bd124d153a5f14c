"""`Authorization: Token <key>` for apps and scripts (one ApiToken per device, revocable)."""

from datetime import timedelta

from django.utils import timezone, translation
from django.utils.translation import gettext_lazy as _
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from rest_framework import authentication, exceptions

from marketplace.i18n import supported
from marketplace.models import ApiToken

# last_used_at is written at most this often per token: one UPDATE, not one per request.
LAST_USED_RESOLUTION = timedelta(minutes=5)


def key_from_header(value: str) -> str | None:
    """The key of an `Authorization: Token <key>` header value, None when it is another scheme.

    Raises ValueError for a Token header without exactly one well-formed key.
    """
    parts = value.split()
    if not parts or parts[0].lower() != "token":
        return None
    if len(parts) != 2 or not parts[1].isascii() or len(parts[1]) > 100:
        raise ValueError("malformed token header")
    return parts[1]


def user_for_key(key: str):
    """The active user of the token `key`, or None; notes when the token was last used."""
    token = ApiToken.objects.for_key(key).select_related("user").first()
    if token is None or not token.user.is_active:
        return None, None
    now = timezone.now()
    if token.last_used_at is None or now - token.last_used_at > LAST_USED_RESOLUTION:
        ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
    return token.user, token


class ApiTokenAuthentication(authentication.BaseAuthentication):
    keyword = "Token"

    def authenticate(self, request):
        header = authentication.get_authorization_header(request).decode("latin-1")
        try:
            key = key_from_header(header)
        except ValueError:
            raise exceptions.AuthenticationFailed(
                _("Send the header as “Authorization: Token <key>”.")
            ) from None
        if key is None:
            return None
        user, token = user_for_key(key)
        if user is None:
            raise exceptions.AuthenticationFailed(_("That token is not valid (revoked?)."))
        # The saved language follows the user to every device, as on the site.
        language = supported(user.language)
        if language:
            translation.activate(language)
            request.LANGUAGE_CODE = language
        return user, token

    def authenticate_header(self, request) -> str:
        # 401 (with WWW-Authenticate), not 403, for a request without credentials.
        return self.keyword


class ApiTokenScheme(OpenApiAuthenticationExtension):
    """The token scheme in the OpenAPI schema (drf-spectacular finds it by import)."""

    target_class = "marketplace.api.auth.ApiTokenAuthentication"
    name = "tokenAuth"

    def get_security_definition(self, auto_schema):
        return {
            "type": "apiKey",
            "in": "header",
            "name": "Authorization",
            "description": "`Token <key>`, from POST /api/login/ or /api/register/.",
        }
