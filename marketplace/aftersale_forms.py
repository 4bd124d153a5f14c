"""Forms of the after-sale pages (shipping, messages, feedback, reviews, complaints).

Shape validation only: who may do what, and when, is decided by the services.
"""

from crispy_forms.bootstrap import InlineRadios
from crispy_forms.helper import FormHelper
from crispy_forms.layout import Field, Layout
from django import forms
from django.utils.translation import gettext_lazy as _

from marketplace.models import Complaint, Feedback, Order, User
from marketplace.models.messaging import MESSAGE_MAX_LENGTH

SCORES = [(n, str(n)) for n in range(1, 6)]
STARS = "marketplace/orders/_star_field.html"  # a score drawn as five star radio buttons


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


class ComplaintForm(forms.ModelForm):
    class Meta:
        model = Complaint
        fields = ["category", "subject", "description", "order", "seller"]
        widgets = {
            "subject": forms.TextInput(attrs={"dir": "auto"}),
            "description": forms.Textarea(attrs={"rows": 6, "dir": "auto"}),
        }

    # A plain file field: the service decodes and re-encodes it (never stores the upload).
    photo = forms.FileField(
        label=_("Photo"),
        required=False,
        help_text=_("Optional: a JPEG, PNG or WebP photo of the problem."),
        widget=forms.ClearableFileInput(attrs={"accept": "image/jpeg,image/png,image/webp"}),
    )

    def __init__(self, *args, user: User, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["category"].choices = [
            ("", _("Choose what it is about")),
            *Complaint.Category.choices,
        ]
        # Only the user's own orders; any seller (a complaint may be about a listing).
        orders = Order.objects.for_user(user).order_by("-created_at")
        self.fields["order"].queryset = orders
        self.fields["order"].label_from_instance = lambda order: order.number
        self.fields["order"].empty_label = _("Not about an order")
        self.fields["order"].error_messages["invalid_choice"] = _("Choose one of your own orders.")
        self.fields["seller"].queryset = (
            User.objects.filter(role__in=[User.Role.SELLER, User.Role.BOTH])
            .exclude(pk=user.pk)
            .select_related("seller_profile")
            .order_by("seller_profile__shop_name", "username")
        )
        self.fields["seller"].label_from_instance = lambda seller: seller.public_name
        self.fields["seller"].empty_label = _("Not about a seller")
        self.fields["seller"].error_messages["invalid_choice"] = _("Choose a seller from the list.")
