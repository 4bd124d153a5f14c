"""Forms for accounts: log in, register, profile, seller profile. Shape validation only."""

from datetime import datetime
from math import ceil
from urllib.parse import urlsplit

from django import forms
from django.contrib.admin.forms import AdminAuthenticationForm
from django.contrib.auth.base_user import BaseUserManager
from django.contrib.auth.forms import AuthenticationForm, UserCreationForm
from django.core.exceptions import ValidationError
from django.core.validators import URLValidator
from django.utils import timezone
from django.utils.formats import time_format
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from marketplace.auth import cool_off_ends
from marketplace.forms.fields import CityChoiceField, PakistaniMobileField
from marketplace.models import SellerProfile, User

SELLING_ROLES = {User.Role.SELLER, User.Role.BOTH}


def cooloff_message(until: datetime) -> str:
    minutes = max(1, ceil((until - timezone.now()).total_seconds() / 60))
    at = time_format(timezone.localtime(until), "H:i")
    return ngettext(
        "Too many failed log-in attempts. For your safety, logging in is paused: "
        "try again in %(minutes)d minute (after %(time)s).",
        "Too many failed log-in attempts. For your safety, logging in is paused: "
        "try again in %(minutes)d minutes (after %(time)s).",
        minutes,
    ) % {"minutes": minutes, "time": at}


class ThrottledLoginMixin:
    """Explain a cool-off in place of "wrong password" when django-axes refused or started one."""

    def clean(self):
        try:
            return super().clean()
        except ValidationError:
            if getattr(self.request, "axes_locked_out", False):
                until = cool_off_ends(self.request)
                raise ValidationError(cooloff_message(until), code="throttled") from None
            raise


class LoginForm(ThrottledLoginMixin, AuthenticationForm):
    error_messages = {
        **AuthenticationForm.error_messages,
        "invalid_login": _(
            "That username or e-mail and password do not match an account. "
            "The password is case-sensitive."
        ),
    }

    def __init__(self, request=None, *args, **kwargs) -> None:
        super().__init__(request, *args, **kwargs)
        self.fields["username"].label = _("Username or e-mail")
        self.fields["username"].widget.attrs["autocomplete"] = "username"


class AdminLoginForm(ThrottledLoginMixin, AdminAuthenticationForm):
    """The admin's log-in form, throttled like the site's."""


class RegistrationForm(UserCreationForm):
    first_name = forms.CharField(label=_("First name"), max_length=150)
    last_name = forms.CharField(label=_("Last name"), max_length=150, required=False)
    phone = PakistaniMobileField(
        label=_("Mobile number"),
        required=False,
        help_text=_("Optional. For example 0300-1234567; sellers use it to arrange delivery."),
    )
    role = forms.TypedChoiceField(
        label=_("I want to"),
        choices=[
            (User.Role.BUYER, _("Buy")),
            (User.Role.SELLER, _("Sell")),
            (User.Role.BOTH, _("Buy and sell")),
        ],
        initial=User.Role.BUYER,
        widget=forms.RadioSelect,
    )
    shop_name = forms.CharField(
        label=_("Shop name"),
        max_length=80,
        required=False,
        help_text=_("Only if you sell: the name buyers will see. You can add the rest later."),
        widget=forms.TextInput(attrs={"autocomplete": "organization", "dir": "auto"}),
    )

    class Meta(UserCreationForm.Meta):
        model = User
        fields = ("username", "email", "first_name", "last_name", "phone", "role")
        labels = {"email": _("E-mail address")}

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["email"].required = True
        self.fields["email"].widget.attrs["autocomplete"] = "email"
        self.fields["first_name"].widget.attrs["autocomplete"] = "given-name"
        self.fields["last_name"].widget.attrs["autocomplete"] = "family-name"
        self.fields["username"].help_text = _(
            "Letters, digits and . + - _ only; 150 characters at most."
        )

    def clean_username(self) -> str:
        username = super().clean_username()
        if username and "@" in username:
            # The e-mail field logs in too; an "@" in a username could shadow someone's e-mail.
            raise ValidationError(_("A username cannot contain “@”."), code="invalid")
        return username

    def clean_email(self) -> str:
        email = BaseUserManager.normalize_email(self.cleaned_data.get("email", "").strip())
        if User.objects.filter(email__iexact=email).exists():
            raise ValidationError(
                _(
                    "An account with this e-mail address already exists. "
                    "Log in, or reset your password if you forgot it."
                ),
                code="email_taken",
            )
        return email

    def clean_shop_name(self) -> str:
        name = " ".join(self.cleaned_data.get("shop_name", "").split())
        if name and SellerProfile.objects.filter(shop_name__iexact=name).exists():
            raise ValidationError(
                _("A shop called “%(name)s” already exists. Please choose another name."),
                params={"name": name},
                code="shop_name_taken",
            )
        return name

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("role") in SELLING_ROLES and not cleaned.get("shop_name"):
            if "shop_name" not in self.errors:
                self.add_error(
                    "shop_name",
                    _("Choose a shop name to sell on MadeInPK (you can change it later)."),
                )
        return cleaned


