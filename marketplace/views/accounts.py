"""Accounts: register, log in and out, profile, shop details, address book."""

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import login, logout
from django.contrib.auth.decorators import login_required
from django.contrib.auth.forms import PasswordResetForm
from django.contrib.auth.views import LoginView, PasswordResetView
from django.core.exceptions import NON_FIELD_ERRORS
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from marketplace.auth import reset_email_refusal
from marketplace.exceptions import AccountError, MarketplaceError, ShopNameTaken
from marketplace.forms.accounts import (
    SELLING_ROLES,
    LoginForm,
    ProfileForm,
    RegistrationForm,
    SellerProfileForm,
)
from marketplace.forms.addresses import AddressForm
from marketplace.forms.shop_settings import ShopSettingsForm
from marketplace.models import Address, Checkout, City, SellerProfile, User
from marketplace.services.accounts import register_user, save_seller_profile, save_shop_settings
from marketplace.services.addresses import delete_address, save_address, set_default_address
from marketplace.services.email_change import (
    confirm_email_change,
    request_email_change,
    undo_email_change,
)
from marketplace.services.payments import choose_checkout_address
from marketplace.views.access import get_address_for_user
from marketplace.views.decorators import seller_required


def _safe_next(request: HttpRequest) -> str:
    """The `next` URL from POST or GET if it points to this site, else ""."""
    url = request.POST.get("next") or request.GET.get("next") or ""
    if url and url_has_allowed_host_and_scheme(
        url, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return url
    return ""


# --- Register, log in, log out ----------------------------------------------------------------


@require_http_methods(["GET", "POST"])
def register(request: HttpRequest) -> HttpResponse:
    if request.user.is_authenticated:
        return redirect(_safe_next(request) or "profile")
    form = RegistrationForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            user = register_user(
                username=data["username"],
                email=data["email"],
                password=data["password1"],
                first_name=data["first_name"],
                last_name=data["last_name"],
                phone=data["phone"] or "",
                role=data["role"],
                shop_name=data["shop_name"],
            )
        except ShopNameTaken as error:
            form.add_error("shop_name", error.message)
        except AccountError as error:
            form.add_error(None, error.message)
        else:
            login(request, user)
            messages.success(
                request, _("Welcome to MadeInPK, %(name)s!") % {"name": user.first_name}
            )
            if next_url := _safe_next(request):
                return redirect(next_url)
            if user.role in SELLING_ROLES:
                messages.info(
                    request,
                    _("Your shop is open. Tell buyers about your craft and where you work."),
                )
                return redirect("seller_profile_edit")
            return redirect(settings.LOGIN_REDIRECT_URL)
    return render(
        request,
        "marketplace/accounts/register.html",
        {"form": form, "next": _safe_next(request)},
    )


class ThrottledLoginView(LoginView):
    """Django's LoginView with the throttled, username-or-e-mail form."""

    authentication_form = LoginForm
    redirect_authenticated_user = True

    def form_invalid(self, form: LoginForm) -> HttpResponse:
        response = super().form_invalid(form)
        if form.has_error(NON_FIELD_ERRORS, "throttled"):
            response.status_code = 429
        return response


login_view = ThrottledLoginView.as_view()


class ThrottledPasswordResetView(PasswordResetView):
    """Django's PasswordResetView, refusing (429) past the per-address and per-e-mail limits."""

    def form_valid(self, form: PasswordResetForm) -> HttpResponse:
        refusal = reset_email_refusal(self.request, form.cleaned_data["email"])
        if refusal is not None:
            form.add_error(None, refusal)
            response = self.form_invalid(form)
            response.status_code = 429
            return response
        return super().form_valid(form)


password_reset = ThrottledPasswordResetView.as_view()


@require_http_methods(["GET", "POST"])
def logout_view(request: HttpRequest) -> HttpResponse:
    """POST logs out; GET only asks (a link or a prefetch must never log anyone out)."""
    if request.method == "POST":
        logout(request)
        messages.info(request, _("You are logged out. See you soon."))
        return redirect(_safe_next(request) or settings.LOGOUT_REDIRECT_URL)
    return render(request, "marketplace/accounts/logout_confirm.html")


# --- Profile and shop -------------------------------------------------------------------------


@login_required
@require_safe
def profile(request: HttpRequest) -> HttpResponse:
    user = request.user
    context = {
        "seller_profile": SellerProfile.objects.filter(user=user).select_related("city").first(),
        "default_address": Address.objects.filter(user=user, is_default=True)
        .select_related("city__province")
        .first(),
        "address_count": Address.objects.filter(user=user).count(),
    }
    return render(request, "marketplace/accounts/profile.html", context)


@login_required
@require_http_methods(["GET", "POST"])
def profile_edit(request: HttpRequest) -> HttpResponse:
    # A fresh copy: an invalid form must not leave half-applied changes on request.user.
    instance = User.objects.get(pk=request.user.pk)
    form = ProfileForm(request.POST or None, instance=instance)
    if request.method == "POST" and form.is_valid():
        new_email = form.cleaned_data["email"]
        changing = form.email_changed()
        # The address itself changes only when the link sent to it is opened.
        form.instance.email = form.current_email
        form.save()
        if changing:
            request_email_change(
                user=form.instance,
                new_email=new_email,
                confirm_url=lambda token: request.build_absolute_uri(
                    reverse("email_change_confirm", args=[token])
                ),
            )
            messages.info(
                request,
                _(
                    "Your details are saved. To change your e-mail address, open the link we "
                    "sent to %(email)s."
                )
                % {"email": new_email},
            )
        else:
            messages.success(request, _("Your details are saved."))
        return redirect("profile")
    return render(request, "marketplace/accounts/profile_edit.html", {"form": form})


@require_http_methods(["GET", "POST"])
def email_change_confirm(request: HttpRequest, token: str) -> HttpResponse:
    """The link sent to the new address: GET asks (mail scanners open links), POST applies."""
    if request.method == "POST":
        try:
            confirm_email_change(
                token=token,
                undo_url=lambda undo: request.build_absolute_uri(
                    reverse("email_change_undo", args=[undo])
                ),
            )
        except AccountError as error:
            messages.error(request, error.message)
        else:
            messages.success(request, _("Your e-mail address is changed."))
        return redirect("profile" if request.user.is_authenticated else "login")
    return render(request, "marketplace/accounts/email_change.html", {"undo": False})


@require_http_methods(["GET", "POST"])
def email_change_undo(request: HttpRequest, token: str) -> HttpResponse:
    """The link sent to the old address: put it back, end every session, new password."""
    if request.method == "POST":
        try:
            undo_email_change(token=token)
        except AccountError as error:
            messages.error(request, error.message)
            return redirect("login")
        logout(request)
        messages.success(
            request,
            _(
                "Your e-mail address is back and every session of your account has ended. "
                "Choose a new password: we send the link to your address."
            ),
        )
        return redirect("password_reset")
    return render(request, "marketplace/accounts/email_change.html", {"undo": True})


@login_required
@require_http_methods(["GET", "POST"])
def seller_profile_edit(request: HttpRequest) -> HttpResponse:
    """Open a shop (a buyer becomes buyer-and-seller) or edit its details."""
    instance = SellerProfile.objects.filter(user=request.user).first()
    form = SellerProfileForm(request.POST or None, instance=instance)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            save_seller_profile(
                user=request.user,
                shop_name=data["shop_name"],
                bio=data["bio"],
                city=data["city"],
                website=data["website"],
                facebook=data["facebook"],
                instagram=data["instagram"],
            )
        except ShopNameTaken as error:
            form.add_error("shop_name", error.message)
        else:
            if instance is None:
                messages.success(request, _("Your shop is open. Welcome, seller!"))
            else:
                messages.success(request, _("Your shop details are saved."))
            return redirect(_safe_next(request) or "profile")
    return render(
        request,
        "marketplace/accounts/seller_profile_edit.html",
        {"form": form, "creating": instance is None, "next": _safe_next(request)},
    )


# --- Address book -----------------------------------------------------------------------------


@login_required
@require_safe
def address_list(request: HttpRequest) -> HttpResponse:
    addresses = Address.objects.filter(user=request.user).select_related("city__province")
    return render(request, "marketplace/accounts/address_list.html", {"addresses": addresses})


@login_required
@require_http_methods(["GET", "POST"])
def address_create(request: HttpRequest) -> HttpResponse:
    user = request.user
    form = AddressForm(
        request.POST or None,
        initial={"full_name": user.get_full_name(), "phone": user.phone},
    )
    # Added from a checkout that waits for an address (a won auction): ship it there at
    # once, so the buyer comes back to the Pay button without choosing it again.
    number = (request.POST.get("checkout") or request.GET.get("checkout") or "")[:32]
    checkout = Checkout.objects.filter(buyer=user, number=number).first() if number else None
    if request.method == "POST" and form.is_valid():
        address = save_address(user=user, address=form.save(commit=False))
        messages.success(request, _("Address saved: %(address)s") % {"address": address})
        if checkout is not None:
            try:
                choose_checkout_address(checkout=checkout, buyer=user, address=address)
            except MarketplaceError as error:
                messages.error(request, error.message)
        return redirect(_safe_next(request) or "address_list")
    return render(
        request,
        "marketplace/accounts/address_form.html",
        {"form": form, "address": None, "next": _safe_next(request), "checkout": checkout},
    )


@login_required
@require_http_methods(["GET", "POST"])
def address_edit(request: HttpRequest, pk: int) -> HttpResponse:
    address = get_address_for_user(request.user, pk)
    form = AddressForm(request.POST or None, instance=address)
    if request.method == "POST" and form.is_valid():
        save_address(user=request.user, address=form.save(commit=False))
        messages.success(request, _("Address saved."))
        return redirect(_safe_next(request) or "address_list")
    return render(
        request,
        "marketplace/accounts/address_form.html",
        {"form": form, "address": address, "next": _safe_next(request)},
    )


@login_required
@require_http_methods(["GET", "POST"])
def address_delete(request: HttpRequest, pk: int) -> HttpResponse:
    address = get_address_for_user(request.user, pk)
    if request.method == "POST":
        delete_address(user=request.user, address_id=address.pk)
        messages.success(request, _("Address deleted."))
        return redirect("address_list")
    return render(request, "marketplace/accounts/address_confirm_delete.html", {"address": address})


@login_required
@require_POST
def address_make_default(request: HttpRequest, pk: int) -> HttpResponse:
    address = get_address_for_user(request.user, pk)
    set_default_address(user=request.user, address_id=address.pk)
    messages.success(request, _("Default address changed."))
    return redirect(_safe_next(request) or "address_list")


@require_safe
def city_options(request: HttpRequest) -> HttpResponse:
    """HTMX: the <option>s of one province's cities (none for a missing or bad province id)."""
    province = request.GET.get("province", "")
    cities = City.objects.none()
    if province.isascii() and province.isdigit() and len(province) < 10:
        cities = City.objects.filter(province_id=int(province)).order_by("name")
    selected = request.GET.get("city", "")
    return render(
        request,
        "marketplace/accounts/city_options.html",
        {"cities": cities, "selected": selected},
    )


@seller_required
@require_http_methods(["GET", "POST"])
def shop_settings(request: HttpRequest) -> HttpResponse:
    """The seller's delivery fee, dispatch time and cash-on-delivery settings."""
    profile = SellerProfile.objects.filter(user=request.user).first()
    if profile is None:
        return redirect("seller_profile_edit")
    form = ShopSettingsForm(request.POST or None, instance=profile)
    if request.method == "POST" and form.is_valid():
        save_shop_settings(form=form)
        messages.success(request, _("Your delivery and payment settings are saved."))
        return redirect("shop_settings")
    context = {"form": form, "cod_limit": settings.COD_LIMIT}
    return render(request, "marketplace/accounts/shop_settings.html", context)
