"""Make time pass for django-axes' stored attempts, as the clock would."""

from datetime import timedelta

from axes.models import AccessAttempt, AccessAttemptExpiration, AccessFailureLog
from django.db.models import F


def time_passes(*, seconds: int) -> None:
    delta = timedelta(seconds=seconds)
    AccessAttempt.objects.update(attempt_time=F("attempt_time") - delta)
    AccessAttemptExpiration.objects.update(expires_at=F("expires_at") - delta)
    AccessFailureLog.objects.update(attempt_time=F("attempt_time") - delta)
