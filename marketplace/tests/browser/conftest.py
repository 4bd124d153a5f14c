"""Browser tests: Playwright drives Debian's Chromium against a real Daphne server.

How it works
- `live_url` (session): starts `daphne madeinpk.asgi:application` in a subprocess on a free
  port, with settings `marketplace.tests.live_settings` (the real ones plus the tests' fast
  password hasher, so users made by factories can log in), DEBUG=1 (static files served by whitenoise's finders) and pointed at the pytest
  test database: on PostgreSQL through DATABASE_URL (the `test_...` database), on SQLite through
  SQLITE_PATH (a file-based test database, see `django_db_modify_db_settings` in
  ../conftest.py). REDIS_URL is passed on, so with Redis the server and the tests share one
  channel layer. Its output goes to test-artifacts/daphne.log (daphne-gw0.log, ... under
  pytest-xdist: each worker starts its own server, emulators and Chromium).
- Every test in this folder is marked `browser` and
  `django_db(transaction=True, serialized_rollback=True)`: rows made in the test (factories,
  services) are committed, so Daphne sees them, and reference data is reloaded for each test.
  The ORM may be used directly inside sync Playwright tests (DJANGO_ALLOW_ASYNC_UNSAFE is set).
- pytest-playwright's `page` / `context` / `browser` fixtures work as usual; `base_url` is the
  live server, so `page.goto("/help/")` is enough. For a second user open another context:
  `other = browser.new_context(base_url=live_url); page2 = other.new_page()`.
- `stripe_emulator` (session): the local Stripe emulator the live server talks to (its
  webhooks are delivered to the live server); tests that call `marketplace.payments` from the
  test process set `settings.STRIPE_API_BASE = stripe_emulator.base_url`.
- `jazzcash_emulator` (session): the local JazzCash emulator the live server posts buyers to
  and asks about payments (its IPNs are delivered to the live server).
- `courier_emulator` (session): the local courier emulator, the same way (its callbacks go to
  the live server); `courier_settings` points the test process's settings at it.
- Chromium is /usr/bin/chromium with the flags from STACK.md. Missing Chromium fails the test
  under CI and skips it elsewhere.

Helpers
- `login(page, user, password=PASSWORD)`: logs in through the real login form
  (/accounts/login/, fields `username` and `password`) and checks it left the login page.
- `login_as(context, live_url, user)`: puts a session cookie in the context without using the
  form (fast set-up when the login form is not what the test is about).
- `screenshot` fixture: `screenshot(page, "browse")` saves
  test-artifacts/screenshots/<test name>/browse-desktop.png (1280x800) and browse-phone.png
  (360x740), full page, and returns both paths; the viewport is restored afterwards.
- `overflows_horizontally(page)`: True when the page is wider than the viewport.
- `move_on_courier_page(page, courier_emulator, tracking, "Delivered", ...)`: the courier
  moves a parcel on the emulator's page (its callbacks go to the live server).

A sketch of the end-to-end flow:

    def test_seller_lists_and_buyer_orders(page, browser, live_url, seller, buyer, screenshot):
        login(page, seller)
        page.goto("/sell/listings/new/")
        ...
        page.set_input_files("input[type=file]", "marketplace/data/demo_images/<file>.jpg")
        buyer_page = browser.new_context(base_url=live_url).new_page()
        login(buyer_page, buyer)
        ...
        screenshot(buyer_page, "order")
"""

import os
import re
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path
from urllib.parse import quote

import pytest
from django.conf import settings

from benchmarks._support import stop_with_parent
from marketplace.tests.conftest import PASSWORD, fail_in_ci_else_skip

# Playwright's sync API runs an event loop in this thread; Django would refuse ORM calls.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

CHROMIUM = Path(os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium"))
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--disable-sync",
]
ARTIFACTS = Path(settings.BASE_DIR) / "test-artifacts"
DESKTOP = {"width": 1280, "height": 800}
PHONE = {"width": 360, "height": 740}
HERE = Path(__file__).resolve().parent


def pytest_collection_modifyitems(items):
    for item in items:
        if HERE in Path(item.path).resolve().parents:
            item.add_marker(pytest.mark.browser)
            if item.get_closest_marker("django_db") is None:
                item.add_marker(pytest.mark.django_db(transaction=True, serialized_rollback=True))


