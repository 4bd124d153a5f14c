"""Returns: shape only; who may ask, answer or dispute, and when, is services.returns' call."""

from django import forms
from django.utils.translation import gettext_lazy as _

from marketplace.forms.catalog import MultipleImageField
from marketplace.models import ReturnRequest
from marketplace.models.returns import MAX_RETURN_PHOTOS
from marketplace.services.returns import TEXT_MAX_LENGTH


class ReturnPhotosField(MultipleImageField):
    """Up to MAX_RETURN_PHOTOS photos, counted before any is decoded; each is re-encoded while
    the form cleans (marketplace.images), so a bad one is an error here and nothing is stored."""

    def clean(self, data, initial=None) -> list:
        uploads = [f for f in (data if isinstance(data, list | tuple) else [data]) if f]
        if len(uploads) > MAX_RETURN_PHOTOS:
            raise forms.ValidationError(
                _("Choose at most %(max)s photos; you chose %(count)s.")
                % {"max": MAX_RETURN_PHOTOS, "count": len(uploads)},
                code="too_many",
            )
        return super().clean(uploads, initial)


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
        widget=forms.Textarea(attrs={"rows": 4, "dir": "auto"}),
        help_text=_("The seller reads this first. Describe the problem as you would to a friend."),
        error_messages={"required": _("Please say what is wrong.")},
    )
    photos = ReturnPhotosField(
        label=_("Photos"),
        help_text=_(
            "Optional: up to 3 JPEG, PNG or WebP photos of the problem. Only the seller and "
            "MadeInPK staff see them."
        ),
    )


class ReturnRefuseForm(forms.Form):
    refusal_reason = forms.CharField(
        label=_("Why do you refuse?"),
        max_length=TEXT_MAX_LENGTH,
        widget=forms.Textarea(attrs={"rows": 3, "dir": "auto"}),
        help_text=_("The buyer sees this, and MadeInPK staff if the buyer disagrees."),
        error_messages={"required": _("Please say why you refuse the return.")},
    )


class ReturnDisputeForm(forms.Form):
    note = forms.CharField(
        label=_("Anything staff should know?"),
        max_length=TEXT_MAX_LENGTH,
        required=False,
        widget=forms.Textarea(attrs={"rows": 3, "dir": "auto"}),
    )
