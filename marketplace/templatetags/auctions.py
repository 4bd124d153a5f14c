"""Auction display helpers: `{{ auction.ends_at|time_left }}` renders "5 minutes", "2 days"."""

from datetime import datetime

from django import template
from django.utils import timezone
from django.utils.timesince import timeuntil

register = template.Library()


@register.filter
def time_left(value: datetime | None) -> str:
    """The largest unit only, short enough for a card on a phone ("0 minutes" once past)."""
    if not value:
        return ""
    return timeuntil(value, timezone.now(), depth=1)