@pytest.fixture(scope="session", autouse=True)
def _serialized_contents_for_every_connection_object(django_db_setup) -> None:
    """Let `serialized_rollback` find the migrated data on any connection object.

    Once Playwright's sync API runs, test code runs in another context and `connections`
    hands out a new connection object without the `_test_serialized_contents` Django stored
    at set-up, so `serialized_rollback` would silently reload nothing and reference data
    (cities, categories) would be gone after the first flush. This captures the contents
    before Playwright starts (session autouse fixtures come first) and puts them on the
    backend class, where every new connection object finds them (one database alias).
    """
    from django.db import connections

    contents = getattr(connections["default"], "_test_serialized_contents", None)
    if contents is not None:
        type(connections["default"])._test_serialized_contents = contents


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _database_env() -> dict[str, str]:
    db = settings.DATABASES["default"]
    if db["ENGINE"].endswith("sqlite3"):
        name = str(db["NAME"])
        if name == ":memory:" or "mode=memory" in name:
            pytest.fail("The SQLite test database is in memory; Daphne cannot open it.")
        return {"SQLITE_PATH": name, "DATABASE_URL": ""}
    user = quote(db.get("USER") or "", safe="")
    password = quote(db.get("PASSWORD") or "", safe="")
    credentials = f"{user}:{password}@" if password else (f"{user}@" if user else "")
    host = db.get("HOST") or "127.0.0.1"
    port = db.get("PORT") or "5432"
    return {"DATABASE_URL": f"postgres://{credentials}{host}:{port}/{quote(db['NAME'])}"}


def _wait_until_serving(url: str, process: subprocess.Popen, log: Path) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"Daphne exited with {process.returncode}:\n{log.read_text()[-3000:]}")
        try:
            with urllib.request.urlopen(f"{url}/help/", timeout=2):  # noqa: S310
                return
        except urllib.error.HTTPError:
            return  # it answers: good enough
        except OSError:
            time.sleep(0.1)
    pytest.fail(f"Daphne did not answer within 30 s:\n{log.read_text()[-3000:]}")


@pytest.fixture(scope="session")
def stripe_emulator():
    """The local Stripe emulator, for the live server (its webhooks go to the live server once
    it runs). Tests that call the payments module themselves point settings at it."""
    from stripe_emulator import start_emulator

    server, _base_url = start_emulator(port=0, webhook_secret=STRIPE_WEBHOOK_SECRET)
    yield server
    server.close()


STRIPE_WEBHOOK_SECRET = "whsec_browser_tests"
COURIER_TOKEN = "browser-courier-token"
COURIER_SECRET = "browser-courier-secret"


@pytest.fixture(scope="session")
def jazzcash_emulator():
    """The local JazzCash emulator, for the live server (its IPNs go to the live server once it
    runs). Tests that call the payments module themselves use the `jazzcash` fixture's settings."""
    from jazzcash_emulator import start_emulator
    from marketplace.tests.jazzcash_support import MERCHANT_ID, PASSWORD, SALT

    server, _base_url = start_emulator(
        port=0, merchant_id=MERCHANT_ID, password=PASSWORD, salt=SALT
    )
    yield server
    server.close()


@pytest.fixture(scope="session")
def courier_emulator():
    """The local courier emulator (PostEx's shape) the live server books parcels with; its
    callbacks go to the live server. Tests calling the courier services themselves point
    settings at it (`courier_settings`)."""
    from courier_emulator import start_emulator

    server, _base_url = start_emulator(
        token=COURIER_TOKEN, callback_secret=COURIER_SECRET, retry_delays=(0.5, 1)
    )
    yield server
    server.close()


@pytest.fixture
def courier_settings(settings, courier_emulator):
    settings.COURIER_API_BASE = courier_emulator.base_url
    settings.COURIER_API_TOKEN = COURIER_TOKEN
    settings.COURIER_WEBHOOK_SECRET = COURIER_SECRET
    return settings


