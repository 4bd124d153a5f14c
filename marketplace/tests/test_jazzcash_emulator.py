"""The local JazzCash emulator: its refusals, its IPN retries, its inquiry and refund APIs."""

import json
import threading
from datetime import timedelta
from decimal import Decimal
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from django.utils import timezone

from jazzcash_emulator import start_emulator
from marketplace.payments.base import LineItem
from marketplace.payments.jazzcash_provider import JazzCashProvider, hash_is_valid
from marketplace.tests.jazzcash_support import (
    MERCHANT_ID,
    PASSWORD,
    SALT,
    choose,
    post_merchant_form,
)
from marketplace.tests.stripe_support import http, wait_until


class IpnListener:
    """Answers the first `failures` IPNs with 503, then JazzCash's 000."""

    def __init__(self, failures: int) -> None:
        self.received: list[dict] = []
        listener = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers["Content-Length"]))
                listener.received.append(json.loads(body))
                ok = len(listener.received) > failures
                answer = json.dumps({"pp_ResponseCode": "000" if ok else "199"}).encode()
                self.send_response(200 if ok else 503)
                self.send_header("Content-Length", str(len(answer)))
                self.end_headers()
                self.wfile.write(answer)

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/ipn/"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def listener():
    listener = IpnListener(failures=2)
    yield listener
    listener.close()


@pytest.fixture
def emulator(listener):
    server, _url = start_emulator(
        port=0,
        merchant_id=MERCHANT_ID,
        password=PASSWORD,
        salt=SALT,
        ipn_url=listener.url,
        retry_delays=(0.05, 0.05, 0.05),
    )
    yield server
    server.close()


def provider_for(server) -> JazzCashProvider:
    return JazzCashProvider(
        merchant_id=MERCHANT_ID, password=PASSWORD, salt=SALT, base_url=server.base_url
    )


def request_fields(server, ref: str = "T100", amount: str = "150000") -> dict:
    page = provider_for(server).create_checkout_session(
        reference=ref,
        line_items=[LineItem(name="Vase", unit_amount=Decimal(amount) / 100, quantity=1)],
        currency="PKR",
        success_url="http://shop.test/back/",
        cancel_url="http://shop.test/back/",
        metadata={},
        customer_email=None,
        expires_at=timezone.now() + timedelta(hours=1),
        idempotency_key="k",
    )
    return page.form_fields


def test_the_ipn_is_retried_until_the_merchant_answers_000(emulator, listener):
    fields = request_fields(emulator)
    post_merchant_form(emulator, fields)
    choose(emulator, fields["pp_TxnRefNo"], "000")

    wait_until(lambda: len(listener.received) == 3)

    assert [entry["status"] for entry in emulator.ipn_log] == [503, 503, 200]
    assert all(hash_is_valid(notice, SALT) for notice in listener.received)
    assert {notice["pp_ResponseCode"] for notice in listener.received} == {"000"}


@pytest.mark.parametrize(
    ("change", "code"),
    [
        ({"pp_Password": "wrong"}, "101"),
        ({"pp_Amount": "1"}, "115"),  # changed after signing
    ],
)
def test_the_merchant_form_refuses_bad_credentials_and_altered_fields(emulator, change, code):
    fields = {**request_fields(emulator), **change}

    back = post_merchant_form(emulator, fields)

    assert f'name="pp_ResponseCode" value="{code}"' in back


def test_a_reference_cannot_be_used_twice(emulator):
    fields = request_fields(emulator)
    post_merchant_form(emulator, fields)

    back = post_merchant_form(emulator, fields)

    assert 'name="pp_ResponseCode" value="110"' in back


def test_inquiry_and_refund_answer_with_the_payment_state(emulator):
    provider = provider_for(emulator)
    fields = request_fields(emulator)
    post_merchant_form(emulator, fields)
    ref = fields["pp_TxnRefNo"]
    assert provider.retrieve_checkout_session(ref).status == "open"  # buyer still on the page
    choose(emulator, ref, "000")

    session = provider.retrieve_checkout_session(ref)
    refund = provider.create_refund(
        charge_or_intent=ref, amount=session.amount_total, idempotency_key="r", metadata={}
    )

    assert (session.is_paid, str(session.amount_total)) == (True, "1500.00")
    assert refund.status == "succeeded"
    assert provider.retrieve_checkout_session(ref).response_code == "131"


def test_the_apis_refuse_a_request_signed_with_another_salt(emulator):
    body = {"pp_TxnRefNo": "T1", "pp_MerchantID": MERCHANT_ID, "pp_Password": PASSWORD}
    body["pp_SecureHash"] = "00" * 32
    status, _headers, answer = http(
        "POST",
        emulator.base_url + "/ApplicationAPI/API/PaymentInquiry/Inquire",
        json.dumps(body).encode(),
    )

    assert status == 200
    assert json.loads(answer)["pp_ResponseCode"] == "115"
