"""Cash-on-delivery remittance (issue 15): the courier's report, reconciled parcel by parcel.

Each line (from the courier's API by the scheduled job, or a CSV staff upload) is stored once
(unique per courier and tracking number: a repeated line is a no-op) and either matched, which
credits the seller's ledger, or listed for staff with the reason it does not match. Nothing is
guessed: an amount that differs from what we expect is a mismatch, never a correction.

A matched cash-on-delivery parcel records the sale (the order's total, pending until the return
window ends like any sale) less the platform fee on the items only, and the courier's charges;
a prepaid parcel records only the charges. A cash-on-delivery order refunded before its line
arrives (a return accepted, `refunds.refund_in_full`) records no sale: the cash collected is
the buyer's refund, which staff send by hand.
"""

import csv
import io
import logging
from decimal import Decimal, InvalidOperation

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from marketplace.couriers import RemittanceLine as ReportLine
from marketplace.couriers import get_courier
from marketplace.exceptions import CourierError, LedgerError
from marketplace.models import LedgerEntry, Order, Parcel, Refund, RemittanceLine
from marketplace.money import quantize
from marketplace.payments import platform_fee
from marketplace.services import ledger
from marketplace.services.parcels import courier_charge_key, record_courier_charges

log = logging.getLogger(__name__)
ZERO = Decimal("0.00")
CSV_COLUMNS = ("tracking_number", "collected", "cod_charge", "return_charge", "reference")


def reconcile_line(*, courier_key: str, line: ReportLine, source: str) -> RemittanceLine | None:
    """Store and settle one report line; None when that line was received before."""
    if RemittanceLine.objects.filter(
        courier=courier_key, tracking_number=line.tracking_number
    ).exists():
        return None
    try:
        with transaction.atomic():
            parcel = (
                Parcel.objects.select_for_update()
                .select_related("order__checkout")
                .filter(courier=courier_key, tracking_number=line.tracking_number)
                .first()
            )
            row = RemittanceLine.objects.create(
                courier=courier_key,
                tracking_number=line.tracking_number,
                reference=line.reference,
                collected=line.collected,
                cod_charge=line.cod_charge,
                return_charge=line.return_charge,
                parcel=parcel,
                source=source,
                outcome=RemittanceLine.Outcome.MISMATCH,
            )
            _settle(row)
            return row
    except IntegrityError:  # the same line, received at the same moment by another run
        return None


def rematch(*, line: RemittanceLine) -> RemittanceLine:
    """Staff: match a listed line again (the parcel has since been delivered, say)."""
    with transaction.atomic():
        line = RemittanceLine.objects.select_for_update().get(pk=line.pk)
        if line.outcome != RemittanceLine.Outcome.MISMATCH:
            return line
        line.parcel = (
            Parcel.objects.select_for_update()
            .select_related("order__checkout")
            .filter(courier=line.courier, tracking_number=line.tracking_number)
            .first()
        )
        _settle(line)
        return line


def _settle(line: RemittanceLine) -> None:
    problem = _problem(line)
    if problem:
        line.outcome, line.problem = RemittanceLine.Outcome.MISMATCH, problem[:300]
    else:
        parcel = line.parcel
        # Parcel, then order (the lock order of tracking): a return accepted at this moment
        # either sees the sale and reverses it, or wrote its refund first and the cash goes
        # to the buyer, not the seller.
        order = Order.objects.select_for_update().select_related("checkout").get(pk=parcel.order_id)
        try:
            if (
                parcel.status == Parcel.Status.DELIVERED
                and order.is_cod
                and not Refund.objects.filter(order=order).exists()
            ):
                ledger.record_sale(order=order, fee=platform_fee(order.subtotal))
            record_courier_charges(
                parcel=parcel, delivery=line.cod_charge, returned=line.return_charge
            )
        except LedgerError as error:
            raise RuntimeError(f"remittance line {line.pk}: {error}") from error
        line.outcome, line.problem = RemittanceLine.Outcome.MATCHED, ""
    line.save(update_fields=["parcel", "outcome", "problem"])