@pytest.fixture(scope="session")
def live_url(
    django_db_setup, tmp_path_factory, stripe_emulator, jazzcash_emulator, courier_emulator
) -> str:
    """Base URL of a Daphne server on the test database (no trailing slash)."""
    port = _free_port()
    ARTIFACTS.mkdir(exist_ok=True)
    # One server per pytest-xdist worker (gw0, gw1, ...), each with its own log.
    worker = os.environ.get("PYTEST_XDIST_WORKER")
    log = ARTIFACTS / (f"daphne-{worker}.log" if worker else "daphne.log")
    env = {
        **os.environ,
        **_database_env(),
        "DJANGO_SETTINGS_MODULE": "marketplace.tests.live_settings",
        "DEBUG": "1",
        "MEDIA_ROOT": str(tmp_path_factory.mktemp("live-media")),
        # Return and complaint photos: not into the checkout's private_media/.
        "PRIVATE_MEDIA_ROOT": str(tmp_path_factory.mktemp("live-private-media")),
        "PYTHONUNBUFFERED": "1",
        "STRIPE_API_BASE": stripe_emulator.base_url,
        "STRIPE_SECRET_KEY": "sk_test_browser",
        "STRIPE_WEBHOOK_SECRET": STRIPE_WEBHOOK_SECRET,
        **_jazzcash_env(jazzcash_emulator),
        "COURIER_API_BASE": courier_emulator.base_url,
        "COURIER_API_TOKEN": COURIER_TOKEN,
        "COURIER_WEBHOOK_SECRET": COURIER_SECRET,
        "COURIER_TRACKING_URL": "",
    }
    command = [sys.executable, "-m", "daphne", "-b", "127.0.0.1", "-p", str(port)]
    with log.open("w") as output:
        process = subprocess.Popen(
            [*command, "madeinpk.asgi:application"],
            cwd=settings.BASE_DIR,
            env=env,
            stdout=output,
            stderr=subprocess.STDOUT,
            preexec_fn=stop_with_parent,  # not left serving if pytest-timeout ends the worker
        )
    url = f"http://127.0.0.1:{port}"
    stripe_emulator.webhooks.url = f"{url}/stripe/webhook/"
    jazzcash_emulator.ipn_url = f"{url}/payments/jazzcash/ipn/"
    courier_emulator.callbacks.url = f"{url}/couriers/postex/callback/"
    try:
        _wait_until_serving(url, process, log)
        yield url
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def _jazzcash_env(server) -> dict:
    from marketplace.tests.jazzcash_support import MERCHANT_ID, PASSWORD, SALT

    return {
        "JAZZCASH_BASE_URL": server.base_url,
        "JAZZCASH_MERCHANT_ID": MERCHANT_ID,
        "JAZZCASH_PASSWORD": PASSWORD,
        "JAZZCASH_INTEGRITY_SALT": SALT,
    }


@pytest.fixture(scope="session")
def base_url(live_url) -> str:
    return live_url


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args):
    if not CHROMIUM.exists():
        fail_in_ci_else_skip(f"Chromium not found at {CHROMIUM}")
    return {**browser_type_launch_args, "executable_path": str(CHROMIUM), "args": CHROMIUM_ARGS}


@pytest.fixture(scope="session")
def browser_context_args(browser_context_args):
    return {**browser_context_args, "viewport": DESKTOP, "locale": "en-GB"}


def login(page, user, password: str = PASSWORD) -> None:
    """Log in through the real login form and wait until the site has let us in."""
    page.goto("/accounts/login/")
    form = page.locator("form").filter(has=page.locator("input[name=password]"))
    form.locator("input[name=username]").fill(user.username)
    form.locator("input[name=password]").fill(password)
    form.locator("[type=submit]").first.click()
    page.wait_for_url(lambda url: "/accounts/login/" not in url)


def login_as(context, live_url: str, user) -> None:
    """Give a browser context a logged-in session for `user` without the login form."""
    from django.test import Client

    client = Client()
    client.force_login(user)
    cookie = client.cookies[settings.SESSION_COOKIE_NAME]
    context.add_cookies([{"name": cookie.key, "value": cookie.value, "url": live_url}])


def move_on_courier_page(page, courier_emulator, tracking: str, *buttons: str) -> None:
    """Click the courier emulator's own page through `buttons` (statuses) for one parcel; each
    click makes the emulator call the live server back."""
    from playwright.sync_api import expect

    page.goto(courier_emulator.base_url + "/")
    row = page.locator(f"#parcel-{tracking}")
    for button in buttons:
        row.get_by_role("button", name=button).click()
        expect(row.locator(".status")).to_have_text(button)


def overflows_horizontally(page) -> bool:
    return page.evaluate(
        "document.documentElement.scrollWidth > document.documentElement.clientWidth"
    )


@pytest.fixture
def screenshot(request):
    """`screenshot(page, name)`: full-page PNGs at desktop and phone width; returns the paths."""
    folder = ARTIFACTS / "screenshots" / re.sub(r"[^\w.-]+", "_", request.node.name)

    def take(page, name: str, *, full_page: bool = True) -> list[Path]:
        folder.mkdir(parents=True, exist_ok=True)
        original = page.viewport_size
        paths = []
        for label, size in (("desktop", DESKTOP), ("phone", PHONE)):
            page.set_viewport_size(size)
            path = folder / f"{name}-{label}.png"
            page.screenshot(path=str(path), full_page=full_page)
            paths.append(path)
        if original:
            page.set_viewport_size(original)
        return paths

    return take
