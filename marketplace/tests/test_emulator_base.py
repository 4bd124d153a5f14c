"""The emulators' shared base (`emulator_base/`): the handler plumbing, the retrying sender,
and `python -m <emulator>` as the Procfile runs it."""

import json
import re
import subprocess
import sys
import threading
from pathlib import Path

import pytest

import courier_emulator.server
import jazzcash_emulator.server
import stripe_emulator.server
from emulator_base import EmulatorHandler, EmulatorServer, RetryingSender, serve_in_thread
from marketplace.tests.stripe_support import http

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize(
    "module", [stripe_emulator.server, jazzcash_emulator.server, courier_emulator.server]
)
def test_each_emulator_is_built_on_the_shared_base(module):
    assert issubclass(module.EmulatorServer, EmulatorServer)
    assert issubclass(module.Handler, EmulatorHandler)


class _Handler(EmulatorHandler):
    def dispatch(self, method, path, body):
        if path == "/boom":
            raise RuntimeError("a bug")
        if path == "/away":
            return self.send_redirect("/there")
        self.send_json(200, {"method": method, "path": path, "body": body})

    def crash_reply(self):
        return {"code": "E500"}

    def extra_headers(self):
        return {"X-Emulator": "yes"}


@pytest.fixture
def base_server():
    server, url = serve_in_thread(EmulatorServer(("127.0.0.1", 0), _Handler), "test-emulator")
    yield url
    server.close()


def test_the_handler_passes_method_path_and_body_and_adds_its_headers(base_server):
    status, headers, body = http("POST", f"{base_server}/thing/?x=1", data=b"a=b")
    assert status == 200
    assert json.loads(body) == {"method": "POST", "path": "/thing", "body": "a=b"}
    assert headers["X-Emulator"] == "yes"


def test_a_bug_is_answered_in_the_emulators_own_shape(base_server):
    status, _headers, body = http("DELETE", f"{base_server}/boom")
    assert (status, json.loads(body)) == (500, {"code": "E500"})


def test_a_redirect_is_a_303(base_server):
    status, headers, _body = http("GET", f"{base_server}/away")
    assert (status, headers["Location"]) == (303, "/there")


def test_the_sender_retries_until_delivered_then_stops():
    attempts = []
    done = threading.Event()

    class Sender(RetryingSender):
        def deliver(self, item, attempt):
            attempts.append((item, attempt))
            if attempt == 3:
                done.set()
            return attempt == 3

    sender = Sender(retry_delays=(0.01, 0.01, 0.01), name="test-sender")
    sender.start()
    sender.enqueue("event")
    assert done.wait(5)
    sender.stop()
    assert attempts == [("event", 1), ("event", 2), ("event", 3)]


@pytest.mark.parametrize(
    ("module", "options"),
    [
        ("stripe_emulator", ["--webhook-url", "", "--webhook-secret", "whsec_x"]),
        ("jazzcash_emulator", ["--ipn-url", ""]),
        ("courier_emulator", ["--callback-url", "", "--token", "t"]),
    ],
)
def test_python_m_serves_the_emulator_as_the_procfile_starts_it(module, options):
    process = subprocess.Popen(
        [sys.executable, "-m", module, "--port", "0", *options],
        cwd=ROOT,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        line = process.stderr.readline()
        assert line.startswith(f"{module.replace('_', '-')}: listening on http://127.0.0.1:")
        base_url = re.search(r"http://127\.0\.0\.1:\d+", line).group(0)
        status, _headers, body = http("GET", f"{base_url}/_emulator/state")
        assert status == 200
        assert json.loads(body)
    finally:
        process.terminate()
        process.wait(timeout=10)
        process.stderr.close()
