"""The seller's statement and payout method pages, and the staff's payout batch admin."""

import csv
import io
from datetime import timedelta
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from marketplace.models import LedgerEntry, Notification, Payout, PayoutMethod
from marketplace.services import ledger, payout_batches
from marketplace.tests.factories.accounts import SellerFactory
from marketplace.tests.factories.ledger import (
    VALID_IBAN,
    bank_method,
    deliver,
    sold,
    staff_user,
)

pytestmark = pytest.mark.django_db
PASSWORD = "correct-horse-battery"  # the factories' password


@pytest.fixture
def seller(db):
    """Amina, before she has said how she is paid (the persona's factory gives her a bank)."""
    return SellerFactory(
        username="amina",
        first_name="Amina",
        seller_profile__shop_name="Amina Pottery",
        payouts=False,
    )


@pytest.fixture(autouse=True)
def _rules(settings):
    settings.PLATFORM_FEE_RATE = Decimal("0.02")
    settings.PAYOUT_MINIMUM = Decimal("1000")
    settings.LEDGER_RELEASE_DAYS = 7


def test_the_statement_shows_each_bucket_and_each_entry_with_its_order(
    seller_client, seller, buyer
):
    order = sold(seller, buyer, "2500.00")
    other = sold(seller, buyer, "1200.00")
    deliver(other, days_ago=8)
    ledger.release_due()
    response = seller_client.get(reverse("ledger_statement"))
    assert response.status_code == 200
    page = response.content.decode()
    assert "Rs 2,450" in page  # pending
    assert "Rs 1,176" in page  # available
    assert order.number in page and other.number in page
    assert "Available after delivery is confirmed" in page


def test_the_statement_shows_only_the_sellers_own_entries(client, seller, buyer, rival):
    sold(seller, buyer, "2500.00")
    rival.role = rival.Role.SELLER
    rival.save(update_fields=["role"])
    client.force_login(rival)
    page = client.get(reverse("ledger_statement")).content.decode()
    assert "Rs 2,450" not in page
    csv_text = client.get(reverse("ledger_statement_csv")).content.decode("utf-8-sig")
    assert len(list(csv.reader(io.StringIO(csv_text)))) == 1  # the header only


def test_buyers_cannot_see_a_statement(buyer_client):
    assert buyer_client.get(reverse("ledger_statement")).status_code == 403


