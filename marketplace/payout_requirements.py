"""Stripe's requirement codes (`individual.dob.day`, `tos_acceptance.ip`, ...) in plain words.

Matched by prefix, longest first; one phrase per detail however many codes ask for it
(`individual.dob.day`, `.month` and `.year` are one date of birth). A code not in the table
still tells the seller something is missing, without showing the code.
"""

from django.utils.translation import gettext_lazy as _

PHRASES = {
    "business_type": _("Whether you sell as a person or as a company"),
    "business_profile.mcc": _("What kind of goods you sell"),
    "business_profile.product_description": _("A short description of what you sell"),
    "business_profile.url": _("A link to your shop or a description of what you sell"),
    "business_profile": _("About your business"),
    "external_account": _("The bank account (IBAN) to pay you into"),
    "individual.first_name": _("Your name"),
    "individual.last_name": _("Your name"),
    "individual.dob": _("Your date of birth"),
    "individual.address": _("Your home address"),
    "individual.phone": _("Your mobile number"),
    "individual.email": _("Your e-mail address"),
    "individual.id_number": _("Your CNIC number"),
    "individual.verification": _("A photo of your CNIC"),
    "individual": _("Your personal details"),
    "company": _("Your company's details"),
    "representative": _("Details of the person who runs the company"),
    "owners": _("The company's owners"),
    "directors": _("The company's directors"),
    "executives": _("The company's directors"),
    "settings.payments.statement_descriptor": _("The name buyers see on their card statement"),
    "tos_acceptance": _("Accepting Stripe's terms of service"),
}
OTHER = _("Other details Stripe asks for")

_BY_LENGTH = sorted(PHRASES, key=len, reverse=True)


def describe(code: str):
    """The plain phrase for one requirement code."""
    for prefix in _BY_LENGTH:
        if code == prefix or code.startswith(prefix + "."):
            return PHRASES[prefix]
    return OTHER


def describe_all(codes) -> list[str]:
    """Plain phrases for the codes, each once, in the order first asked, the fallback last."""
    phrases: list[str] = []
    for code in codes:
        phrase = str(describe(code))
        if phrase not in phrases:
            phrases.append(phrase)
    other = str(OTHER)
    if other in phrases:
        phrases.remove(other)
        phrases.append(other)
    return phrases
