"""Accounts: register, log in (a token), log out (revokes it), tokens, addresses, notices."""

from django.contrib.auth import logout
from django.core.exceptions import NON_FIELD_ERRORS
from django.db.models import Prefetch
from django.forms.models import model_to_dict
from django.utils.translation import gettext as _
from drf_spectacular.utils import extend_schema
from rest_framework import generics, permissions, serializers, status
from rest_framework.exceptions import NotFound
from rest_framework.response import Response
from rest_framework.views import APIView

from marketplace.api import inputs
from marketplace.api import serializers as out
from marketplace.api.errors import error_body
from marketplace.api.forms import form_value
from marketplace.api.permissions import IsSeller
from marketplace.api.views.common import get_scoped, validated
from marketplace.forms.shop_settings import ShopSettingsForm
from marketplace.models import (
    Address,
    ApiToken,
    Category,
    City,
    Notification,
    Province,
    SellerProfile,
)
from marketplace.services import accounts as account_services
from marketplace.services import addresses as address_services
from marketplace.services import notifications as notification_services

REGISTRATION_FIELDS = ("username", "email", "first_name", "last_name", "role", "shop_name")


def _issued(user, name: str, *, status_code: int) -> Response:
    token, key = ApiToken.issue(user=user, name=name)
    body = {"token": key, "token_id": token.pk, "user": out.MeSerializer(user).data}
    return Response(body, status=status_code)


class RegisterView(APIView):
    permission_classes = [permissions.AllowAny]
    authentication_classes: list = []

    @extend_schema(request=inputs.RegisterInput, responses={201: out.IssuedTokenSerializer})
    def post(self, request):
        data = validated(inputs.RegisterInput, request).validated_data
        user = account_services.register_user(
            **{name: data[name] for name in REGISTRATION_FIELDS},
            password=data["password1"],
            phone=data["phone"] or "",
        )
        return _issued(user, "register", status_code=status.HTTP_201_CREATED)


class LoginView(APIView):
    """A new token for this device; the site's cool-off applies (429 while it lasts)."""

    permission_classes = [permissions.AllowAny]
    authentication_classes: list = []

    @extend_schema(request=inputs.LoginInput, responses={200: out.IssuedTokenSerializer})
    def post(self, request):
        serializer = inputs.LoginInput(
            data=request.data,
            context={"request": request, "form_kwargs": {"request": request._request}},
        )
        if not serializer.is_valid():
            form = getattr(serializer, "form", None)
            if form is not None and form.has_error(NON_FIELD_ERRORS, "throttled"):
                message = form.errors[NON_FIELD_ERRORS][0]
                return Response(error_body(message, "throttled"), status=429)
            raise serializers.ValidationError(serializer.errors)
        name = request.data.get("name", "") if hasattr(request.data, "get") else ""
        user = serializer.form.get_user()
        return _issued(user, name if isinstance(name, str) else "", status_code=200)


class LogoutView(APIView):
    """Revokes the token the request was made with (or ends the browser's session)."""

    permission_classes = [permissions.IsAuthenticated]

    @extend_schema(request=None, responses={204: None})
    def post(self, request):
        if isinstance(request.auth, ApiToken):
            request.auth.delete()
        else:
            logout(request._request)
        return Response(status=status.HTTP_204_NO_CONTENT)


class MeView(generics.RetrieveAPIView):
    permission_classes = [permissions.IsAuthenticated]
    serializer_class = out.MeSerializer

    def get_object(self):
        return self.request.user


class ShopDelivery(APIView):
    """Your shop's delivery fees, dispatch days and cash on delivery (the page
    /account/shop/delivery/): checked by the same form, saved by the same service. Only the
    shop's owner reaches it; a buyer gets 403."""

    permission_classes = [IsSeller]

    def _profile(self, request) -> SellerProfile:
        profile = SellerProfile.objects.filter(user=request.user).first()
        if profile is None:
            raise NotFound(_("You have no shop yet: set up your shop first."))
        return profile

    @extend_schema(responses={200: out.ShopDeliverySerializer})
    def get(self, request):
        return Response(out.ShopDeliverySerializer(self._profile(request)).data)

    @extend_schema(request=inputs.ShopDeliveryInput, responses={200: out.ShopDeliverySerializer})
    def put(self, request):
        return self._save(request, partial=False)

    @extend_schema(request=inputs.ShopDeliveryInput, responses={200: out.ShopDeliverySerializer})
    def patch(self, request):
        return self._save(request, partial=True)

    def _save(self, request, *, partial: bool) -> Response:
        profile = self._profile(request)
        initial = {}
        if partial:  # what is not sent stays as it is, the province table too
            fields = [name for name in inputs.ShopDeliveryInput._declared_fields if name != "rates"]
            stored = model_to_dict(profile, fields=fields)
            initial = {k: form_value(v) for k, v in stored.items() if v is not None}
            initial.update(
                (ShopSettingsForm.province_field(rate.province), form_value(rate.fee))
                for rate in profile.delivery_rates.select_related("province")
            )
        serializer = validated(
            inputs.ShopDeliveryInput, request, initial=initial, form_kwargs={"instance": profile}
        )
        profile = account_services.save_shop_settings(form=serializer.form)
        return Response(out.ShopDeliverySerializer(profile).data)


