"""Forms for the seller ledger pages (issue 14). Shape validation only; the service decides.

A new module for now: the forms package reorganisation (issue 10) will move it into forms/.
"""

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _
from django.views.decorators.debug import sensitive_variables

from marketplace.models import PayoutMethod, Refund, User
from marketplace.validators import normalize_pk_iban, normalize_wallet_number


class AccountForm(forms.Form):
    """A bank account (IBAN) or a JazzCash/Easypaisa wallet, with its title: where a seller is
    paid, or where a cash-on-delivery buyer's refund is sent. Subclasses set `kind`."""

    kind = forms.ChoiceField(widget=forms.RadioSelect)
    iban = forms.CharField(
        label=_("IBAN"),
        required=False,
        max_length=40,
        help_text=_("24 characters starting with PK, as printed on your cheque book or app."),
        widget=forms.TextInput(attrs={"autocomplete": "off", "dir": "ltr", "spellcheck": "false"}),
    )
    wallet_number = forms.CharField(
        label=_("Wallet mobile number"),
        required=False,
        max_length=20,
        help_text=_("The JazzCash or Easypaisa number, e.g. 0300-1234567."),
        widget=forms.TextInput(attrs={"inputmode": "tel", "dir": "ltr"}),
    )
    account_title = forms.CharField(
        label=_("Account title"),
        required=False,
        max_length=100,
        help_text=_("The name on the account, exactly as the bank or wallet shows it."),
    )

    def clean(self) -> dict:
        data = super().clean()
        kind = data.get("kind")
        if kind == PayoutMethod.Kind.BANK:
            try:
                data["iban"] = normalize_pk_iban(data.get("iban", ""))
            except ValidationError as error:
                self.add_error("iban", error)
        elif kind in PayoutMethod.WALLETS:
            try:
                data["wallet_number"] = normalize_wallet_number(data.get("wallet_number", ""))
            except ValidationError as error:
                self.add_error("wallet_number", error)
        if kind and kind != PayoutMethod.Kind.STRIPE and not data.get("account_title", "").strip():
            self.add_error(
                "account_title", ValidationError(_("Enter the account title."), code="required")
            )
        return data


class RefundAccountForm(AccountForm):
    """Where a cash-on-delivery buyer's refund is sent (staff send it by hand)."""

    kind = forms.ChoiceField(
        label=_("Send my refund to"), choices=Refund.PayeeKind.choices, widget=forms.RadioSelect
    )


class PayoutMethodForm(AccountForm):
    """Where the seller is paid. Needs their password: a stolen session alone cannot redirect
    their money."""

    kind = forms.ChoiceField(
        label=_("Pay me to"), choices=PayoutMethod.Kind.choices, widget=forms.RadioSelect
    )
    password = forms.CharField(
        label=_("Your password"),
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
    )

    def __init__(self, *args, user: User, stripe_ready: bool, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.user = user
        if not stripe_ready:
            self.fields["kind"].choices = [
                choice for choice in PayoutMethod.Kind.choices if choice[0] != "stripe"
            ]

    @sensitive_variables("password")
    def clean_password(self) -> str:
        password = self.cleaned_data["password"]
        if not self.user.check_password(password):
            raise ValidationError(_("That is not your password."), code="wrong_password")
        return password
