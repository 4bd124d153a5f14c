"""Demo only: the demo shops' delivery fees and cash on delivery (issue 15), so a newcomer sees
"Delivery Rs 200 · 3 days to Lahore" on a product page and can check out with cash on delivery, and sees one shop
that does not take it (with the reason at checkout)."""

from decimal import Decimal

from marketplace.models import DeliveryFeeMode, DeliveryRate, Province, SellerProfile

# By username: the fee (elsewhere, when set by province), fees by province, dispatch days, COD.
DEMO_DELIVERY = {
    "amina": {
        "fee": "350",
        "by_province": {"Punjab": "200"},
        "dispatch_days": 2,
        "cod": True,
        "cod_for_auctions": True,
    },
    "sana": {"fee": "250", "by_province": {}, "dispatch_days": 3, "cod": True},
    "imran": {"fee": "300", "by_province": {"Sindh": "150"}, "dispatch_days": 2, "cod": False},
}


def set_demo_delivery(profile: SellerProfile) -> None:
    """Set the shop's delivery settings as its seller would in the shop settings form."""
    spec = DEMO_DELIVERY.get(profile.user.username)
    if spec is None:
        return
    profile.delivery_fee = Decimal(spec["fee"])
    profile.delivery_fee_mode = (
        DeliveryFeeMode.PROVINCE if spec["by_province"] else DeliveryFeeMode.FLAT
    )
    profile.dispatch_days = spec["dispatch_days"]
    profile.accepts_cod = spec["cod"]
    profile.cod_for_auctions = spec.get("cod_for_auctions", False)
    profile.save()
    profile.delivery_rates.exclude(province__name__in=spec["by_province"]).delete()
    for name, fee in spec["by_province"].items():
        DeliveryRate.objects.update_or_create(
            profile=profile,
            province=Province.objects.get(name=name),
            defaults={"fee": Decimal(fee)},
        )
