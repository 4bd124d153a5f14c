"""JazzCash hosted checkout ("HTTP POST page redirection"): the one module that speaks its wire
format (see /work/shared/PAYMENTS_PK.md, "JazzCash hosted checkout").

Nothing is created at JazzCash before the browser arrives: `create_checkout_session` only
builds and signs the form the buyer's browser posts to the merchant form. The state of a
payment comes from the status inquiry API (`retrieve_checkout_session`), whose envelope
`pp_ResponseCode` only says the inquiry worked; the payment's own code is
`pp_PaymentResponseCode`. JazzCash has no sellers' accounts or transfers: the money lands with
the platform and sellers are paid from the ledger.
"""

import hashlib
import hmac
import json
import logging
import re
import secrets
import urllib.error
import urllib.request
from datetime import datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from django.conf import settings
from django.utils import timezone
from django.utils.translation import gettext as _

from marketplace.exceptions import PaymentProviderError, WebhookRejected
from marketplace.payments.base import HostedCheckout, LineItem, RefundResult, WalletCallback
from marketplace.payments.money import from_minor_units, to_minor_units

log = logging.getLogger(__name__)

FORM_PATH = "/CustomerPortal/transactionmanagement/merchantform/"
INQUIRY_PATH = "/ApplicationAPI/API/PaymentInquiry/Inquire"
REFUND_PATH = "/ApplicationAPI/API/Purchase/domwalletrefundtransaction"
PAKISTAN = ZoneInfo("Asia/Karachi")
TIME_FORMAT = "%Y%m%d%H%M%S"
PAID_CODES = frozenset({"000", "121"})
PENDING_CODES = frozenset({"124", "157"})
REFUNDED_CODE = "131"
# JazzCash refuses these in pp_Description.
_FORBIDDEN = re.compile(r"""[<>\\*=%/:'|"{}]""")
DEFAULT_LIFETIME = timedelta(hours=1)


def secure_hash(fields: dict, salt: str) -> str:
    """pp_SecureHash: HMAC-SHA256 (key: the salt) of the salt and every non-empty pp* value
    but the hash, in field-name order, joined with '&'; lowercase hex."""
    values = [
        str(value)
        for name, value in sorted(fields.items())
        if name.startswith("pp") and name != "pp_SecureHash" and str(value) != ""
    ]
    message = "&".join([salt, *values])
    return hmac.new(salt.encode(), message.encode(), hashlib.sha256).hexdigest()


def hash_is_valid(fields: dict, salt: str) -> bool:
    """The fields' pp_SecureHash is theirs (hex in either case, compared in constant time)."""
    given = str(fields.get("pp_SecureHash") or "").lower()
    return bool(given) and hmac.compare_digest(given, secure_hash(fields, salt))


def clean_description(text: str) -> str:
    """pp_Description: ASCII without the characters JazzCash refuses, at most 200 long."""
    text = text.encode("ascii", "ignore").decode()
    text = " ".join(_FORBIDDEN.sub(" ", text).split())
    return text[:200].strip()


def new_txn_ref(reference: str) -> str:
    """pp_TxnRefNo: unique, at most 20 letters and digits (our checkout number, then random)."""
    prefix = re.sub(r"[^A-Za-z0-9]", "", reference)[:10]
    tail = secrets.token_hex(10).upper()
    return (prefix + tail)[:20]


def karachi_time(value: datetime) -> str:
    return value.astimezone(PAKISTAN).strftime(TIME_FORMAT)


