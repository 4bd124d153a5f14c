"""How many photo-carrying posts a user may make in a window (issue 12: uploads cost CPU).

Counted from the rows themselves, so the limit holds across Daphne processes and restarts.
Asked by the views before a form decodes any photo.
"""

from datetime import timedelta

from django.conf import settings
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from marketplace.models import Complaint, Product, ReturnRequest, User


def _minutes(seconds: int) -> int:
    return max(1, round(seconds / 60))


def listing_limit_message(user: User) -> str | None:
    """Why `user` may not create another listing now, or None."""
    limit, window = settings.LISTING_RATE_LIMIT, settings.LISTING_RATE_WINDOW_SECONDS
    since = timezone.now() - timedelta(seconds=window)
    if Product.objects.filter(seller=user, created_at__gte=since).count() < limit:
        return None
    return ngettext(
        "You have created %(count)s listings in the last %(minutes)s minute: "
        "please wait before adding more.",
        "You have created %(count)s listings in the last %(minutes)s minutes: "
        "please wait before adding more.",
        _minutes(window),
    ) % {"count": limit, "minutes": _minutes(window)}


def complaint_photo_limit_message(user: User) -> str | None:
    """Why `user` may not attach another complaint photo now, or None."""
    limit = settings.COMPLAINT_PHOTO_RATE_LIMIT
    window = settings.COMPLAINT_PHOTO_RATE_WINDOW_SECONDS
    since = timezone.now() - timedelta(seconds=window)
    sent = Complaint.objects.filter(user=user, created_at__gte=since).exclude(photo="").count()
    if sent < limit:
        return None
    return _(
        "You have sent %(count)s complaint photos recently: please wait before sending another, "
        "or send the complaint without a photo."
    ) % {"count": limit}


def return_photo_limit_message(user: User) -> str | None:
    """Why `user` may not send another return with photos now, or None (the complaint photos'
    limit and window: both are a buyer's evidence, decoded at our cost)."""
    limit = settings.COMPLAINT_PHOTO_RATE_LIMIT
    window = settings.COMPLAINT_PHOTO_RATE_WINDOW_SECONDS
    since = timezone.now() - timedelta(seconds=window)
    sent = (
        ReturnRequest.objects.filter(order__buyer=user, created_at__gte=since, photos__isnull=False)
        .distinct()
        .count()
    )
    if sent < limit:
        return None
    return _(
        "You have sent %(count)s return requests with photos recently: please wait before "
        "sending more, or send this one without photos."
    ) % {"count": limit}
