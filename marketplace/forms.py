"""Forms: shape validation only; business rules live in services."""

from django import forms
from django.forms.models import ModelChoiceIterator
from django.utils.translation import gettext_lazy as _

from marketplace.models import Address, City
from marketplace.validators import normalize_pk_mobile


class _CitiesByProvince(ModelChoiceIterator):
    def __iter__(self):
        if self.field.empty_label is not None:
            yield ("", self.field.empty_label)
        groups: dict[str, list] = {}
        for city in self.queryset:
            groups.setdefault(city.province.name, []).append(self.choice(city))
        yield from groups.items()


class CityChoiceField(forms.ModelChoiceField):
    """A city picker grouped by province (optgroups): works without JavaScript."""

    iterator = _CitiesByProvince

    def __init__(self, **kwargs) -> None:
        kwargs.setdefault(
            "queryset", City.objects.select_related("province").order_by("province__name", "name")
        )
        kwargs.setdefault("empty_label", _("Choose a city"))
        super().__init__(**kwargs)


class PakistaniMobileField(forms.CharField):
    """Accepts 0300-1234567 or +923001234567 and cleans to +923001234567."""

    def __init__(self, **kwargs) -> None:
        kwargs.setdefault("max_length", 20)
        kwargs.setdefault("help_text", _("For example 0300-1234567"))
        super().__init__(**kwargs)
        self.widget.attrs.setdefault("inputmode", "tel")
        self.widget.attrs.setdefault("autocomplete", "tel")

    def clean(self, value):
        value = super().clean(value)
        if not value:
            return value
        return normalize_pk_mobile(value)


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


# --- Cart and checkout ----------------------------------------------------------------------


class QuantityForm(forms.Form):
    """How many of an item: a whole number, 1 or more (stock is the service's business)."""

    quantity = forms.IntegerField(
        label=_("Quantity"),
        min_value=1,
        max_value=1_000_000_000_000,
        error_messages={
            "required": _("Enter how many you want."),
            "invalid": _("Enter the quantity as a whole number, like 1 or 2."),
            "min_value": _("Choose a quantity of 1 or more."),
            "max_value": _("That is far more than anyone sells here: choose a smaller quantity."),
        },
    )


class CheckoutForm(forms.Form):
    """The address to ship to, chosen from the buyer's own address book."""

    address = forms.ModelChoiceField(
        label=_("Ship to"),
        queryset=Address.objects.none(),
        widget=forms.RadioSelect,
        empty_label=None,
        error_messages={
            "required": _("Choose where to send your order."),
            "invalid_choice": _("Choose one of your own addresses."),
        },
    )

    def __init__(self, *args, user, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["address"]
        field.queryset = Address.objects.filter(user=user).select_related("city__province")
        first = field.queryset.first()
        if first is not None and not self.is_bound:
            self.initial.setdefault("address", first.pk)
