"""API tokens: one per device or script, each revocable on its own (by its user or by staff)."""

import hashlib
import secrets

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

KEY_BYTES = 30  # 40 characters of URL-safe base64


def digest(key: str) -> str:
    """Only a SHA-256 digest of a key is stored: a copy of the database logs nobody in."""
    return hashlib.sha256(key.encode()).hexdigest()


class ApiTokenQuerySet(models.QuerySet):
    def for_key(self, key: str) -> "ApiTokenQuerySet":
        return self.filter(key_digest=digest(key))


class ApiToken(models.Model):
    user = models.ForeignKey(
        "marketplace.User",
        on_delete=models.CASCADE,
        related_name="api_tokens",
        verbose_name=_("user"),
    )
    name = models.CharField(_("device or script"), max_length=80, blank=True)
    key_digest = models.CharField(_("key digest"), max_length=64, unique=True, editable=False)
    # The first characters of the key, so a user can tell their tokens apart.
    prefix = models.CharField(_("key starts with"), max_length=8, editable=False)
    created_at = models.DateTimeField(_("created at"), default=timezone.now)
    last_used_at = models.DateTimeField(_("last used at"), null=True, blank=True)

    objects = ApiTokenQuerySet.as_manager()

    class Meta:
        verbose_name = _("API token")
        verbose_name_plural = _("API tokens")
        ordering = ["-created_at", "-pk"]

    def __str__(self) -> str:
        return f"{self.prefix}… ({self.user})"

    @classmethod
    def issue(cls, *, user, name: str = "") -> tuple["ApiToken", str]:
        """A new token for `user` and its key, which is shown this once and never stored."""
        key = secrets.token_urlsafe(KEY_BYTES)
        token = cls.objects.create(
            user=user, name=name[:80], key_digest=digest(key), prefix=key[:8]
        )
        return token, key
