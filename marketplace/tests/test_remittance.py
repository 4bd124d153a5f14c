"""COD remittance: the courier's report reconciled parcel by parcel into the seller ledger."""

from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from marketplace.couriers import RemittanceLine as ReportLine
from marketplace.models import LedgerEntry, RemittanceLine
from marketplace.services import ledger, parcels, remittance
from marketplace.tests.courier_support import (
    JOURNEY,
    cod_order,
    control,
    delivered_parcel,
    move,
)
from marketplace.tests.factories.fulfilment import paid_order

pytestmark = pytest.mark.django_db
Kind = LedgerEntry.Kind


def entries(order) -> dict[str, Decimal]:
    return {
        entry.kind: entry.pending + entry.available
        for entry in LedgerEntry.objects.filter(order=order)
    }


def test_a_delivered_cod_parcel_credits_the_sale_less_the_fee_on_items_and_the_charge(
    courier, seller, buyer
):
    order = cod_order(seller, buyer, price="2500.00", delivery_fee="250")
    assert (order.status, order.total) == ("confirmed", Decimal("2750.00"))
    parcel = delivered_parcel(courier, order, seller)
    order.refresh_from_db()
    assert order.status == "delivered"
    assert entries(order) == {}  # the cash is the courier's until it remits

    assert remittance.reconcile_report() == (1, 0)

    line = RemittanceLine.objects.get()
    assert (line.outcome, line.parcel, line.collected) == ("matched", parcel, Decimal("2750.00"))
    assert entries(order) == {
        Kind.SALE: Decimal("2750.00"),
        Kind.FEE: Decimal("-50.00"),  # 2 % of the items (Rs 2,500), not of the delivery fee
        Kind.COURIER: Decimal("-200.00"),
    }


def test_a_repeated_remittance_line_is_a_no_op(courier, seller, buyer):
    order = cod_order(seller, buyer)
    delivered_parcel(courier, order, seller)
    remittance.reconcile_report()
    before = ledger.balances(seller)

    assert remittance.reconcile_report() == (0, 0)

    assert RemittanceLine.objects.count() == 1
    assert ledger.balances(seller) == before
    assert LedgerEntry.objects.filter(order=order).count() == 3


def test_a_collected_amount_that_differs_is_listed_for_staff_and_credits_nothing(
    courier, seller, buyer
):
    order = cod_order(seller, buyer)
    parcel = delivered_parcel(courier, order, seller)
    control(courier, f"parcels/{parcel.tracking_number}/money", {"collectedAmount": "100"})

    assert remittance.reconcile_report() == (0, 1)

    line = RemittanceLine.objects.get()
    assert line.outcome == "mismatch"
    assert "100.00" in line.problem and str(order.total) in line.problem
    assert not LedgerEntry.objects.filter(order=order).exists()


def test_an_unknown_tracking_number_is_a_mismatch():
    line = ReportLine("12345", Decimal("500"), Decimal("200"), Decimal("0"), "CPR-1")

    row = remittance.reconcile_line(courier_key="postex", line=line, source="api")

    assert row.outcome == "mismatch" and row.parcel is None
    assert remittance.reconcile_line(courier_key="postex", line=line, source="api") is None


def test_a_line_before_delivery_is_listed_then_matched_again_by_staff(courier, seller, buyer):
    order = cod_order(seller, buyer)
    parcel = parcels.book_parcel(
        order=order, by=seller, weight_kg=Decimal("1"), pieces=1, cod_amount=order.total
    )
    line = ReportLine(parcel.tracking_number, order.total, Decimal("200"), Decimal("0"), "CPR-2")
    row = remittance.reconcile_line(courier_key="postex", line=line, source="csv")
    assert row.outcome == "mismatch"
    move(courier, parcel.tracking_number, *JOURNEY, "delivered")
    parcels.poll_open_parcels()

    assert remittance.rematch(line=row).outcome == "matched"
    assert remittance.rematch(line=row).outcome == "matched"  # twice: nothing more

    assert entries(order)[Kind.SALE] == order.total
    assert LedgerEntry.objects.filter(order=order).count() == 3


def test_a_returned_parcels_line_adds_no_charge_twice(courier, seller, buyer):
    order = cod_order(seller, buyer)
    parcel = parcels.book_parcel(
        order=order, by=seller, weight_kg=Decimal("1"), pieces=1, cod_amount=order.total
    )
    move(courier, parcel.tracking_number, "picked_up", "in_transit", "returned")
    parcels.poll_open_parcels()  # RTO records the courier's charges from tracking

    assert remittance.reconcile_report() == (1, 0)

    assert sorted(LedgerEntry.objects.filter(order=order).values_list("available", flat=True)) == [
        Decimal("-200.00"),
        Decimal("-150.00"),
    ]
    assert not LedgerEntry.objects.filter(order=order, kind=Kind.SALE).exists()


def test_a_prepaid_parcel_remits_only_the_charge(courier, seller, buyer):
    order = paid_order(seller, buyer)
    delivered_parcel(courier, order, seller)

    assert remittance.reconcile_report() == (1, 0)

    assert entries(order) == {Kind.COURIER: Decimal("-200.00")}


def test_staff_upload_a_csv_report_in_the_admin(courier, client, seller, buyer, django_user_model):
    order = cod_order(seller, buyer)
    parcel = delivered_parcel(courier, order, seller)
    staff = django_user_model.objects.create_superuser("staff", "staff@example.pk", "pw")
    client.force_login(staff)
    report = (
        "tracking_number,collected,cod_charge,return_charge,reference\n"
        f"{parcel.tracking_number},{order.total},200,0,CPR-9\n"
        "55555,100,200,0,CPR-9\n"
        "66666,lots,200,0,CPR-9\n"
    )
    url = reverse("admin:marketplace_remittanceline_upload")

    for _ in range(2):  # the same file twice
        response = client.post(
            url, {"report": SimpleUploadedFile("report.csv", report.encode())}, follow=True
        )
        assert response.status_code == 200

    assert dict(RemittanceLine.objects.values_list("tracking_number", "outcome")) == {
        parcel.tracking_number: "matched",
        "55555": "mismatch",
    }
    assert entries(order)[Kind.SALE] == order.total
    listing = client.get(
        reverse("admin:marketplace_remittanceline_changelist") + "?outcome=mismatch"
    )
    assert b"55555" in listing.content and b"No parcel of ours" in listing.content


def test_a_seller_cannot_upload_a_remittance_report(seller_client):
    response = seller_client.get(reverse("admin:marketplace_remittanceline_upload"))

    assert response.status_code == 302  # to the admin login
    assert not RemittanceLine.objects.exists()
