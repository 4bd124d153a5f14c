"""HTTP server: the merchant form and its checkout page, the JSON APIs, /_emulator (test control).

Transactions live in memory, keyed by pp_TxnRefNo. The tester's choice on the checkout page
sets the response code; a pending payment (157) is settled later through
`POST /_emulator/txns/<ref>/complete` (form `code=000` or a failure code), which sends the IPN
again, as JazzCash does for payments that do not complete at once.
"""

import html
import json
import logging
import random
import re
import threading
import time
from datetime import datetime, timedelta, timezone
from urllib.parse import parse_qsl

from emulator_base import EmulatorHandler, RetryingSender, post, serve_in_thread
from emulator_base import EmulatorServer as BaseServer
from jazzcash_emulator.signing import hash_matches, secure_hash

log = logging.getLogger("jazzcash_emulator")

FORM_PATH = "/CustomerPortal/transactionmanagement/merchantform"
INQUIRY_PATH = "/ApplicationAPI/API/PaymentInquiry/Inquire"
REFUND_PATH = "/ApplicationAPI/API/Purchase/domwalletrefundtransaction"
PAKISTAN = timezone(timedelta(hours=5))

MESSAGES = {
    "000": "Thank you for Using JazzCash, your transaction was successful.",
    "121": "Transaction has been marked confirmed by Merchant.",
    "124": "Order is placed and waiting for financials to be received over the counter.",
    "157": "Transaction is pending. (Please complete the payment.)",
    "112": "Transaction cancelled by user.",
    "115": "Please provide valid value for secure hash.",
    "116": "Transaction has expired.",
    "110": "Please provide valid value for a field.",
    "101": "Invalid merchant credentials.",
    "004": "Your account does not have sufficient balance.",
    "199": "System error.",
    "131": "Transaction refunded.",
}
# The outcomes the checkout page offers: (code, button label).
OUTCOMES = [
    ("000", "Pay (success)"),
    ("157", "Leave pending"),
    ("004", "Low balance"),
    ("199", "Fail (system error)"),
    ("116", "Let it expire"),
    ("112", "Cancel"),
]
FORBIDDEN_IN_DESCRIPTION = set("<>\\*=%/:'|\"{}")
ECHOED = (
    "pp_Version",
    "pp_TxnType",
    "pp_Language",
    "pp_MerchantID",
    "pp_SubMerchantID",
    "pp_BankID",
    "pp_ProductID",
    "pp_TxnRefNo",
    "pp_Amount",
    "pp_TxnCurrency",
    "pp_TxnDateTime",
    "pp_BillReference",
    "pp_Description",
    "pp_TxnExpiryDateTime",
    "ppmpf_1",
    "ppmpf_2",
    "ppmpf_3",
    "ppmpf_4",
    "ppmpf_5",
)


def _karachi(value: str) -> datetime | None:
    try:
        return datetime.strptime(value, "%Y%m%d%H%M%S").replace(tzinfo=PAKISTAN)
    except ValueError:
        return None


def invalid_field(fields: dict) -> str | None:
    """The first request field JazzCash would refuse with 110, or None."""
    if not re.fullmatch(r"[A-Za-z0-9]{1,20}", fields.get("pp_TxnRefNo", "")):
        return "pp_TxnRefNo"
    if not re.fullmatch(r"[1-9][0-9]*", fields.get("pp_Amount", "")):
        return "pp_Amount"
    if fields.get("pp_TxnCurrency") != "PKR":
        return "pp_TxnCurrency"
    if fields.get("pp_TxnType") not in {"MWALLET", "MPAY", "OTC"}:
        return "pp_TxnType"
    start = _karachi(fields.get("pp_TxnDateTime", ""))
    expiry = _karachi(fields.get("pp_TxnExpiryDateTime", ""))
    if start is None or expiry is None or not start < expiry <= start + timedelta(days=92):
        return "pp_TxnExpiryDateTime"
    description = fields.get("pp_Description", "")
    if not description or len(description) > 200 or FORBIDDEN_IN_DESCRIPTION & set(description):
        return "pp_Description"
    if len(fields.get("pp_BillReference", "")) > 20 or not fields.get("pp_BillReference"):
        return "pp_BillReference"
    if not fields.get("pp_ReturnURL") or len(fields["pp_ReturnURL"]) > 200:
        return "pp_ReturnURL"
    return None


