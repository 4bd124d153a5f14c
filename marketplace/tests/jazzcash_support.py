"""The JazzCash emulator in tests: start it, walk its pages as a browser would, sign callbacks."""

import html
import re
from urllib.parse import urlencode

import pytest

from jazzcash_emulator import start_emulator
from marketplace.payments.jazzcash_provider import secure_hash
from marketplace.tests.stripe_support import http

MERCHANT_ID = "MC12345"
PASSWORD = "pa55word"
SALT = "0F5DD14AE2"


@pytest.fixture
def jazzcash(settings):
    """The JazzCash emulator in-process (no IPN: tests post callbacks themselves)."""
    server, base_url = start_emulator(
        port=0, merchant_id=MERCHANT_ID, password=PASSWORD, salt=SALT, retry_delays=(0.05,)
    )
    settings.JAZZCASH_BASE_URL = base_url
    settings.JAZZCASH_MERCHANT_ID = MERCHANT_ID
    settings.JAZZCASH_PASSWORD = PASSWORD
    settings.JAZZCASH_INTEGRITY_SALT = SALT
    yield server
    server.close()


def hidden_inputs(page: str) -> dict:
    return {
        html.unescape(name): html.unescape(value)
        for name, value in re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)">', page)
    }


def post_merchant_form(server, fields: dict) -> str:
    """The browser posts the signed request to the merchant form; the page JazzCash shows."""
    url = server.base_url + "/CustomerPortal/transactionmanagement/merchantform/"
    status, _headers, body = http("POST", url, urlencode(fields).encode())
    assert status == 200, body
    return body.decode()


def choose(server, ref: str, code: str) -> dict:
    """The tester picks an outcome on the emulator's page: the fields posted back to us."""
    url = f"{server.base_url}/CustomerPortal/transactionmanagement/merchantform/{ref}/choose"
    status, _headers, body = http("POST", url, urlencode({"code": code}).encode())
    assert status == 200, body
    return hidden_inputs(body.decode())


def pay_at_jazzcash(server, fields: dict, code: str = "000") -> dict:
    post_merchant_form(server, fields)
    return choose(server, fields["pp_TxnRefNo"], code)


def signed(fields: dict, salt: str = SALT) -> dict:
    """Fields as JazzCash would sign them (uppercase hex, as its own samples send)."""
    return {**fields, "pp_SecureHash": secure_hash(fields, salt).upper()}