def _problem(line: RemittanceLine) -> str:
    """Why the line does not match what we know, in words; "" when it matches."""
    parcel = line.parcel
    if parcel is None:
        return _("No parcel of ours has this tracking number.")
    if parcel.status not in Parcel.FINAL:
        return _("The parcel is %(status)s, not delivered or returned.") % {
            "status": parcel.get_status_display().lower()
        }
    expected = parcel.cod_amount if parcel.status == Parcel.Status.DELIVERED else ZERO
    if line.collected != expected:
        return _("The courier collected Rs %(collected)s; we expect Rs %(expected)s.") % {
            "collected": line.collected,
            "expected": expected,
        }
    if parcel.status == Parcel.Status.DELIVERED and line.return_charge:
        return _("A return charge on a delivered parcel.")
    differs = {
        "delivery": _("The COD charge is Rs %(amount)s; tracking said Rs %(recorded)s."),
        "return": _("The return charge is Rs %(amount)s; tracking said Rs %(recorded)s."),
    }
    for what, amount in (("delivery", line.cod_charge), ("return", line.return_charge)):
        recorded = LedgerEntry.objects.filter(
            key="courier:" + courier_charge_key(parcel, what)
        ).first()
        if recorded is not None and -recorded.available != amount:
            return differs[what] % {"amount": amount, "recorded": -recorded.available}
    return ""


def reconcile_report(*, courier_key: str | None = None) -> tuple[int, int]:
    """The job: fetch the courier's remittance report and reconcile new lines; returns
    (matched, mismatched) among the new ones."""
    courier_key = courier_key or _default_courier()
    try:
        lines = get_courier(courier_key).remittance_report()
    except CourierError as error:
        log.warning("remittance report failed: %s", error.detail or error)
        return 0, 0
    return _count(
        reconcile_line(courier_key=courier_key, line=line, source="api") for line in lines
    )


def reconcile_csv(*, text: str, courier_key: str | None = None) -> tuple[int, int, list[str]]:
    """A staff upload: a CSV with the columns CSV_COLUMNS. Returns (matched, mismatched, errors):
    rows that cannot be read are reported by row number and skipped."""
    courier_key = courier_key or _default_courier()
    errors, lines = [], []
    reader = csv.DictReader(io.StringIO(text.lstrip("\ufeff")))
    missing = set(CSV_COLUMNS) - set(reader.fieldnames or ())
    if missing:
        return 0, 0, [_("Missing columns: %(columns)s") % {"columns": ", ".join(sorted(missing))}]
    for number, row in enumerate(reader, start=2):
        try:
            lines.append(
                ReportLine(
                    tracking_number=row["tracking_number"].strip(),
                    collected=_amount(row["collected"]),
                    cod_charge=_amount(row["cod_charge"]),
                    return_charge=_amount(row["return_charge"]),
                    reference=(row["reference"] or "").strip()[:60],
                )
            )
        except (InvalidOperation, ValueError):
            errors.append(_("Row %(row)s: amounts must be numbers of 0 or more.") % {"row": number})
            continue
        if not lines[-1].tracking_number:
            lines.pop()
            errors.append(_("Row %(row)s: no tracking number.") % {"row": number})
    matched, mismatched = _count(
        reconcile_line(courier_key=courier_key, line=line, source="csv") for line in lines
    )
    return matched, mismatched, errors


def _amount(text: str) -> Decimal:
    value = quantize(Decimal((text or "0").replace(",", "").strip() or "0"))
    if value < 0:
        raise ValueError(text)
    return value


def _count(rows) -> tuple[int, int]:
    matched = mismatched = 0
    for row in rows:
        if row is not None:
            matched += row.outcome == RemittanceLine.Outcome.MATCHED
            mismatched += row.outcome == RemittanceLine.Outcome.MISMATCH
    return matched, mismatched


def _default_courier() -> str:
    return settings.COURIER_PROVIDER
