"""System checks that keep an unsafe configuration from serving."""

import sys
from pathlib import Path

from django.conf import settings
from django.core import checks
from django.core.exceptions import ImproperlyConfigured

INSECURE_PREFIX = "django-insecure-"
# Commands that build or inspect, never serve: they may run with the development key (CI's
# `makemigrations --check`, a release step's `migrate`). Serving ones (runserver, qcluster,
# `check`) and Daphne (refuse_insecure_start) still refuse it.
NON_SERVING_COMMANDS = {
    "collectstatic",
    "compilemessages",
    "makemessages",
    "makemigrations",
    "migrate",
    "setup_schedules",
    "showmigrations",
}


def insecure_secret_key_message() -> str | None:
    """Why this configuration must not serve, or None when it may."""
    if settings.DEBUG or not settings.SECRET_KEY.startswith(INSECURE_PREFIX):
        return None
    return (
        "DEBUG is off but SECRET_KEY is the development key: anyone could forge sessions and "
        "password-reset links. Set SECRET_KEY to a long random value (or DEBUG=1 to develop)."
    )


@checks.register(checks.Tags.security)
def check_secret_key(app_configs=None, **kwargs) -> list[checks.CheckMessage]:
    # An Error, not --deploy's warning: runserver and qcluster stop on it.
    if (
        Path(sys.argv[0]).name == "manage.py"
        and sys.argv[1:2]
        and sys.argv[1] in NON_SERVING_COMMANDS
    ):
        return []
    message = insecure_secret_key_message()
    return [checks.Error(message, id="marketplace.E001")] if message else []


def refuse_insecure_start() -> None:
    """Raise ImproperlyConfigured for Daphne, which runs no system checks."""
    message = insecure_secret_key_message()
    if message:
        raise ImproperlyConfigured(message)
