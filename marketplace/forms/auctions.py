"""Auction forms: the bid and a new auction. Shape validation only."""

from decimal import Decimal

from django import forms
from django.conf import settings
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from marketplace.forms.catalog import CategoryChoiceField, check_photo_count, photos_field
from marketplace.forms.fields import CityChoiceField
from marketplace.models import Product


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
    """The product's fields plus the auction's: price, optional reserve, duration, photos."""

    category = CategoryChoiceField(label=_("Category"))
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
        # A callable, so the labels are made in the language of each request, not at import.
        choices=lambda: [
            (days, ngettext("%d day", "%d days", days) % days) for days in range(1, 15)
        ],
    )
    images = photos_field()

    class Meta:
        model = Product
        fields = ["title", "description", "category", "condition", "city"]
        widgets = {"description": forms.Textarea(attrs={"rows": 6})}

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["images"].required = True

    def clean(self):
        cleaned = super().clean()
        check_photo_count(self)
        start, reserve = cleaned.get("starting_price"), cleaned.get("reserve_price")
        for name in ("starting_price", "reserve_price"):
            value = cleaned.get(name)
            if value is not None and value > settings.MAX_PRICE:
                self.add_error(name, _("That amount is too large."))
        if start is not None and reserve is not None and reserve < start:
            self.add_error("reserve_price", _("The reserve cannot be below the starting price."))
        return cleaned
