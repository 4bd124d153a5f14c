"""Returns: shape only; who may ask, answer or dispute, and when, is services.returns' call."""

from django import forms
from django.utils.translation import gettext_lazy as _

from marketplace.models import ReturnRequest
from marketplace.services.returns import TEXT_MAX_LENGTH


class ReturnRequestForm(forms.Form):
    reason = forms.ChoiceField(
        label=_("Why do you want to return it?"),
        choices=ReturnRequest.Reason.choices,
        widget=forms.RadioSelect,
        error_messages={"required": _("Choose a reason for the return.")},
    )
    details = forms.CharField(
        label=_("What is wrong?"),
        max_length=TEXT_MAX_LENGTH,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text=_("The seller reads this first. Describe the problem as you would to a friend."),
        error_messages={"required": _("Please say what is wrong.")},
    )


class ReturnRefuseForm(forms.Form):
    refusal_reason = forms.CharField(
        label=_("Why do you refuse?"),
        max_length=TEXT_MAX_LENGTH,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("The buyer sees this, and MadeInPK staff if the buyer disagrees."),
        error_messages={"required": _("Please say why you refuse the return.")},
    )


class ReturnDisputeForm(forms.Form):
    note = forms.CharField(
        label=_("Anything staff should know?"),
        max_length=TEXT_MAX_LENGTH,
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
    )
