"""Feedback on a seller, the seller's reply, and product reviews. Shape only."""

from crispy_forms.bootstrap import InlineRadios
from crispy_forms.helper import FormHelper
from crispy_forms.layout import Field, Layout
from django import forms
from django.utils.translation import gettext_lazy as _

from marketplace.models import Feedback

SCORES = [(n, str(n)) for n in range(1, 6)]
STARS = "marketplace/orders/_star_field.html"  # a score drawn as five star radio buttons


class ScoreField(forms.TypedChoiceField):
    def __init__(self, **kwargs) -> None:
        kwargs.setdefault("choices", SCORES)
        kwargs.setdefault("coerce", int)
        kwargs.setdefault("widget", forms.RadioSelect(attrs={"class": "score"}))
        kwargs.setdefault("error_messages", {"required": _("Choose from 1 to 5.")})
        super().__init__(**kwargs)


class FeedbackForm(forms.ModelForm):
    seller_rating = ScoreField(
        label=_("Overall, the seller"), help_text=_("1 is poor, 5 is excellent")
    )
    communication = ScoreField(label=_("Communication"))
    shipping_speed = ScoreField(label=_("Shipping speed"))
    item_as_described = forms.TypedChoiceField(
        label=_("Was the item as described?"),
        choices=[("yes", _("Yes")), ("no", _("No"))],
        coerce=lambda value: value == "yes",
        widget=forms.RadioSelect,
        error_messages={"required": _("Tell us whether the item was as described.")},
    )
    platform_rating = ScoreField(label=_("And MadeInPK itself?"))

    class Meta:
        model = Feedback
        fields = [
            "seller_rating",
            "communication",
            "shipping_speed",
            "item_as_described",
            "comment",
            "platform_rating",
            "platform_comment",
        ]
        widgets = {
            "comment": forms.Textarea(attrs={"rows": 3, "dir": "auto"}),
            "platform_comment": forms.Textarea(attrs={"rows": 2, "dir": "auto"}),
        }
        labels = {
            "comment": _("Anything other buyers should know? (optional)"),
            "platform_comment": _("Anything we could do better? (optional, only staff see it)"),
        }

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.helper = FormHelper()
        self.helper.form_tag = False  # the template owns the <form> (HTMX attributes)
        self.helper.layout = Layout(
            Field("seller_rating", template=STARS),
            Field("communication", template=STARS),
            Field("shipping_speed", template=STARS),
            InlineRadios("item_as_described"),
            "comment",
            Field("platform_rating", template=STARS),
            "platform_comment",
        )


class FeedbackReplyForm(forms.Form):
    reply = forms.CharField(
        label=_("Your reply"),
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 2, "dir": "auto"}),
        help_text=_("You can reply once; everyone who reads the feedback sees it."),
        error_messages={"required": _("Write a reply before sending.")},
    )


class ReviewForm(forms.Form):
    rating = ScoreField(label=_("Your rating"), help_text=_("1 is poor, 5 is excellent"))
    title = forms.CharField(
        label=_("Title"), max_length=120, widget=forms.TextInput(attrs={"dir": "auto"})
    )
    text = forms.CharField(
        label=_("Your review"),
        max_length=4000,
        widget=forms.Textarea(attrs={"rows": 5, "dir": "auto"}),
    )

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.helper = FormHelper()
        self.helper.form_tag = False
        self.helper.layout = Layout(Field("rating", template=STARS), "title", "text")
