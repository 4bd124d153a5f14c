"""The seller's delivery and cash-on-delivery settings (issue 15)."""

from decimal import Decimal

from django import forms
from django.db import transaction
from django.utils.translation import gettext_lazy as _

from marketplace.models import DeliveryRate, Province, SellerProfile


class ShopSettingsForm(forms.ModelForm):
    """Delivery fee (flat, or by province with the flat fee for provinces left empty), dispatch
    time and cash on delivery. The province fees are one optional field per province."""

    class Meta:
        model = SellerProfile
        fields = (
            "delivery_fee_mode",
            "delivery_fee",
            "dispatch_days",
            "accepts_cod",
            "cod_for_auctions",
        )
        widgets = {"delivery_fee_mode": forms.RadioSelect}

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.provinces = list(Province.objects.order_by("name"))
        current = {rate.province_id: rate.fee for rate in self.instance.delivery_rates.all()}
        for province in self.provinces:
            self.fields[self.province_field(province)] = forms.DecimalField(
                label=province.display_name,
                required=False,
                min_value=Decimal("0"),
                max_digits=12,
                decimal_places=2,
                initial=current.get(province.pk),
                widget=forms.NumberInput(
                    attrs={"step": "1", "inputmode": "decimal", "class": "form-control"}
                ),
            )
        self.fields["dispatch_days"].min_value = 0

    @staticmethod
    def province_field(province: Province) -> str:
        return f"province_{province.pk}"

    def province_fields(self) -> list:
        """The bound fields of the per-province table, in province order."""
        return [self[self.province_field(p)] for p in self.provinces]

    def clean(self) -> dict:
        data = super().clean()
        by_province = data.get("delivery_fee_mode") == "province"
        if by_province and not any(
            data.get(self.province_field(p)) is not None for p in self.provinces
        ):
            self.add_error(
                None, _("Enter the fee for at least one province, or charge the same everywhere.")
            )
        return data

    @transaction.atomic
    def save(self, commit: bool = True) -> SellerProfile:
        profile = super().save(commit=True)
        for province in self.provinces:
            fee = self.cleaned_data.get(self.province_field(province))
            if fee is None:
                DeliveryRate.objects.filter(profile=profile, province=province).delete()
            else:
                DeliveryRate.objects.update_or_create(
                    profile=profile, province=province, defaults={"fee": fee}
                )
        return profile
