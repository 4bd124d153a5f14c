"""Money: rupee amounts parsed to two-place Decimals and formatted as `Rs 12,500`."""

from decimal import Decimal

import pytest

from marketplace.money import format_pkr, parse_amount


@pytest.mark.parametrize(
    ("amount", "text"),
    [(Decimal("12500"), "Rs 12,500"), (Decimal("999.50"), "Rs 999.50"), (Decimal("0"), "Rs 0")],
)
def test_prices_are_formatted_in_rupees(amount, text):
    assert format_pkr(amount) == text


@pytest.mark.parametrize(
    ("raw", "parsed"),
    [
        ("5000.00", Decimal("5000.00")),
        ("12,500", Decimal("12500.00")),
        (Decimal("1"), Decimal("1.00")),
    ],
)
def test_amounts_parse_to_two_place_decimals(raw, parsed):
    assert parse_amount(raw) == parsed


@pytest.mark.parametrize("raw", ["abc", "", None, 5000.5, "1e999", "NaN", "1.005", "Infinity"])
def test_non_money_input_is_refused(raw):
    assert parse_amount(raw) is None