class ProfileForm(forms.ModelForm):
    first_name = forms.CharField(label=_("First name"), max_length=150)
    last_name = forms.CharField(label=_("Last name"), max_length=150, required=False)
    phone = PakistaniMobileField(label=_("Mobile number"), required=False)

    current_password = forms.CharField(
        label=_("Current password"),
        required=False,
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
        help_text=_("Needed only to change your e-mail address."),
    )

    class Meta:
        model = User
        fields = ("first_name", "last_name", "email", "phone", "email_notifications")
        labels = {"email": _("E-mail address")}
        help_texts = {
            "email": _("A new address is used once you open the link we send to it."),
        }

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["email"].required = True
        self.current_email = self.instance.email

    def email_changed(self) -> bool:
        return self.cleaned_data.get("email", "").lower() != (self.current_email or "").lower()

    def clean(self):
        cleaned = super().clean()
        if "email" in cleaned and self.email_changed():
            if not self.instance.check_password(cleaned.get("current_password") or ""):
                self.add_error(
                    "current_password",
                    _("Enter your current password to change your e-mail address."),
                )
        return cleaned

    def clean_email(self) -> str:
        email = BaseUserManager.normalize_email(self.cleaned_data.get("email", "").strip())
        taken = User.objects.filter(email__iexact=email).exclude(pk=self.instance.pk)
        if taken.exists():
            raise ValidationError(
                _("Another account already uses this e-mail address."), code="email_taken"
            )
        return email


class WebURLField(forms.URLField):
    """A web link: http or https only (no ftp, no javascript:)."""

    default_validators = [URLValidator(schemes=["http", "https"])]

    def __init__(self, **kwargs) -> None:
        kwargs.setdefault("assume_scheme", "https")
        kwargs.setdefault("max_length", 200)
        kwargs.setdefault("required", False)
        super().__init__(**kwargs)


def _social_url_field(label, help_text) -> forms.URLField:
    return WebURLField(label=label, help_text=help_text)


def _host_is(url: str, domains: tuple[str, ...]) -> bool:
    host = (urlsplit(url).hostname or "").lower()
    return any(host == domain or host.endswith("." + domain) for domain in domains)


class SellerProfileForm(forms.ModelForm):
    """Shop details a seller edits; `is_verified` is granted by staff in the admin only."""

    city = CityChoiceField(label=_("City"), required=False)
    website = _social_url_field(_("Website"), _("Optional, e.g. https://example.pk"))
    facebook = _social_url_field(
        _("Facebook page"), _("Optional, e.g. https://facebook.com/yourshop")
    )
    instagram = _social_url_field(
        _("Instagram"), _("Optional, e.g. https://instagram.com/yourshop")
    )

    class Meta:
        model = SellerProfile
        fields = ("shop_name", "bio", "city", "website", "facebook", "instagram")
        widgets = {
            # dir="auto": names and descriptions are often written in Urdu.
            "bio": forms.Textarea(attrs={"rows": 5, "dir": "auto"}),
            "shop_name": forms.TextInput(attrs={"autocomplete": "organization", "dir": "auto"}),
        }
        help_texts = {
            "shop_name": _("The name buyers see; your shop's web address is made from it."),
            "bio": _("Your craft, your materials, where you work. 2,000 characters at most."),
        }

    def clean_shop_name(self) -> str:
        name = " ".join(self.cleaned_data.get("shop_name", "").split())
        if not name:
            raise ValidationError(_("Choose a shop name."), code="required")
        taken = SellerProfile.objects.filter(shop_name__iexact=name)
        if self.instance.pk:
            taken = taken.exclude(pk=self.instance.pk)
        if taken.exists():
            raise ValidationError(
                _("A shop called “%(name)s” already exists. Please choose another name."),
                params={"name": name},
                code="shop_name_taken",
            )
        return name

    def clean_facebook(self) -> str:
        url = self.cleaned_data.get("facebook", "")
        if url and not _host_is(url, ("facebook.com", "fb.com", "fb.me")):
            raise ValidationError(_("Enter a link to a Facebook page (facebook.com/…)."))
        return url

    def clean_instagram(self) -> str:
        url = self.cleaned_data.get("instagram", "")
        if url and not _host_is(url, ("instagram.com",)):
            raise ValidationError(_("Enter a link to an Instagram profile (instagram.com/…)."))
        return url
