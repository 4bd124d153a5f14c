"""Cart and checkout forms: shape validation only; stock and prices are the services'."""

from django import forms
from django.utils.translation import gettext_lazy as _

from marketplace.models import Address


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