class JazzCashProvider:
    name = "jazzcash"

    def __init__(
        self,
        *,
        merchant_id: str,
        password: str,
        salt: str,
        base_url: str,
        txn_type: str = "MWALLET",
        mpin: str = "",
        timeout: float = 15,
    ) -> None:
        self.merchant_id = merchant_id
        self.password = password
        self.salt = salt
        self.base_url = base_url.rstrip("/")
        self.txn_type = txn_type
        self.mpin = mpin
        self.timeout = timeout

    @classmethod
    def from_settings(cls) -> "JazzCashProvider":
        return cls(
            merchant_id=settings.JAZZCASH_MERCHANT_ID,
            password=settings.JAZZCASH_PASSWORD,
            salt=settings.JAZZCASH_INTEGRITY_SALT,
            base_url=settings.JAZZCASH_BASE_URL,
            txn_type=settings.JAZZCASH_TXN_TYPE,
            mpin=settings.JAZZCASH_MPIN,
        )

    @property
    def form_url(self) -> str:
        return self.base_url + FORM_PATH

    def signed(self, fields: dict) -> dict:
        return {**fields, "pp_SecureHash": secure_hash(fields, self.salt)}

    # --- the hosted checkout ------------------------------------------------------------------
    def create_checkout_session(
        self,
        *,
        reference: str,
        line_items: list[LineItem],
        currency: str,
        success_url: str,
        cancel_url: str,
        metadata: dict[str, str],
        customer_email: str | None,
        expires_at: datetime | None,
        idempotency_key: str,
    ) -> HostedCheckout:
        """The signed form for the merchant form; `success_url` is pp_ReturnURL (JazzCash
        returns every outcome there; `cancel_url` is not used)."""
        if currency.upper() != "PKR":
            raise ValueError("JazzCash takes PKR only")
        total = sum((i.unit_amount * i.quantity for i in line_items), Decimal("0.00"))
        now = timezone.now()
        expires_at = expires_at or now + DEFAULT_LIFETIME
        txn_ref = new_txn_ref(reference)
        names = ", ".join(item.name for item in line_items)
        fields = {
            "pp_Version": "2.0" if self.txn_type == "MPAY" else "1.1",
            "pp_TxnType": self.txn_type,
            "pp_Language": "EN",
            "pp_MerchantID": self.merchant_id,
            "pp_SubMerchantID": "",
            "pp_Password": self.password,
            "pp_BankID": "",
            "pp_ProductID": "",
            "pp_TxnRefNo": txn_ref,
            "pp_Amount": str(to_minor_units(total, "PKR")),
            "pp_TxnCurrency": "PKR",
            "pp_TxnDateTime": karachi_time(now),
            "pp_BillReference": re.sub(r"[^A-Za-z0-9]", "", reference)[:20],
            "pp_Description": clean_description(f"MadeInPK {reference} {names}"),
            "pp_TxnExpiryDateTime": karachi_time(expires_at),
            "pp_ReturnURL": success_url,
            "ppmpf_1": reference,
            "ppmpf_2": "",
            "ppmpf_3": "",
            "ppmpf_4": "",
            "ppmpf_5": "",
        }
        return HostedCheckout(
            id=txn_ref,
            url=self.form_url,
            status="open",
            payment_status="unpaid",
            amount_total=total,
            currency="PKR",
            reference=reference,
            metadata=dict(metadata),
            expires_at=expires_at,
            form_fields=self.signed(fields),
        )

    def verify_callback(self, fields: dict) -> WalletCallback:
        """A return POST or IPN, its hash checked; WebhookRejected when it is not JazzCash's."""
        fields = {str(k): str(v) for k, v in fields.items()}
        if not hash_is_valid(fields, self.salt):
            raise WebhookRejected(_("The payment notice is not signed by JazzCash."))
        amount = fields.get("pp_Amount", "")
        if not (fields.get("pp_TxnRefNo") and amount.isdigit()):
            raise WebhookRejected(_("The payment notice is incomplete."))
        if fields.get("pp_MerchantID", self.merchant_id) != self.merchant_id:
            raise WebhookRejected(_("The payment notice is for another merchant."))
        return WalletCallback(
            reference=fields["pp_TxnRefNo"],
            amount=from_minor_units(int(amount), "PKR"),
            response_code=fields.get("pp_ResponseCode", ""),
            message=fields.get("pp_ResponseMessage", ""),
            retrieval_reference=fields.get("pp_RetreivalReferenceNo", ""),
        )

    def ipn_answer(self) -> dict:
        """What the merchant answers an IPN it took (JazzCash retries anything else)."""
        return self.signed({"pp_ResponseCode": "000", "pp_ResponseMessage": "Received"})

    # --- APIs ---------------------------------------------------------------------------------
    def _post(self, path: str, body: dict) -> dict:
        request = urllib.request.Request(  # noqa: S310 - https (or the local emulator) from settings
            self.base_url + path,
            data=json.dumps(body).encode(),
            headers={"Content-Type": "application/json", "Accept": "application/json"},
        )
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:  # noqa: S310
                answer = json.loads(response.read().decode())
        except (OSError, ValueError) as error:
            raise PaymentProviderError(
                _("JazzCash is unavailable right now. Please try again in a few minutes."),
                detail=str(error),
                retryable=True,
            ) from error
        if not isinstance(answer, dict):
            raise PaymentProviderError(_("JazzCash answered something unexpected."))
        return answer

    def _refused(self, answer: dict) -> PaymentProviderError:
        code = str(answer.get("pp_ResponseCode", ""))
        return PaymentProviderError(
            _("JazzCash refused the request."),
            detail=f"{code}: {answer.get('pp_ResponseMessage', '')}",
            provider_code=code,
            retryable=code == "199",
        )

    def retrieve_checkout_session(self, session_id: str) -> HostedCheckout:
        """The payment's state from the status inquiry API."""
        body = self.signed(
            {
                "pp_TxnRefNo": session_id,
                "pp_MerchantID": self.merchant_id,
                "pp_Password": self.password,
            }
        )
        answer = self._post(INQUIRY_PATH, body)
        if str(answer.get("pp_ResponseCode")) != "000":
            raise self._refused(answer)
        code = str(answer.get("pp_PaymentResponseCode", ""))
        paid = code in PAID_CODES or code == REFUNDED_CODE
        amount = str(answer.get("pp_Amount", ""))
        return HostedCheckout(
            id=session_id,
            url=None,
            status="complete" if paid else "open" if code in PENDING_CODES else "expired",
            payment_status="paid" if paid else "unpaid",
            amount_total=from_minor_units(int(amount), "PKR") if amount.isdigit() else Decimal(0),
            currency="PKR",
            reference=None,
            charge_id=session_id if paid else None,
            payment_intent_id=str(answer.get("pp_RetreivalReferenceNo") or "") or None,
            response_code=code,
        )

    def expire_checkout_session(self, session_id: str) -> HostedCheckout:
        """JazzCash cannot close a payment page: this asks whether it is settled. A payment
        pending or paid at JazzCash is refused (the caller then looks at it); one JazzCash has
        never seen, or that failed, is closed on our side (its expiry time closes it there)."""
        try:
            session = self.retrieve_checkout_session(session_id)
        except PaymentProviderError as error:
            if error.retryable:
                raise
            return HostedCheckout(
                id=session_id,
                url=None,
                status="expired",
                payment_status="unpaid",
                amount_total=Decimal(0),
                currency="PKR",
                reference=None,
            )
        if session.status != "expired":
            raise PaymentProviderError(
                _(
                    "A JazzCash payment for this checkout is still being processed. "
                    "Please wait a few minutes before paying another way."
                ),
                detail=f"{session_id}: {session.response_code}",
                provider_code=session.response_code,
            )
        return session

    def create_refund(
        self,
        *,
        charge_or_intent: str,
        amount: Decimal | None,
        idempotency_key: str,
        metadata: dict[str, str],
    ) -> RefundResult:
        """The wallet refund API (`charge_or_intent` is the pp_TxnRefNo). JazzCash takes no
        idempotency key: a refund is sent once, and a retry after an unknown outcome is
        refused by JazzCash as over the remaining amount."""
        if amount is None:
            raise ValueError("a JazzCash refund needs its amount")
        fields = {
            "pp_TxnRefNo": charge_or_intent,
            "pp_Amount": str(to_minor_units(amount, "PKR")),
            "pp_TxnCurrency": "PKR",
            "pp_MerchantID": self.merchant_id,
            "pp_Password": self.password,
            "pp_MerchantMPIN": self.mpin,
        }
        answer = self._post(REFUND_PATH, self.signed(fields))
        if str(answer.get("pp_ResponseCode")) != "000":
            raise self._refused(answer)
        return RefundResult(
            id=str(answer.get("pp_RetreivalReferenceNo") or f"{charge_or_intent}-refund"),
            amount=amount,
            currency="PKR",
            charge_id=charge_or_intent,
            payment_intent_id=None,
            status="succeeded",
        )
