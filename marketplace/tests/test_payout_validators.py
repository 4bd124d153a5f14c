"""Pakistani IBANs and wallet numbers for payouts."""

import pytest
from django.core.exceptions import ValidationError

from marketplace.validators import (
    PK_BANK_CODES,
    iban_check_digits_ok,
    normalize_pk_iban,
    normalize_wallet_number,
)


def with_check_digits(bban: str) -> str:
    """Build a PK IBAN from its bank code and account part (ISO 13616: 98 - mod 97)."""
    digits = "".join(str(int(ch, 36)) for ch in bban + "PK00")
    return f"PK{98 - int(digits) % 97:02d}{bban}"


@pytest.mark.parametrize(
    "iban",
    [
        "PK36SCBL0000001123456702",  # the IBAN registry's example
        "pk36 scbl 0000 0011 2345 6702",  # as printed on a cheque book, typed in lower case
        with_check_digits("HABB0001234567890123"),
        with_check_digits("MEZN0099887766554433"),
    ],
)
def test_valid_pakistani_ibans_are_accepted_and_normalised(iban):
    normalized = normalize_pk_iban(iban)
    assert len(normalized) == 24
    assert normalized == normalized.upper().replace(" ", "")
    assert iban_check_digits_ok(normalized)


@pytest.mark.parametrize(
    ("iban", "code"),
    [
        ("PK37SCBL0000001123456702", "iban_check_digits"),  # check digits off by one
        ("PK36SCBL0000001123456720", "iban_check_digits"),  # two digits swapped
        ("PK36SCBL000000112345670", "invalid_iban"),  # 23 characters
        ("GB82WEST12345698765432", "invalid_iban"),  # a valid IBAN, but British
        ("PK361234SCBL001123456702", "invalid_iban"),  # bank code not letters
        (with_check_digits("ZZZZ0001234567890123"), "unknown_bank"),
        ("", "invalid_iban"),
    ],
)
def test_wrong_ibans_are_refused_with_the_reason(iban, code):
    with pytest.raises(ValidationError) as error:
        normalize_pk_iban(iban)
    assert error.value.code == code


def test_the_bank_table_holds_the_big_banks():
    for code in ("HABB", "MUCB", "UNIL", "ABPA", "NBPA", "MEZN", "BAHL", "ALFH", "SCBL"):
        assert PK_BANK_CODES[code]


@pytest.mark.parametrize(
    "number", ["03001234567", "0300-1234567", "+92 300 1234567", "00923001234567"]
)
def test_wallet_numbers_are_stored_as_03xx(number):
    assert normalize_wallet_number(number) == "03001234567"


@pytest.mark.parametrize("number", ["0300123456", "04001234567", "3001234567x", ""])
def test_wrong_wallet_numbers_are_refused(number):
    with pytest.raises(ValidationError):
        normalize_wallet_number(number)
