"""Validators and normalisers for Pakistani data (mobile numbers)."""

import re

from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

# 03XX-XXXXXXX, 03XXXXXXXXX, +92 3XX XXXXXXX, 0092 3XX... (spaces and dashes ignored)
_MOBILE_RE = re.compile(r"^(?:\+92|0092|92|0)(3\d{9})$")


def normalize_pk_mobile(value: str) -> str:
    """Return the number as +923XXXXXXXXX, or raise ValidationError."""
    compact = re.sub(r"[\s\-()]", "", value or "")
    match = _MOBILE_RE.match(compact)
    if not match:
        raise ValidationError(
            _("Enter a Pakistani mobile number such as 0300-1234567 or +923001234567."),
            code="invalid_mobile",
        )
    return "+92" + match.group(1)


def validate_pk_mobile(value: str) -> None:
    normalize_pk_mobile(value)


# Pakistani banks' IBAN codes (the four letters after the check digits), from the banks' own
# IBAN pages. A code not listed here is refused: an unknown code is nearly always a typo, and a
# new bank is one line here.
PK_BANK_CODES: dict[str, str] = {
    "ABPA": "Allied Bank",
    "AIIN": "Al Baraka Bank",
    "ALFH": "Bank Alfalah",
    "ASCM": "Askari Bank",
    "BAHL": "Bank AL Habib",
    "BKIP": "BankIslami",
    "BPUN": "The Bank of Punjab",
    "CITI": "Citibank",
    "DUIB": "Dubai Islamic Bank",
    "FAYS": "Faysal Bank",
    "FWOM": "First Women Bank",
    "HABB": "HBL (Habib Bank)",
    "JSBL": "JS Bank",
    "KHYB": "The Bank of Khyber",
    "MCIB": "MCB Islamic Bank",
    "MEZN": "Meezan Bank",
    "MPBL": "Habib Metropolitan Bank",
    "MUCB": "MCB Bank",
    "NBPA": "National Bank of Pakistan",
    "SAMB": "Samba Bank",
    "SCBL": "Standard Chartered",
    "SIND": "Sindh Bank",
    "SMES": "SME Bank",
    "SONE": "Soneri Bank",
    "SUMB": "Summit Bank",
    "UNIL": "UBL (United Bank)",
}

_PK_IBAN_RE = re.compile(r"^PK\d{2}[A-Z]{4}[0-9A-Z]{16}$")


def iban_check_digits_ok(iban: str) -> bool:
    """ISO 13616: move the first four characters to the end, letters to numbers, mod 97 == 1."""
    rearranged = iban[4:] + iban[:4]
    digits = "".join(str(int(ch, 36)) for ch in rearranged)
    return int(digits) % 97 == 1


def normalize_pk_iban(value: str) -> str:
    """Return the IBAN as 24 upper-case characters without spaces, or raise ValidationError."""
    compact = re.sub(r"[\s\-]", "", value or "").upper()
    if not _PK_IBAN_RE.match(compact):
        raise ValidationError(
            _("Enter a Pakistani IBAN: PK, 2 digits, 4 letters for the bank and 16 digits."),
            code="invalid_iban",
        )
    if not iban_check_digits_ok(compact):
        raise ValidationError(
            _("This IBAN's check digits are wrong: please copy it again from your bank."),
            code="iban_check_digits",
        )
    if compact[4:8] not in PK_BANK_CODES:
        raise ValidationError(
            _("We do not know the bank code %(code)s in this IBAN."),
            code="unknown_bank",
            params={"code": compact[4:8]},
        )
    return compact


def validate_pk_iban(value: str) -> None:
    normalize_pk_iban(value)


def normalize_wallet_number(value: str) -> str:
    """A JazzCash or Easypaisa wallet is a mobile number: return it as 03XXXXXXXXX."""
    return "0" + normalize_pk_mobile(value)[3:]


def validate_wallet_number(value: str) -> None:
    normalize_wallet_number(value)
