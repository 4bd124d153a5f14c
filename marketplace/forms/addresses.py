"""The buyer's address book: shape validation only; saving is services.addresses'."""

from django import forms
from django.utils.translation import gettext_lazy as _

from marketplace.forms.fields import CityChoiceField, PakistaniMobileField
from marketplace.models import Address


class AddressForm(forms.ModelForm):
    phone = PakistaniMobileField(
        label=_("Mobile number"), help_text=_("For the courier, e.g. 0300-1234567")
    )
    city = CityChoiceField(label=_("City"))

    class Meta:
        model = Address
        fields = [
            "label",
            "full_name",
            "phone",
            "line1",
            "line2",
            "city",
            "postal_code",
            "is_default",
        ]
        labels = {"is_default": _("Use as my default address")}
        widgets = {
            # dir="auto": addresses and names are often written in Urdu.
            "full_name": forms.TextInput(attrs={"autocomplete": "name", "dir": "auto"}),
            "line1": forms.TextInput(
                attrs={
                    "autocomplete": "address-line1",
                    "placeholder": _("House, street, area"),
                    "dir": "auto",
                }
            ),
            "line2": forms.TextInput(attrs={"autocomplete": "address-line2", "dir": "auto"}),
            "postal_code": forms.TextInput(
                attrs={"autocomplete": "postal-code", "inputmode": "numeric", "maxlength": 5}
            ),
        }

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        if self.instance.pk and self.instance.is_default:
            # The default moves by making another address the default, never by unticking.
            self.fields["is_default"].disabled = True
            self.fields["is_default"].help_text = _(
                "This is your default address. To change that, make another address the default."
            )

    def clean_postal_code(self) -> str:
        code = self.cleaned_data.get("postal_code", "").strip()
        if code and (len(code) != 5 or not code.isdigit()):
            raise forms.ValidationError(_("A Pakistani postal code has five digits."))
        return code
