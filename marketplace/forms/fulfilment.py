"""Shipping an order: shape only; who may ship, and when, is services.fulfilment's call."""

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
