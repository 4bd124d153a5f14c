"""PostEx's merchant API (and the local emulator, courier_emulator/, which speaks its shape).

The only module that knows PostEx's wire format: paths, the `token` header, field names,
status codes, the callback's signature header.
"""

import hashlib
import hmac
import json
import logging
import urllib.error
import urllib.request
from datetime import datetime
from decimal import Decimal, InvalidOperation

from django.conf import settings
from django.utils import timezone
from django.utils.translation import gettext as _

from marketplace.couriers.base import (
    ParcelRequest,
    RemittanceLine,
    Status,
    Tracking,
    TrackingEvent,
)
from marketplace.exceptions import CourierError, WebhookRejected

log = logging.getLogger(__name__)
NAME = "PostEx"
TIMEOUT = 15
# PostEx's status codes (transactionStatusMessageCode) in our words.
STATUS_CODES = {
    "0001": Status.BOOKED,
    "0003": Status.PICKED_UP,
    "0004": Status.IN_TRANSIT,
    "0033": Status.OUT_FOR_DELIVERY,
    "0005": Status.DELIVERED,
    "0013": Status.DELIVERY_FAILED,
    "0008": Status.DELIVERY_FAILED,  # delivery under review
    "0006": Status.RETURNED,
    "0007": Status.RETURNED,  # returned to shipper
}
SIGNATURE_HEADER = "X-PostEx-Signature"


def _request(method: str, path: str, body: dict | None = None) -> object:
    url = settings.COURIER_API_BASE.rstrip("/") + path
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(  # noqa: S310 - the base URL is our own setting
        url,
        data=data,
        method=method,
        headers={"token": settings.COURIER_API_TOKEN, "Content-Type": "application/json"},
    )
    try:
        with urllib.request.urlopen(request, timeout=TIMEOUT) as response:  # noqa: S310
            answer = json.loads(response.read() or b"{}")
    except urllib.error.HTTPError as error:
        detail = error.read().decode("utf-8", "replace")[:500]
        log.warning("PostEx %s %s -> %s %s", method, path, error.code, detail)
        raise CourierError(
            _("The courier refused the request: %(detail)s") % {"detail": _message(detail)},
            detail=detail,
            retryable=error.code >= 500,
        ) from None
    except (OSError, ValueError) as error:
        log.warning("PostEx %s %s failed: %s", method, path, error)
        raise CourierError(
            _("The courier could not be reached. Please try again in a few minutes."),
            detail=str(error),
            retryable=True,
        ) from None
    if str(answer.get("statusCode")) != "200":
        raise CourierError(
            _("The courier refused the request: %(detail)s")
            % {"detail": answer.get("statusMessage", "")},
            detail=json.dumps(answer)[:500],
        )
    return answer.get("dist")


def _message(detail: str) -> str:
    try:
        return str(json.loads(detail).get("statusMessage", ""))[:200]
    except (ValueError, AttributeError):
        return ""


def _money(value) -> Decimal:
    try:
        return Decimal(str(value or "0")).quantize(Decimal("0.01"))
    except InvalidOperation:
        raise CourierError(_("The courier sent an amount we cannot read.")) from None


def book(parcel: ParcelRequest) -> str:
    """Book a parcel; returns its tracking number."""
    dist = _request(
        "POST",
        "/api/order/v3/create-order",
        {
            "orderRefNumber": parcel.order_reference,
            "invoicePayment": str(parcel.cod_amount),
            "orderType": "Normal",
            "pickupAddressCode": settings.COURIER_PICKUP_ADDRESS_CODE,
            "bookingWeight": str(parcel.weight_kg),
            "items": parcel.pieces,
            "customerName": parcel.name,
            "customerPhone": parcel.phone,
            "deliveryAddress": parcel.address,
            "cityName": parcel.city,
            "orderDetail": parcel.description[:200],
        },
    )
    tracking = str((dist or {}).get("trackingNumber") or "")
    if not tracking:
        raise CourierError(_("The courier booked the parcel but sent no tracking number."))
    return tracking


def _tracking(dist: dict) -> Tracking:
    events = []
    for position, entry in enumerate(dist.get("transactionStatusHistory") or [], start=1):
        at = datetime.fromisoformat(str(entry.get("updatedAt")))
        events.append(
            TrackingEvent(
                sequence=int(entry.get("sequence") or position),
                status=STATUS_CODES.get(str(entry.get("transactionStatusMessageCode")), ""),
                courier_status=str(entry.get("transactionStatusMessage") or "")[:100],
                at=at if timezone.is_aware(at) else timezone.make_aware(at),
            )
        )
    return Tracking(
        tracking_number=str(dist["trackingNumber"]),
        events=tuple(sorted(events, key=lambda event: event.sequence)),
        delivery_charge=_money(dist.get("transactionFee")) + _money(dist.get("transactionTax")),
        return_charge=_money(dist.get("reversalFee")) + _money(dist.get("reversalTax")),
    )


def track(tracking_number: str) -> Tracking:
    return _tracking(_request("GET", f"/api/order/v1/track-order/{tracking_number}"))


def remittance_report() -> list[RemittanceLine]:
    return [
        RemittanceLine(
            tracking_number=str(line["trackingNumber"]),
            collected=_money(line.get("collectedAmount")),
            cod_charge=_money(line.get("transactionFee")) + _money(line.get("transactionTax")),
            return_charge=_money(line.get("reversalFee")) + _money(line.get("reversalTax")),
            reference=str(line.get("paymentReference") or "")[:60],
        )
        for line in _request("GET", "/api/order/v1/payment-report") or []
    ]


def parse_callback(body: bytes, headers) -> Tracking:
    """A status-change callback, once its signature checks out (HMAC-SHA256 of the body with
    COURIER_WEBHOOK_SECRET); its body is the parcel as track-order shows it."""
    secret = settings.COURIER_WEBHOOK_SECRET
    if not secret:
        raise WebhookRejected(_("Courier callbacks are not configured."))
    expected = "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
    if not hmac.compare_digest(expected, headers.get(SIGNATURE_HEADER) or ""):
        raise WebhookRejected(_("The courier callback's signature is wrong."))
    try:
        data = json.loads(body)
        return _tracking(data)
    except (ValueError, KeyError, TypeError):
        raise WebhookRejected(_("The courier callback is not a parcel.")) from None


def tracking_url(tracking_number: str) -> str:
    return settings.COURIER_TRACKING_URL.replace("{tracking}", tracking_number)
