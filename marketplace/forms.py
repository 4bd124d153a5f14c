"""Forms: shape validation only; business rules live in services."""

from decimal import Decimal

from django import forms
from django.conf import settings
from django.forms.models import ModelChoiceIterator
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext_lazy

from marketplace.models import Address, City, Product
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
    phone = PakistaniMobileField(label=_("Mobile number"))
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

    def clean_postal_code(self) -> str:
        code = self.cleaned_data.get("postal_code", "").strip()
        if code and (len(code) != 5 or not code.isdigit()):
            raise forms.ValidationError(_("A Pakistani postal code has five digits."))
        return code


# --- Auctions -------------------------------------------------------------------------------


class BidForm(forms.Form):
    """Shape only: the amount is money; whether it is enough is place_bid's call."""

    amount = forms.DecimalField(
        label=_("Your bid (Rs)"), min_value=Decimal("0.01"), max_digits=12, decimal_places=2
    )
    max_amount = forms.DecimalField(
        label=_("Maximum bid (optional)"),
        required=False,
        min_value=Decimal("0.01"),
        max_digits=12,
        decimal_places=2,
        help_text=_("We bid for you, one step at a time, up to this amount. Nobody sees it."),
    )

    def __init__(self, *args, minimum: Decimal | None = None, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        for field in self.fields.values():
            field.widget.attrs.update({"inputmode": "decimal", "step": "any"})
        if minimum is not None:
            self.fields["amount"].widget.attrs["placeholder"] = str(minimum)

    def clean(self):
        cleaned = super().clean()
        amount, ceiling = cleaned.get("amount"), cleaned.get("max_amount")
        if amount is not None and ceiling is not None and ceiling < amount:
            self.add_error("max_amount", _("Your maximum must be at least your bid."))
        return cleaned


class AuctionForm(forms.ModelForm):
    """The product's fields plus the auction's: price, optional reserve, duration."""

    city = CityChoiceField(label=_("City"))
    starting_price = forms.DecimalField(
        label=_("Starting price (Rs)"), min_value=Decimal("1"), max_digits=12, decimal_places=2
    )
    reserve_price = forms.DecimalField(
        label=_("Reserve price (Rs, optional)"),
        required=False,
        min_value=Decimal("1"),
        max_digits=12,
        decimal_places=2,
        help_text=_("Hidden from bidders: the item is not sold below it."),
    )
    duration_days = forms.TypedChoiceField(
        label=_("Duration"),
        coerce=int,
        initial=7,
        choices=[(days, ngettext_lazy("%d day", "%d days", days) % days) for days in range(1, 15)],
    )

    class Meta:
        model = Product
        fields = ["title", "description", "category", "condition", "city"]

    def clean(self):
        cleaned = super().clean()
        start, reserve = cleaned.get("starting_price"), cleaned.get("reserve_price")
        for name in ("starting_price", "reserve_price"):
            value = cleaned.get(name)
            if value is not None and value > settings.MAX_PRICE:
                self.add_error(name, _("That amount is too large."))
        if start is not None and reserve is not None and reserve < start:
            self.add_error("reserve_price", _("The reserve cannot be below the starting price."))
        return cleaned
