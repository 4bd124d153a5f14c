"""Parcels in memory (optionally saved to a JSON file), their statuses and moves, and signing."""

import hashlib
import hmac
import json
import os
import secrets
import threading
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

# Our name -> (PostEx-style status code, message). The order is the usual life of a parcel.
STATUSES: dict[str, tuple[str, str]] = {
    "booked": ("0001", "Booked"),
    "picked_up": ("0003", "PostEx WareHouse"),
    "in_transit": ("0004", "Package on Route"),
    "out_for_delivery": ("0033", "Out for Delivery"),
    "delivered": ("0005", "Delivered"),
    "delivery_failed": ("0013", "Attempt Made"),
    "returned": ("0006", "Returned"),
}
# What a courier can do next from each status (anything else is refused with 400).
MOVES: dict[str, set[str]] = {
    "booked": {"picked_up"},
    "picked_up": {"in_transit"},
    "in_transit": {"out_for_delivery", "returned"},
    "out_for_delivery": {"delivered", "delivery_failed"},
    "delivery_failed": {"out_for_delivery", "returned"},
    "delivered": set(),
    "returned": set(),
}
SETTLED = {"delivered", "returned"}
REQUIRED = (
    "orderRefNumber",
    "invoicePayment",
    "customerName",
    "customerPhone",
    "deliveryAddress",
    "cityName",
)
DELIVERY_FEE = Decimal("200.00")
RETURN_FEE = Decimal("150.00")


class Refused(Exception):
    def __init__(self, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.message, self.status = message, status


def sign_body(body: bytes | str, secret: str) -> str:
    """The X-PostEx-Signature value of a callback body: "sha256=" + hex HMAC-SHA256."""
    if isinstance(body, str):
        body = body.encode()
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def _money(value) -> str:
    return str(Decimal(str(value)).quantize(Decimal("0.01")))


class Store:
    def __init__(self, state_file: str | os.PathLike | None = None) -> None:
        self.lock = threading.RLock()
        self.state_file = Path(state_file) if state_file else None
        self.parcels: dict[str, dict] = {}
        self.deliveries: list[dict] = []  # callback attempts, newest last
        if self.state_file and self.state_file.exists():
            data = json.loads(self.state_file.read_text(encoding="utf-8"))
            self.parcels = data.get("parcels", {})

    def save(self) -> None:
        if not self.state_file:
            return
        text = json.dumps({"parcels": self.parcels}, indent=1, sort_keys=True)
        temporary = self.state_file.with_suffix(self.state_file.suffix + ".tmp")
        temporary.write_text(text, encoding="utf-8")
        os.replace(temporary, self.state_file)

    def reset(self) -> None:
        self.parcels.clear()
        self.deliveries.clear()

    # --- the API ----------------------------------------------------------------------------
    def create(self, body: dict) -> dict:
        missing = [name for name in REQUIRED if str(body.get(name, "")).strip() == ""]
        if missing:
            raise Refused("Missing field(s): " + ", ".join(missing))
        try:
            invoice = Decimal(str(body["invoicePayment"]))
            weight = Decimal(str(body.get("bookingWeight") or "0.5"))
            pieces = int(body.get("items") or 1)
        except (ArithmeticError, ValueError):
            raise Refused("invoicePayment, bookingWeight and items must be numbers.") from None
        if invoice < 0 or weight <= 0 or pieces < 1:
            raise Refused("invoicePayment must be 0 or more, bookingWeight and items positive.")
        tracking = "".join(secrets.choice("0123456789") for _ in range(14))
        parcel = {
            "trackingNumber": tracking,
            "orderRefNumber": str(body["orderRefNumber"]),
            "invoicePayment": _money(invoice),
            "orderType": body.get("orderType") or "Normal",
            "bookingWeight": str(weight),
            "items": pieces,
            "customerName": body["customerName"],
            "customerPhone": body["customerPhone"],
            "deliveryAddress": body["deliveryAddress"],
            "cityName": body["cityName"],
            "pickupAddressCode": body.get("pickupAddressCode") or "",
            "orderDetail": body.get("orderDetail") or "",
            "status": "booked",
            "transactionFee": _money(DELIVERY_FEE),
            "transactionTax": "0.00",
            "reversalFee": "0.00",
            "reversalTax": "0.00",
            "collectedAmount": "0.00",
            "paymentReference": "",
            "settledAt": None,
            "transactionStatusHistory": [],
        }
        self._add_history(parcel, "booked")
        self.parcels[tracking] = parcel
        return parcel

    def get(self, tracking: str) -> dict:
        parcel = self.parcels.get(tracking)
        if parcel is None:
            raise Refused(f"No parcel with tracking number {tracking}.", status=404)
        return parcel

    def move(self, tracking: str, status: str) -> dict:
        parcel = self.get(tracking)
        if status not in STATUSES:
            raise Refused(f"Unknown status {status!r}.")
        if status not in MOVES[parcel["status"]]:
            raise Refused(f"A parcel that is {parcel['status']} cannot become {status}.")
        parcel["status"] = status
        self._add_history(parcel, status)
        if status == "delivered":
            parcel["collectedAmount"] = parcel["invoicePayment"]
        if status == "returned":
            parcel["reversalFee"] = _money(RETURN_FEE)
        if status in SETTLED:
            parcel["paymentReference"] = "CPR-" + secrets.token_hex(4).upper()
            parcel["settledAt"] = _now()
        return parcel

    def set_money(self, tracking: str, fields: dict) -> dict:
        """Test control: change what the report says (to make a mismatch on purpose)."""
        parcel = self.get(tracking)
        for name in ("collectedAmount", "transactionFee", "reversalFee"):
            if name in fields:
                parcel[name] = _money(fields[name])
        return parcel

    def report(self) -> list[dict]:
        """The remittance report: one line per settled parcel, oldest first."""
        lines = []
        for parcel in sorted(self.parcels.values(), key=lambda p: p["settledAt"] or ""):
            if parcel["settledAt"] is None:
                continue
            charges = sum(
                Decimal(parcel[name])
                for name in ("transactionFee", "transactionTax", "reversalFee", "reversalTax")
            )
            lines.append(
                {
                    "trackingNumber": parcel["trackingNumber"],
                    "orderRefNumber": parcel["orderRefNumber"],
                    "transactionStatus": STATUSES[parcel["status"]][1],
                    "invoicePayment": parcel["invoicePayment"],
                    "collectedAmount": parcel["collectedAmount"],
                    "transactionFee": parcel["transactionFee"],
                    "transactionTax": parcel["transactionTax"],
                    "reversalFee": parcel["reversalFee"],
                    "reversalTax": parcel["reversalTax"],
                    "netPayable": _money(Decimal(parcel["collectedAmount"]) - charges),
                    "paymentReference": parcel["paymentReference"],
                    "settledAt": parcel["settledAt"],
                }
            )
        return lines

    @staticmethod
    def _add_history(parcel: dict, status: str) -> None:
        code, message = STATUSES[status]
        history = parcel["transactionStatusHistory"]
        history.append(
            {
                "sequence": len(history) + 1,
                "transactionStatusMessageCode": code,
                "transactionStatusMessage": message,
                "updatedAt": _now(),
            }
        )