def test_the_statement_downloads_as_csv(seller_client, seller, buyer):
    order = sold(seller, buyer, "2500.00")
    response = seller_client.get(reverse("ledger_statement_csv"))
    assert response["Content-Type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
    assert rows[0][:3] == ["Date", "Entry", "Order"]
    by_kind = {row[1]: row for row in rows[1:]}
    assert by_kind["Sale"][2:4] == [order.number, "2500.00"]
    assert by_kind["Platform fee"][3] == "-50.00"


def test_the_statement_is_in_urdu_for_urdu_readers(seller_client, seller, buyer):
    seller.language = "ur"
    seller.save(update_fields=["language"])
    sold(seller, buyer)
    page = seller_client.get(reverse("ledger_statement"), HTTP_ACCEPT_LANGUAGE="ur")
    assert 'dir="rtl"' in page.content.decode()


def test_a_payout_method_needs_the_password(seller_client, seller):
    response = seller_client.post(
        reverse("payout_method"),
        {"kind": "bank", "iban": VALID_IBAN, "account_title": "Amina Bibi", "password": "nope"},
    )
    assert response.status_code == 200
    assert "That is not your password." in response.content.decode()
    assert not PayoutMethod.objects.exists()


def test_a_bank_account_is_saved_held_and_emailed(seller_client, seller):
    response = seller_client.post(
        reverse("payout_method"),
        {
            "kind": "bank",
            "iban": "pk36 scbl 0000 0011 2345 6702",
            "account_title": "Amina Bibi",
            "password": PASSWORD,
        },
        follow=True,
    )
    method = PayoutMethod.objects.get()
    assert (method.iban, method.bank_name) == (VALID_IBAN, "Standard Chartered")
    page = response.content.decode()
    assert "•••• 6702" in page
    assert "Payouts wait until" in page
    assert Notification.objects.filter(user=seller, kind="payout_method_changed").exists()


def test_a_wrong_iban_is_explained(seller_client):
    response = seller_client.post(
        reverse("payout_method"),
        {
            "kind": "bank",
            "iban": "PK37SCBL0000001123456702",
            "account_title": "Amina Bibi",
            "password": PASSWORD,
        },
    )
    assert "check digits are wrong" in response.content.decode()
    assert not PayoutMethod.objects.exists()


def test_a_wallet_needs_its_number_and_title(seller_client):
    response = seller_client.post(
        reverse("payout_method"), {"kind": "easypaisa", "wallet_number": "", "password": PASSWORD}
    )
    page = response.content.decode()
    assert "Enter the account title." in page
    assert "Enter a Pakistani mobile number" in page
    seller_client.post(
        reverse("payout_method"),
        {
            "kind": "easypaisa",
            "wallet_number": "0345-1234567",
            "account_title": "Amina Bibi",
            "password": PASSWORD,
        },
    )
    assert PayoutMethod.objects.get().wallet_number == "03451234567"


def test_stripe_is_offered_only_to_sellers_stripe_can_pay(seller_client):
    page = seller_client.get(reverse("payout_method")).content.decode()
    assert 'value="stripe"' not in page


# --- Admin ----------------------------------------------------------------------------------


@pytest.fixture
def staff_client(client):
    client.force_login(staff_user())
    return client


@pytest.fixture
def line(seller, buyer) -> Payout:
    order = sold(seller, buyer, "2500.00")
    deliver(order, days_ago=8)
    ledger.release_due()
    bank_method(seller)
    return payout_batches.draft_payout_batch().lines.get()


def test_staff_download_the_batch_for_the_banks_bulk_transfer(staff_client, line):
    url = reverse("admin:marketplace_payoutbatch_csv", args=[line.batch_id])
    rows = list(csv.reader(io.StringIO(staff_client.get(url).content.decode())))
    assert rows[0] == [
        "account",
        "account_title",
        "bank_code",
        "bank",
        "amount_pkr",
        "reference",
        "seller",
    ]
    assert rows[1] == [
        VALID_IBAN,
        "Amina Bibi",
        "SCBL",
        "Standard Chartered",
        "2450.00",
        line.transfer_reference,
        "amina",
    ]


def test_sellers_cannot_download_a_batch(seller_client, line):
    url = reverse("admin:marketplace_payoutbatch_csv", args=[line.batch_id])
    assert seller_client.get(url).status_code == 302  # to the admin login


def test_staff_mark_a_line_paid_with_the_bank_reference(staff_client, line):
    staff_client.post(
        reverse("admin:marketplace_payout_changelist"),
        {"action": "mark_paid", "_selected_action": [line.pk], "reference": "RAAST-99812"},
    )
    line.refresh_from_db()
    assert (line.status, line.reference) == ("paid", "RAAST-99812")


def test_staff_mark_a_line_failed_and_the_money_is_available_again(staff_client, line, seller):
    staff_client.post(
        reverse("admin:marketplace_payout_changelist"),
        {"action": "mark_failed", "_selected_action": [line.pk]},
    )
    assert ledger.balances(seller).available == Decimal("2450.00")


def test_staff_adjust_a_balance_in_the_admin_with_a_reason(staff_client, seller):
    staff_client.post(
        reverse("admin:marketplace_ledgerentry_add"),
        {"seller": seller.pk, "available": "150.00", "reason": "Courier lost parcel"},
    )
    entry = LedgerEntry.objects.get()
    assert (entry.kind, entry.available, entry.created_by.username) == (
        "adjustment",
        Decimal("150.00"),
        "sadia",
    )


def test_admin_pages_render(staff_client, line):
    for name in ("payoutbatch", "payout", "ledgerentry", "payoutmethod", "ledgermismatch"):
        assert staff_client.get(reverse(f"admin:marketplace_{name}_changelist")).status_code == 200
    assert (
        staff_client.get(
            reverse("admin:marketplace_payoutbatch_change", args=[line.batch_id])
        ).status_code
        == 200
    )


def test_a_title_that_looks_like_a_formula_stays_text_in_the_bank_file(staff_client, seller, buyer):
    order = sold(seller, buyer, "2500.00")
    deliver(order, days_ago=8)
    ledger.release_due()
    payout_batches.set_payout_method(
        seller=seller,
        kind=PayoutMethod.Kind.BANK,
        iban=VALID_IBAN,
        account_title='=HYPERLINK("http://evil.example")',
        now=timezone.now() - timedelta(days=3),
    )
    batch = payout_batches.draft_payout_batch()
    url = reverse("admin:marketplace_payoutbatch_csv", args=[batch.pk])
    rows = list(csv.reader(io.StringIO(staff_client.get(url).content.decode())))
    assert rows[1][1] == '\'=HYPERLINK("http://evil.example")'


def test_the_statement_takes_a_few_queries_however_many_entries(
    seller_client, seller, buyer, django_assert_max_num_queries
):
    for _ in range(8):
        deliver(sold(seller, buyer, "1500.00"), days_ago=8)
    ledger.release_due()
    with django_assert_max_num_queries(14):
        assert seller_client.get(reverse("ledger_statement")).status_code == 200