class TokenList(generics.ListAPIView):
    """The user's tokens (never their keys): one per device or script."""

    permission_classes = [permissions.IsAuthenticated]
    serializer_class = out.TokenSerializer

    def get_queryset(self):
        return ApiToken.objects.filter(user=self.request.user)


class TokenDetail(generics.DestroyAPIView):
    """Revoke one of your tokens (staff revoke anyone's in the admin)."""

    permission_classes = [permissions.IsAuthenticated]
    serializer_class = out.TokenSerializer

    def get_object(self):
        tokens = ApiToken.objects.filter(user=self.request.user)
        return get_scoped(tokens, pk=self.kwargs["pk"])


# --- Reference data -------------------------------------------------------------------------


class CategoryList(generics.ListAPIView):
    permission_classes = [permissions.AllowAny]
    serializer_class = out.CategorySerializer
    queryset = Category.objects.order_by("parent_id", "position", "name")


class ProvinceList(generics.ListAPIView):
    """Provinces with their cities (a city's id is what addresses and listings take)."""

    permission_classes = [permissions.AllowAny]
    serializer_class = out.ProvinceSerializer
    queryset = Province.objects.order_by("name").prefetch_related(
        Prefetch("cities", queryset=City.objects.order_by("name"))
    )


class CityList(generics.ListAPIView):
    permission_classes = [permissions.AllowAny]
    serializer_class = out.CitySerializer

    def get_queryset(self):
        cities = City.objects.order_by("name")
        province = self.request.query_params.get("province", "")
        if province:
            if not (province.isascii() and province.isdigit() and len(province) < 10):
                return cities.none()
            cities = cities.filter(province_id=int(province))
        return cities


# --- Addresses ------------------------------------------------------------------------------


def _addresses(user):
    return Address.objects.filter(user=user).select_related("city__province")


class AddressList(generics.ListCreateAPIView):
    permission_classes = [permissions.IsAuthenticated]
    serializer_class = out.AddressSerializer

    def get_queryset(self):
        return _addresses(self.request.user).order_by("-is_default", "pk")

    @extend_schema(request=inputs.AddressInput, responses={201: out.AddressSerializer})
    def post(self, request):
        serializer = validated(inputs.AddressInput, request)
        address = address_services.save_address(
            user=request.user, address=serializer.form.save(commit=False)
        )
        return Response(out.AddressSerializer(address).data, status=status.HTTP_201_CREATED)


class AddressDetail(generics.RetrieveUpdateDestroyAPIView):
    permission_classes = [permissions.IsAuthenticated]
    serializer_class = out.AddressSerializer

    def get_object(self):
        return get_scoped(_addresses(self.request.user), pk=self.kwargs["pk"])

    @extend_schema(request=inputs.AddressInput)
    def put(self, request, pk: int):
        return self._save(request, partial=False)

    @extend_schema(request=inputs.AddressInput)
    def patch(self, request, pk: int):
        return self._save(request, partial=True)

    def _save(self, request, *, partial: bool) -> Response:
        address = self.get_object()
        initial = {}
        if partial:
            stored = model_to_dict(address, fields=inputs.AddressInput._declared_fields)
            initial = {k: form_value(v) for k, v in stored.items() if v is not None}
        serializer = validated(
            inputs.AddressInput,
            request,
            initial=initial,
            form_kwargs={"instance": address},
        )
        address = address_services.save_address(
            user=request.user, address=serializer.form.save(commit=False)
        )
        return Response(out.AddressSerializer(address).data)

    def perform_destroy(self, instance: Address) -> None:
        address_services.delete_address(user=self.request.user, address_id=instance.pk)


class AddressMakeDefault(APIView):
    permission_classes = [permissions.IsAuthenticated]

    @extend_schema(request=None, responses={200: out.AddressSerializer})
    def post(self, request, pk: int):
        address = get_scoped(_addresses(request.user), pk=pk)
        address = address_services.set_default_address(user=request.user, address_id=address.pk)
        return Response(out.AddressSerializer(address).data)


# --- Notifications --------------------------------------------------------------------------


class NotificationList(generics.ListAPIView):
    permission_classes = [permissions.IsAuthenticated]
    serializer_class = out.NotificationSerializer

    def get_queryset(self):
        notices = Notification.objects.filter(user=self.request.user)
        if self.request.query_params.get("unread") in {"1", "true"}:
            notices = notices.unread()
        return notices.order_by("-created_at", "-pk")


class NotificationRead(APIView):
    permission_classes = [permissions.IsAuthenticated]

    @extend_schema(request=None, responses={200: out.NotificationSerializer})
    def post(self, request, pk: int):
        notices = Notification.objects.filter(user=request.user)
        notice = get_scoped(notices, pk=pk)
        notification_services.mark_read(user=request.user, notification_id=notice.pk)
        notice.refresh_from_db()
        return Response(out.NotificationSerializer(notice).data)


class NotificationReadAll(APIView):
    permission_classes = [permissions.IsAuthenticated]

    @extend_schema(request=None, responses={200: out.CountSerializer})
    def post(self, request):
        return Response({"updated": notification_services.mark_read(user=request.user)})
