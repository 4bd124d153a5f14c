"""Shipping an order: shape only; who may ship, and when, is services.fulfilment's call."""

from decimal import Decimal

from django import forms
from django.utils.translation import gettext_lazy as _


class ShipForm(forms.Form):
    courier = forms.CharField(
        label=_("Courier"),
        max_length=60,
        help_text=_("For example TCS, Leopards, M&P or Pakistan Post"),
        error_messages={"required": _("Name the courier.")},
    )
    tracking_number = forms.CharField(
        label=_("Tracking number"),
        max_length=60,
        error_messages={"required": _("Enter the tracking number.")},
    )


class BookParcelForm(forms.Form):
    """Booking a courier from the order page; the cash to collect is the order's, not typed."""

    weight_kg = forms.DecimalField(
        label=_("Weight (kg)"),
        min_value=Decimal("0.1"),
        max_value=Decimal("50"),
        max_digits=5,
        decimal_places=2,
        initial=Decimal("0.5"),
        help_text=_("Packed, as the courier will weigh it"),
    )
    pieces = forms.IntegerField(label=_("Pieces"), min_value=1, max_value=20, initial=1)
    cod_amount = forms.DecimalField(
        label=_("Cash to collect (Rs)"),
        disabled=True,
        required=False,
        help_text=_("The order's total when the buyer pays cash on delivery, otherwise nothing"),
    )
