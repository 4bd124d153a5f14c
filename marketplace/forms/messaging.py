"""Writing a message: shape only; who may write, and how often, is services.messaging's call."""

from crispy_forms.helper import FormHelper
from django import forms
from django.utils.translation import gettext_lazy as _

from marketplace.models.messaging import MESSAGE_MAX_LENGTH


class MessageForm(forms.Form):
    # No max_length attribute on the widget: an over-long message gets a clear error, not a
    # silently truncated paste.
    body = forms.CharField(
        label=_("Message"),
        widget=forms.Textarea(attrs={"rows": 3, "dir": "auto"}),
        strip=True,
        error_messages={"required": _("Write a message before sending.")},
    )

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["body"].widget.attrs["placeholder"] = _("Write a message…")
        self.helper = FormHelper()
        self.helper.form_tag = False
        self.helper.label_class = "visually-hidden"  # the placeholder says it; readers get it

    def clean_body(self) -> str:
        body = self.cleaned_data["body"]
        if len(body) > MESSAGE_MAX_LENGTH:
            raise forms.ValidationError(
                _("Messages can be at most %(max)s characters; yours has %(length)s.")
                % {"max": MESSAGE_MAX_LENGTH, "length": len(body)}
            )
        return body
