"""Issue 12, item 14: DEBUG off with the development SECRET_KEY never serves; load_demo needs
DEBUG or --force."""

import io
import os
import subprocess
import sys

import pytest
from django.conf import settings
from django.core.management import CommandError, call_command
from django.core.management.base import SystemCheckError

from marketplace.models import User

DEV_KEY = "django-insecure-dev-only-set-SECRET_KEY-in-production-0123456789abcdef"


def _run(*args: str, **env: str) -> subprocess.CompletedProcess:
    clean = {k: v for k, v in os.environ.items() if k not in {"SECRET_KEY", "DEBUG"}}
    return subprocess.run(
        [sys.executable, *args],
        cwd=settings.BASE_DIR,
        env={**clean, "DJANGO_SETTINGS_MODULE": "madeinpk.settings", **env},
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_system_checks_fail_with_debug_off_and_the_development_key(settings):
    settings.DEBUG = False
    settings.SECRET_KEY = DEV_KEY
    with pytest.raises(SystemCheckError, match=r"marketplace\.E001"):
        call_command("check")


def test_system_checks_pass_with_a_real_key(settings):
    settings.DEBUG = False
    settings.SECRET_KEY = "a-real-key-" + "x" * 50
    call_command("check")


def test_daphne_app_refuses_to_load_with_debug_off_and_the_development_key():
    result = _run("-c", "import madeinpk.asgi", DEBUG="0")
    assert result.returncode != 0
    assert "ImproperlyConfigured" in result.stderr
    assert "SECRET_KEY" in result.stderr


def test_daphne_app_loads_with_debug_on():
    result = _run("-c", "import madeinpk.asgi", DEBUG="1")
    assert result.returncode == 0, result.stderr


def test_qcluster_refuses_to_start_with_debug_off_and_the_development_key():
    result = _run("manage.py", "qcluster", DEBUG="0")
    assert result.returncode != 0
    assert "marketplace.E001" in result.stderr


@pytest.mark.django_db
def test_load_demo_refuses_with_debug_off(settings):
    settings.DEBUG = False
    with pytest.raises(CommandError, match="--force"):
        call_command("load_demo")
    assert not User.objects.filter(username="admin").exists()


@pytest.mark.django_db
def test_load_demo_runs_with_debug_on(settings, monkeypatch):
    settings.DEBUG = True
    monkeypatch.setattr(
        "marketplace.management.commands.load_demo.Command._listings", lambda self, sellers: 0
    )
    monkeypatch.setattr(
        "marketplace.management.commands.load_demo.Command._auctions", lambda self, s, b: None
    )
    monkeypatch.setattr(
        "marketplace.management.commands.load_demo.Command._queue_payouts_onboarding",
        lambda self: None,
    )
    call_command("load_demo", stdout=io.StringIO())
    assert User.objects.filter(username="admin", is_superuser=True).exists()


def test_makemigrations_check_runs_with_the_development_key_but_qcluster_does_not():
    result = _run("manage.py", "makemigrations", "--check", "--dry-run", DEBUG="0")
    assert result.returncode == 0, result.stderr
    assert "marketplace.E001" not in result.stderr
