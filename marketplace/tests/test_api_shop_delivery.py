"""GET/PUT/PATCH /api/shop/delivery/: a shop's delivery and cash-on-delivery settings through
the page's own form (ShopSettingsForm) and service, for the shop's owner only."""

from decimal import Decimal

import pytest

from marketplace.models import DeliveryRate, Province
from marketplace.tests.api_support import token_client
from marketplace.tests.factories.orders import shop_delivery

pytestmark = pytest.mark.django_db
URL = "/api/shop/delivery/"


def _province(name: str) -> Province:
    return Province.objects.get(name=name)


def test_the_owner_reads_the_settings_with_the_province_table(seller):
    shop_delivery(seller, fee="400", by_province={"Punjab": "150"}, cod=True, dispatch_days=3)

    body = token_client(seller).get(URL).json()

    assert body["delivery_fee_mode"] == "province"
    assert (body["delivery_fee"], body["dispatch_days"], body["accepts_cod"]) == ("400.00", 3, True)
    assert [(r["province_name"], r["fee"]) for r in body["rates"]] == [("Punjab", "150.00")]
    assert body["cod_limit"]


def test_put_sets_fees_by_province_as_the_page_does(seller):
    punjab, sindh = _province("Punjab"), _province("Sindh")

    response = token_client(seller).put(
        URL,
        {
            "delivery_fee_mode": "province",
            "delivery_fee": "400",
            "rates": [{"province": punjab.pk, "fee": "150"}, {"province": sindh.pk, "fee": "300"}],
            "dispatch_days": 2,
            "accepts_cod": True,
        },
        format="json",
    )

    assert response.status_code == 200, response.json()
    profile = seller.seller_profile
    profile.refresh_from_db()
    assert (profile.delivery_fee_mode, profile.delivery_fee) == ("province", Decimal("400.00"))
    assert profile.accepts_cod and not profile.cod_for_auctions
    assert sorted(DeliveryRate.objects.values_list("province__name", "fee")) == [
        ("Punjab", Decimal("150.00")),
        ("Sindh", Decimal("300.00")),
    ]


def test_patch_changes_only_what_is_sent(seller):
    shop_delivery(seller, fee="400", by_province={"Punjab": "150"}, cod=True, dispatch_days=3)

    response = token_client(seller).patch(URL, {"dispatch_days": 5}, format="json")

    body = response.json()
    assert response.status_code == 200, body
    assert (body["dispatch_days"], body["delivery_fee"], body["accepts_cod"]) == (5, "400.00", True)
    assert [(r["province_name"], r["fee"]) for r in body["rates"]] == [("Punjab", "150.00")]


def test_patch_with_rates_replaces_the_table(seller):
    shop_delivery(seller, fee="400", by_province={"Punjab": "150"})
    sindh = _province("Sindh")

    token_client(seller).patch(URL, {"rates": [{"province": sindh.pk, "fee": "90"}]}, format="json")

    assert list(DeliveryRate.objects.values_list("province__name", "fee")) == [
        ("Sindh", Decimal("90.00"))
    ]


def test_by_province_without_a_province_is_refused_with_the_pages_message(seller):
    response = token_client(seller).put(
        URL,
        {"delivery_fee_mode": "province", "delivery_fee": "400", "dispatch_days": 2},
        format="json",
    )

    assert response.status_code == 400
    assert response.json()["code"] == "invalid"
    assert "at least one province" in response.json()["message"]


@pytest.mark.parametrize(
    "rates",
    [[{"province": 999_999, "fee": "10"}], [{"province": "PUNJAB", "fee": "10"}]],
)
def test_an_unknown_province_is_refused(seller, rates):
    response = token_client(seller).patch(URL, {"rates": rates}, format="json")

    assert response.status_code == 400
    assert "rates" in response.json()["errors"]


def test_a_negative_fee_is_refused_and_nothing_changes(seller):
    shop_delivery(seller, fee="250")

    response = token_client(seller).patch(URL, {"delivery_fee": "-5"}, format="json")

    assert response.status_code == 400
    seller.seller_profile.refresh_from_db()
    assert seller.seller_profile.delivery_fee == Decimal("250.00")


def test_a_buyer_has_no_shop_settings(buyer):
    response = token_client(buyer).get(URL)

    assert (response.status_code, response.json()["code"]) == (403, "not_seller")
