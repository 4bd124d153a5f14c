"""Money: Decimal PKR, never float. Every parse and format of an amount is here."""

from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

from django.utils.functional import lazy
from django.utils.translation import gettext as _

PAISA = Decimal("0.01")


def quantize(amount: Decimal, rounding: str = ROUND_HALF_UP) -> Decimal:
    return Decimal(amount).quantize(PAISA, rounding=rounding)


def parse_amount(value: object) -> Decimal | None:
    """Parse user input ("12,500", "12500.5") into a 2-place Decimal, or None if it is not money."""
    if value is None or isinstance(value, float | bool):
        return None
    text = str(value).strip().replace(",", "")
    if not text or len(text) > 20:
        return None
    try:
        amount = Decimal(text)
        if not amount.is_finite() or amount != amount.quantize(PAISA, rounding=ROUND_HALF_UP):
            return None
        return amount.quantize(PAISA)
    except (InvalidOperation, ValueError):
        return None


def format_pkr(amount: object) -> str:
    """`Rs 12,500` (paisa only when there are some), in the active language."""
    if amount is None or amount == "":
        return ""
    try:
        value = Decimal(str(amount))
    except (InvalidOperation, ValueError):
        return ""
    digits = format(value, ",.0f") if value == value.to_integral_value() else format(value, ",.2f")
    return _("Rs %(amount)s") % {"amount": digits}


# For text written now and read later (notices): formatted when rendered, in the reader's
# language.
lazy_pkr = lazy(format_pkr, str)