class IpnSender(RetryingSender):
    """Posts a transaction's signed result to the merchant's IPN URL until it answers
    JazzCash's 000 (JazzCash retries an unanswered IPN three times, with a delay)."""

    def __init__(self, server: "EmulatorServer", retry_delays: tuple[float, ...]) -> None:
        super().__init__(retry_delays=retry_delays, name="jazzcash-ipn")
        self.server = server

    def deliver(self, ref: str, attempt: int) -> bool:
        server = self.server
        with server.lock:
            body = json.dumps(server.response_fields(server.txns[ref]))
            code = server.txns[ref]["code"]
        status, error, answer = post(
            server.ipn_url, body, {"Content-Type": "application/json"}, timeout=15
        )
        try:
            accepted = json.loads(answer).get("pp_ResponseCode") == "000"
        except (ValueError, AttributeError):
            accepted = False
        with server.lock:
            server.ipn_log.append(
                {"ref": ref, "code": code, "status": status or 0, "answer": answer or error}
            )
        return accepted


class EmulatorServer(BaseServer):
    def __init__(
        self,
        address,
        *,
        merchant_id: str = "MC00001",
        password: str = "emulator",  # noqa: S107 (the emulator's own test credentials)
        salt: str = "emulatorsalt",
        ipn_url: str = "",
        retry_delays: tuple[float, ...] = (1, 5, 30),
    ):
        super().__init__(address, Handler)
        self.merchant_id, self.password, self.salt = merchant_id, password, salt
        self.ipn_url = ipn_url
        self.lock = threading.Lock()
        self.txns: dict[str, dict] = {}
        self.ipn_log: list[dict] = []  # every delivery attempt: {ref, code, status, answer}
        self.sender = IpnSender(self, retry_delays)

    def sends_to(self) -> str:
        return f"IPN to {self.ipn_url or '(none)'}"

    # --- state changes (caller holds self.lock) ------------------------------------------------
    def signed(self, fields: dict) -> dict:
        return {**fields, "pp_SecureHash": secure_hash(fields, self.salt)}

    def response_fields(self, txn: dict) -> dict:
        code = txn["code"]
        fields = {name: txn["request"].get(name, "") for name in ECHOED}
        fields.update(
            pp_ResponseCode=code,
            pp_ResponseMessage=MESSAGES.get(code, "Transaction failed."),
            pp_RetreivalReferenceNo=txn["rrn"] if code in {"000", "121", "131"} else "",
            pp_AuthCode=txn["rrn"][-6:] if code in {"000", "121"} else "",
            pp_SettlementExpiry="",
            pp_MobileNumber="03001234567",
            pp_CNIC="345678",
        )
        return self.signed(fields)

    def settle(self, txn: dict, code: str) -> None:
        txn["code"] = code
        txn["settled_at"] = time.time()
        if self.ipn_url:
            self.sender.enqueue(txn["request"]["pp_TxnRefNo"])


