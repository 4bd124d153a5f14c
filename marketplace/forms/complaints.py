"""Filing a complaint: shape only; the photo is decoded and stored by services.complaints."""

from django import forms
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from marketplace.models import Complaint, Order, User


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
        # Only sellers the user dealt with (orders, conversations), and the one a shop's
        # "Report" link names: not every seller on the site.
        dealt = Q(orders_sold__buyer=user) | Q(conversations_as_seller__buyer=user)
        named = self.data.get("seller") or self.initial.get("seller")
        if named and str(named).isdigit():
            dealt |= Q(pk=int(named))
        self.fields["seller"].queryset = (
            User.objects.filter(dealt, role__in=[User.Role.SELLER, User.Role.BOTH])
            .exclude(pk=user.pk)
            .distinct()
            .select_related("seller_profile")
            .order_by("seller_profile__shop_name", "username")
        )
        self.fields["seller"].label_from_instance = lambda seller: seller.public_name
        self.fields["seller"].empty_label = _("Not about a seller")
        self.fields["seller"].error_messages["invalid_choice"] = _("Choose a seller from the list.")


class ComplaintMessageForm(forms.Form):
    body = forms.CharField(
        label=_("Add a message"),
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 3, "dir": "auto"}),
    )
