"""Validators and normalisers for Pakistani data (mobile numbers)."""

import re

from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

# 03XX-XXXXXXX, 03XXXXXXXXX, +92 3XX XXXXXXX, 0092 3XX... (spaces and dashes ignored)
_MOBILE_RE = re.compile(r"^(?:\+92|0092|92|0)(3\d{9})$")


def normalize_pk_mobile(value: str) -> str:
    """Return the number as +923XXXXXXXXX, or raise ValidationError."""
    compact = re.sub(r"[\s\-()]", "", value or "")
    match = _MOBILE_RE.match(compact)
    if not match:
        raise ValidationError(
            _("Enter a Pakistani mobile number such as 0300-1234567 or +923001234567."),
            code="invalid_mobile",
        )
    return "+92" + match.group(1)


def validate_pk_mobile(value: str) -> None:
    normalize_pk_mobile(value)