class Handler(EmulatorHandler):
    server: EmulatorServer
    server_version = "jazzcash-emulator"
    logger = log
    json_indent = None

    def dispatch(self, method: str, path: str, body: str) -> None:
        server = self.server
        try:
            with server.lock:
                if method == "POST" and path == FORM_PATH:
                    return self._merchant_form(dict(parse_qsl(body, keep_blank_values=True)))
                if method == "POST" and (match := re.fullmatch(FORM_PATH + r"/(\w+)/choose", path)):
                    return self._choose(match.group(1), dict(parse_qsl(body)))
                if method == "POST" and path == INQUIRY_PATH:
                    return self.send_json(200, self._inquire(json.loads(body or "{}")))
                if method == "POST" and path == REFUND_PATH:
                    return self.send_json(200, self._refund(json.loads(body or "{}")))
                if path.startswith("/_emulator/"):
                    return self._control(method, path, dict(parse_qsl(body)))
            self.send_html(404, "<h1>Not found</h1>")
        except ValueError:
            self.send_json(400, {"pp_ResponseCode": "110", "pp_ResponseMessage": "Bad request."})

    def crash_reply(self) -> dict:
        return {"pp_ResponseCode": "199", "pp_ResponseMessage": "System error."}

    # --- the hosted checkout ------------------------------------------------------------------
    def _merchant_form(self, fields: dict) -> None:
        server = self.server
        return_url = fields.get("pp_ReturnURL", "")
        ref = fields.get("pp_TxnRefNo", "")
        code = None
        if (fields.get("pp_MerchantID"), fields.get("pp_Password")) != (
            server.merchant_id,
            server.password,
        ):
            code = "101"
        elif not hash_matches(fields, server.salt):
            code = "115"
        elif invalid_field(fields) or ref in server.txns:
            code = "110"
        elif _karachi(fields["pp_TxnExpiryDateTime"]) <= datetime.now(PAKISTAN):
            code = "116"
        if code is not None:
            txn = {"request": fields, "code": code, "rrn": ""}
            if ref and ref not in server.txns and code != "110":
                server.txns[ref] = txn
            if not return_url:
                return self.send_html(400, f"<h1>Refused ({code})</h1>")
            return self.send_html(200, self._return_page(return_url, server.response_fields(txn)))
        server.txns[ref] = {
            "request": fields,
            "code": None,  # the tester has not chosen yet
            "rrn": str(random.randint(10**11, 10**12 - 1)),
            "refunded": 0,
        }
        self.send_html(200, self._checkout_page(ref, fields))

    def _choose(self, ref: str, form: dict) -> None:
        server = self.server
        txn = server.txns.get(ref)
        code = form.get("code", "")
        if txn is None or txn["code"] is not None or code not in dict(OUTCOMES):
            return self.send_html(409, "<h1>This payment was already decided.</h1>")
        server.settle(txn, code)
        page = self._return_page(txn["request"]["pp_ReturnURL"], server.response_fields(txn))
        self.send_html(200, page)

    def _checkout_page(self, ref: str, fields: dict) -> str:
        amount = int(fields["pp_Amount"]) / 100
        buttons = "".join(
            f'<button name="code" value="{code}" class="{"pay" if code == "000" else ""}">'
            f"{html.escape(label)}</button> "
            for code, label in OUTCOMES
        )
        return _page(
            "JazzCash (emulator)",
            f"""<h1>JazzCash <small>emulator</small></h1>
<p>Merchant <b>{html.escape(fields["pp_MerchantID"])}</b> asks for
<b>Rs {amount:,.2f}</b> ({html.escape(fields.get("pp_Description", ""))}).</p>
<p>Reference {html.escape(ref)} · bill {html.escape(fields.get("pp_BillReference", ""))}</p>
<form method="post" action="{FORM_PATH}/{html.escape(ref)}/choose">
<label>Mobile account <input name="mobile" value="03001234567"></label>
<label>CNIC (last 6) <input name="cnic" value="345678"></label>
<p>{buttons}</p></form>""",
        )

    @staticmethod
    def _return_page(return_url: str, fields: dict) -> str:
        inputs = "".join(
            f'<input type="hidden" name="{html.escape(k)}" value="{html.escape(str(v))}">'
            for k, v in fields.items()
        )
        return _page(
            "Returning to the merchant",
            f"""<p>Result {html.escape(fields["pp_ResponseCode"])}:
{html.escape(fields["pp_ResponseMessage"])}</p>
<form id="back" method="post" action="{html.escape(return_url)}">{inputs}
<button>Return to the merchant</button></form>
<script>document.getElementById("back").submit();</script>""",
        )

    # --- APIs ---------------------------------------------------------------------------------
    def _credentials_refusal(self, body: dict, names: tuple[str, ...]) -> dict | None:
        server = self.server
        if (body.get("pp_MerchantID"), body.get("pp_Password")) != (
            server.merchant_id,
            server.password,
        ):
            return {"pp_ResponseCode": "101", "pp_ResponseMessage": MESSAGES["101"]}
        signed = {name: str(body.get(name, "")) for name in names}
        signed["pp_SecureHash"] = str(body.get("pp_SecureHash", ""))
        if not hash_matches(signed, server.salt):
            return {"pp_ResponseCode": "115", "pp_ResponseMessage": MESSAGES["115"]}
        return None

    def _inquire(self, body: dict) -> dict:
        server = self.server
        refusal = self._credentials_refusal(body, ("pp_TxnRefNo", "pp_MerchantID", "pp_Password"))
        if refusal:
            return server.signed(refusal)
        txn = server.txns.get(str(body.get("pp_TxnRefNo", "")))
        if txn is None:
            # Live JazzCash's code for an unknown reference is not documented; 110 stands in.
            return server.signed({"pp_ResponseCode": "110", "pp_ResponseMessage": "No such txn."})
        code = txn["code"]
        if code is None:
            # The buyer is still on the checkout page: pending, as far as JazzCash knows.
            code = "157"
        status = (
            "Completed"
            if code in {"000", "121"}
            else "Pending"
            if code in {"124", "157"}
            else "Refunded"
            if code == "131"
            else "Failed"
        )
        return server.signed(
            {
                "pp_ResponseCode": "000",
                "pp_ResponseMessage": "Operation completed successfully.",
                "pp_PaymentResponseCode": code,
                "pp_PaymentResponseMessage": MESSAGES.get(code, "Transaction failed."),
                "pp_Status": status,
                "pp_TxnRefNo": txn["request"]["pp_TxnRefNo"],
                "pp_Amount": txn["request"]["pp_Amount"],
                "pp_RetreivalReferenceNo": txn["rrn"] if code in {"000", "121", "131"} else "",
                "pp_SettlementExpiry": "",
            }
        )

    def _refund(self, body: dict) -> dict:
        server = self.server
        names = ("pp_TxnRefNo", "pp_Amount", "pp_TxnCurrency", "pp_MerchantID", "pp_Password")
        names += ("pp_MerchantMPIN",) if body.get("pp_MerchantMPIN") else ()
        refusal = self._credentials_refusal(body, names)
        if refusal:
            return server.signed(refusal)
        txn = server.txns.get(str(body.get("pp_TxnRefNo", "")))
        amount = str(body.get("pp_Amount", ""))
        if txn is None or txn["code"] not in {"000", "121", "131"}:
            return server.signed({"pp_ResponseCode": "110", "pp_ResponseMessage": "Not paid."})
        paid = int(txn["request"]["pp_Amount"])
        if not amount.isdigit() or not 0 < int(amount) <= paid - txn["refunded"]:
            return server.signed(
                {"pp_ResponseCode": "110", "pp_ResponseMessage": "Invalid refund amount."}
            )
        txn["refunded"] += int(amount)
        if txn["refunded"] == paid:
            txn["code"] = "131"
        return server.signed(
            {
                "pp_ResponseCode": "000",
                "pp_ResponseMessage": "Refund successful.",
                "pp_TxnRefNo": txn["request"]["pp_TxnRefNo"],
                "pp_RetreivalReferenceNo": str(random.randint(10**11, 10**12 - 1)),
            }
        )

    # --- test control ------------------------------------------------------------------------
    def _control(self, method: str, path: str, form: dict) -> None:
        server = self.server
        if (method, path) == ("GET", "/_emulator/state"):
            return self.send_json(200, {"txns": server.txns, "ipn_log": server.ipn_log})
        if (method, path) == ("POST", "/_emulator/ipn"):
            server.ipn_url = form.get("url", server.ipn_url)
            return self.send_json(200, {"url": server.ipn_url})
        match = re.fullmatch(r"/_emulator/txns/(\w+)/complete", path)
        txn = server.txns.get(match.group(1)) if match else None
        if method == "POST" and txn is not None and txn["code"] in {None, "124", "157"}:
            server.settle(txn, form.get("code", "000"))
            return self.send_json(200, server.response_fields(txn))
        self.send_json(404, {"error": f"unknown control URL or state: {method} {path}"})


def _page(title: str, body: str) -> str:
    return f"""<!doctype html><html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1"><title>{title}</title>
<style>body{{font-family:sans-serif;max-width:36rem;margin:2rem auto;padding:0 1rem}}
h1{{color:#b5121b}} button{{margin:.25rem;padding:.5rem 1rem}} .pay{{background:#f4c10f}}
label{{display:block;margin:.5rem 0}}</style></head><body>{body}</body></html>"""


def start_emulator(
    port: int = 0,
    *,
    host: str = "127.0.0.1",
    ipn_url: str = "",
    merchant_id: str = "MC00001",
    password: str = "emulator",  # noqa: S107
    salt: str = "emulatorsalt",
    retry_delays: tuple[float, ...] = (1, 5, 30),
) -> tuple[EmulatorServer, str]:
    """Serve the emulator from a background thread; stop it with `server.close()`."""
    server = EmulatorServer(
        (host, port),
        merchant_id=merchant_id,
        password=password,
        salt=salt,
        ipn_url=ipn_url,
        retry_delays=retry_delays,
    )
    return serve_in_thread(server, "jazzcash-emulator")
