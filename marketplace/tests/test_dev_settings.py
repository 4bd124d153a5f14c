"""Issue 13, item 12: `HOST=0.0.0.0 make run` is reachable by this machine's names without
setting ALLOWED_HOSTS; `make run` serves collected, compressed static files."""

import json
import os
import socket
import subprocess
import sys

import pytest
from django.conf import settings

ANY = "0.0.0.0"  # noqa: S104 (the HOST value under test; nothing is bound)
SHOW = (
    "import json, madeinpk.settings as s; print(json.dumps({'hosts': s.ALLOWED_HOSTS, "
    "'source': s.STATIC_FROM_SOURCE, 'finders': s.WHITENOISE_USE_FINDERS, "
    "'storage': s.STORAGES['staticfiles']['BACKEND']}))"
)


def settings_with(**env) -> dict:
    clean = {k: v for k, v in os.environ.items() if k not in {"ALLOWED_HOSTS", "HOST", "DEBUG"}}
    clean.pop("STATIC_FROM_SOURCE", None)
    result = subprocess.run(
        [sys.executable, "-c", SHOW],
        env={**clean, **env},
        cwd=settings.BASE_DIR,
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )
    return json.loads(result.stdout)


def test_development_on_all_interfaces_allows_this_machines_names():
    hosts = settings_with(DEBUG="1", HOST=ANY)["hosts"]

    assert {"localhost", "127.0.0.1", socket.gethostname()} <= set(hosts)
    assert "*" not in hosts


@pytest.mark.parametrize(
    ("env", "expected"),
    [
        ({"DEBUG": "1", "HOST": "127.0.0.1"}, ["localhost", "127.0.0.1", "[::1]"]),
        ({"DEBUG": "0", "HOST": ANY}, ["localhost", "127.0.0.1", "[::1]"]),
        ({"DEBUG": "1", "HOST": ANY, "ALLOWED_HOSTS": "madeinpk.example"}, ["madeinpk.example"]),
    ],
)
def test_names_are_added_only_in_development_on_all_interfaces_without_a_setting(env, expected):
    assert settings_with(**env)["hosts"] == expected


def test_development_serves_static_from_source_unless_make_run_collected_them():
    assert settings_with(DEBUG="1")["source"] is True
    collected = settings_with(DEBUG="1", STATIC_FROM_SOURCE="0")
    assert collected["finders"] is False
    assert collected["storage"] == "whitenoise.storage.CompressedManifestStaticFilesStorage"
    assert settings_with(DEBUG="0")["source"] is False


def test_make_run_collects_static_files_and_serves_them_collected():
    makefile = (settings.BASE_DIR / "Makefile").read_text()

    assert "run: setup $(STATIC_MANIFEST)" in makefile
    assert "STATIC_FROM_SOURCE=0 $(PY) manage.py collectstatic --noinput" in makefile
    assert "STATIC_FROM_SOURCE=$${STATIC_FROM_SOURCE:-0}" in makefile
