"""Money helpers: Decimal PKR, never float."""

from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

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
