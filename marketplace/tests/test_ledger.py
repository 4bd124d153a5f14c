"""The seller ledger: each kind of entry, idempotency, append-only refusals, balances, payouts
and reconciliation."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from marketplace import tasks
from marketplace.exceptions import LedgerEntryImmutable, LedgerError
from marketplace.models import (
    Complaint,
    LedgerEntry,
    LedgerMismatch,
    Notification,
    Payout,
    PayoutBatch,
    PayoutMethod,
)
from marketplace.services import ledger, payout_batches, reconciliation
from marketplace.tests.factories.ledger import (
    bank_method,
    deliver,
    paid_order,
    refund_at_provider,
    sold,
    staff_user,
)

D = Decimal
pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _rules(settings):
    settings.PLATFORM_FEE_RATE = D("0.02")
    settings.LEDGER_RELEASE_DAYS = 7
    settings.PAYOUT_MINIMUM = D("1000")
    settings.PAYOUT_METHOD_HOLD_HOURS = 48
    settings.PAYOUT_SCHEDULE = "weekly"


def test_a_sale_is_pending_less_the_platform_fee(seller, buyer):
    sold(seller, buyer, "2500.00")
    assert ledger.balances(seller) == ledger.Balances(
        pending=D("2450.00"), available=D("0.00"), in_transfer=D("0.00"), paid_out=D("0.00")
    )
    kinds = sorted(LedgerEntry.objects.values_list("kind", flat=True))
    assert kinds == ["fee", "sale"]


def test_recording_the_same_sale_twice_writes_nothing_more(seller, buyer):
    order = sold(seller, buyer)
    assert ledger.record_sale(order=order) == []
    assert LedgerEntry.objects.count() == 2


def test_the_same_key_can_never_be_written_twice_in_the_database(seller, buyer):
    order = sold(seller, buyer)
    with pytest.raises(IntegrityError), transaction.atomic():
        LedgerEntry.objects.create(
            seller=seller, kind="sale", key=f"sale:order:{order.pk}", order=order, pending=1
        )


def test_a_second_sale_for_one_order_is_refused_by_the_database_whatever_its_key(seller, buyer):
    order = sold(seller, buyer)
    with pytest.raises(IntegrityError), transaction.atomic():
        LedgerEntry.objects.create(seller=seller, kind="sale", key="other", order=order, pending=1)


@pytest.mark.parametrize(
    ("kind", "fields"),
    [
        ("fee", {"pending": D("5")}),
        ("sale", {"pending": D("-5")}),
        ("refund", {"available": D("5")}),
        ("release", {"pending": D("-5"), "available": D("4")}),
        ("payout", {"available": D("-5"), "paid_out": D("5")}),  # no payout line
    ],
)
def test_entries_that_break_their_kinds_rule_are_refused_by_the_database(
    seller, buyer, kind, fields
):
    order = sold(seller, buyer)
    with pytest.raises(IntegrityError), transaction.atomic():
        LedgerEntry.objects.create(seller=seller, kind=kind, key="bad", order=order, **fields)


def test_an_adjustment_without_a_reason_is_refused_by_the_database(seller):
    admin = staff_user()
    with pytest.raises(IntegrityError), transaction.atomic():
        LedgerEntry.objects.create(
            seller=seller, kind="adjustment", key="a", available=D("5"), created_by=admin
        )


def test_an_entry_cannot_be_saved_again_or_deleted(seller, buyer):
    sold(seller, buyer)
    entry = LedgerEntry.objects.get(kind="sale")
    entry.reason = "changed"
    with pytest.raises(LedgerEntryImmutable):
        entry.save()
    with pytest.raises(LedgerEntryImmutable):
        entry.delete()
    with pytest.raises(LedgerEntryImmutable):
        LedgerEntry.objects.filter(pk=entry.pk).update(reason="changed")
    with pytest.raises(LedgerEntryImmutable):
        LedgerEntry.objects.all().delete()
    assert LedgerEntry.objects.get(pk=entry.pk).reason == ""


@pytest.mark.postgres
def test_postgresql_itself_refuses_to_update_or_delete_an_entry(seller, buyer):
    sold(seller, buyer)
    for sql in (
        "UPDATE marketplace_ledgerentry SET reason = 'x'",
        "DELETE FROM marketplace_ledgerentry",
    ):
        with pytest.raises(Exception, match="append-only"), transaction.atomic():
            with connection.cursor() as cursor:
                cursor.execute(sql)
    assert LedgerEntry.objects.count() == 2


def test_money_is_released_after_the_return_window_once(seller, buyer):
    order = sold(seller, buyer, "2500.00")
    deliver(order, days_ago=8)
    assert ledger.release_due() == 1
    assert ledger.release_due() == 0
    balances = ledger.balances(seller)
    assert (balances.pending, balances.available) == (D("0.00"), D("2450.00"))


def test_money_stays_pending_inside_the_return_window(seller, buyer):
    order = sold(seller, buyer)
    deliver(order, days_ago=6)
    assert ledger.release_due() == 0
    assert ledger.balances(seller).available == 0


def test_money_of_an_order_not_delivered_stays_pending(seller, buyer):
    sold(seller, buyer)
    assert ledger.release_due(now=timezone.now() + timedelta(days=60)) == 0


def test_an_open_complaint_holds_the_release(seller, buyer):
    order = sold(seller, buyer)
    deliver(order, days_ago=8)
    complaint = Complaint.objects.create(
        number="CMP-1", user=buyer, category="other", subject="Broken", description="x", order=order
    )
    assert ledger.release_due() == 0
    complaint.status = Complaint.Status.RESOLVED
    complaint.save(update_fields=["status"])
    assert ledger.release_due() == 1


def test_a_refund_before_release_takes_pending_and_returns_the_fee(seller, buyer):
    order = sold(seller, buyer, "2500.00")
    ledger.record_refund(order=order, amount=D("1000.00"), key="r1")
    # Seller had 2450 (2500 less 50 fee); 1000 refunded with 20 of the fee given back.
    assert ledger.balances(seller).pending == D("1470.00")
    ledger.record_refund(order=order, amount=D("1500.00"), key="r2")
    assert ledger.balances(seller).pending == D("0.00")


def test_partial_refunds_return_exactly_the_whole_fee(seller, buyer):
    order = sold(seller, buyer, "100.00")  # fee 2.00
    for n in range(99):
        ledger.record_refund(order=order, amount=D("1.00"), key=f"r{n}")
    ledger.record_refund(order=order, amount=D("1.00"), key="last")
    fee = LedgerEntry.objects.filter(kind__in=["fee", "fee_refund"]).totals()["pending"]
    assert fee == 0
    assert ledger.balances(seller).pending == 0


def test_a_refund_of_more_than_is_left_is_refused(seller, buyer):
    order = sold(seller, buyer, "2500.00")
    ledger.record_refund(order=order, amount=D("2000.00"), key="r1")
    with pytest.raises(LedgerError):
        ledger.record_refund(order=order, amount=D("600.00"), key="r2")


def test_the_same_refund_twice_is_recorded_once(seller, buyer):
    order = sold(seller, buyer)
    ledger.record_refund(order=order, amount=D("500.00"), key="refund-1")
    assert ledger.record_refund(order=order, amount=D("500.00"), key="refund-1") == []
    assert LedgerEntry.objects.filter(kind="refund").count() == 1


def test_a_return_after_release_comes_out_of_available(seller, buyer):
    order = sold(seller, buyer, "2500.00")
    deliver(order, days_ago=8)
    ledger.release_due()
    ledger.record_refund(order=order, amount=D("2500.00"), key="return-1")
    balances = ledger.balances(seller)
    assert (balances.pending, balances.available) == (D("0.00"), D("0.00"))


def test_a_courier_charge_comes_out_of_available_once(seller, buyer):
    order = sold(seller, buyer, "2500.00")
    ledger.record_courier_charge(order=order, amount=D("250.00"), key="postex-1")
    ledger.record_courier_charge(order=order, amount=D("250.00"), key="postex-1")
    balances = ledger.balances(seller)
    assert (balances.pending, balances.available) == (D("2450.00"), D("-250.00"))


def test_staff_adjust_a_balance_with_a_reason(seller):
    admin = staff_user()
    ledger.adjust(seller=seller, amount=D("300"), reason="Courier lost parcel", by=admin, key="1")
    assert ledger.balances(seller).available == D("300.00")
    with pytest.raises(LedgerError):
        ledger.adjust(seller=seller, amount=D("300"), reason=" ", by=admin, key="2")
    with pytest.raises(LedgerError):
        ledger.adjust(seller=seller, amount=D("300"), reason="x", by=seller, key="3")


def released(seller, buyer, total: str):
    order = sold(seller, buyer, total)
    deliver(order, days_ago=8)
    ledger.release_due()
    return order


def test_a_batch_pays_available_money_to_sellers_with_a_method(seller, buyer):
    released(seller, buyer, "2500.00")
    bank_method(seller)
    batch = payout_batches.draft_payout_batch()
    line = batch.lines.get()
    assert (line.amount, line.account, line.method_kind) == (
        D("2450.00"),
        "PK36SCBL0000001123456702",
        "bank",
    )
    assert ledger.balances(seller) == ledger.Balances(
        pending=D("0.00"), available=D("0.00"), in_transfer=D("2450.00"), paid_out=D("0.00")
    )


def test_drafting_again_in_the_same_week_pays_nothing_twice(seller, buyer):
    released(seller, buyer, "2500.00")
    bank_method(seller)
    first = payout_batches.draft_payout_batch()
    again = payout_batches.draft_payout_batch()
    assert again == first
    assert Payout.objects.count() == 1
    assert LedgerEntry.objects.filter(kind="payout").count() == 1


def test_no_payout_below_the_minimum_without_a_method_or_on_hold(seller, buyer, rival):
    released(seller, buyer, "900.00")  # below the minimum
    bank_method(seller)
    payout_batches.draft_payout_batch()
    assert not Payout.objects.exists()
    rival.role = rival.Role.SELLER
    rival.save(update_fields=["role"])
    released(rival, buyer, "5000.00")
    payout_batches.draft_payout_batch()
    assert not Payout.objects.exists()  # no method on file
    bank_method(rival, held=True)
    payout_batches.draft_payout_batch()
    assert not Payout.objects.exists()  # method changed less than 48 h ago
    later = timezone.now() + timedelta(hours=49)
    payout_batches.draft_payout_batch(now=later)
    assert Payout.objects.get().seller == rival


def test_a_paid_line_keeps_the_money_paid_out_and_tells_the_seller(seller, buyer):
    released(seller, buyer, "2500.00")
    bank_method(seller)
    line = payout_batches.draft_payout_batch().lines.get()
    payout_batches.mark_payout_paid(line=line, reference="IBFT-778812")
    line.refresh_from_db()
    assert (line.status, line.reference) == (Payout.Status.PAID, "IBFT-778812")
    assert ledger.balances(seller).paid_out == D("2450.00")
    assert Notification.objects.filter(user=seller, kind="payout_sent").exists()
    assert payout_batches.mark_payout_paid(line=line, reference="IBFT-778812").status == "paid"
    with pytest.raises(LedgerError):
        payout_batches.mark_payout_paid(line=line, reference="IBFT-000001")


def test_a_paid_line_the_bank_returns_comes_back_to_available(seller, buyer):
    released(seller, buyer, "2500.00")
    bank_method(seller)
    line = payout_batches.draft_payout_batch().lines.get()
    payout_batches.mark_payout_paid(line=line, reference="IBFT-778812")
    payout_batches.mark_payout_failed(line=line)
    balances = ledger.balances(seller)
    assert (balances.available, balances.paid_out) == (D("2450.00"), D("0.00"))


def test_a_paid_line_needs_a_reference(seller, buyer):
    released(seller, buyer, "2500.00")
    bank_method(seller)
    line = payout_batches.draft_payout_batch().lines.get()
    with pytest.raises(LedgerError):
        payout_batches.mark_payout_paid(line=line, reference="  ")


def test_a_failed_line_returns_the_money_to_available_once(seller, buyer):
    released(seller, buyer, "2500.00")
    bank_method(seller)
    line = payout_batches.draft_payout_batch().lines.get()
    payout_batches.mark_payout_failed(line=line)
    payout_batches.mark_payout_failed(line=line)
    assert LedgerEntry.objects.filter(kind="payout_reversal").count() == 1
    balances = ledger.balances(seller)
    assert (balances.available, balances.in_transfer, balances.paid_out) == (
        D("2450.00"),
        D("0.00"),
        D("0.00"),
    )
    # ...and the next batch pays it.
    next_week = timezone.now() + timedelta(days=7)
    assert payout_batches.draft_payout_batch(now=next_week).lines.get().amount == D("2450.00")


def test_a_failed_line_cannot_then_be_marked_paid(seller, buyer):
    released(seller, buyer, "2500.00")
    bank_method(seller)
    line = payout_batches.draft_payout_batch().lines.get()
    payout_batches.mark_payout_failed(line=line)
    with pytest.raises(LedgerError):
        payout_batches.mark_payout_paid(line=line, reference="IBFT-1")


def test_changing_the_method_replaces_it_holds_payouts_and_is_emailed(seller, mailoutbox):
    seller.email_notifications = False
    seller.save(update_fields=["email_notifications"])
    first = bank_method(seller)
    now = timezone.now()
    second = payout_batches.set_payout_method(
        seller=seller,
        kind=PayoutMethod.Kind.JAZZCASH,
        wallet_number="03001234567",
        account_title="Amina Bibi",
        now=now,
    )
    first.refresh_from_db()
    assert first.replaced_at == now
    assert PayoutMethod.objects.current().get(seller=seller) == second
    assert second.hold_until == now + timedelta(hours=48)
    notice = Notification.objects.filter(user=seller, kind="payout_method_changed")
    assert notice.count() == 2
    assert tasks.send_notification_email(notice.first().pk)
    assert "4567" in mailoutbox[-1].body


def test_a_stripe_method_needs_a_ready_connected_account(seller):
    with pytest.raises(LedgerError):
        payout_batches.set_payout_method(seller=seller, kind=PayoutMethod.Kind.STRIPE)


def test_batches_are_weekly_or_daily(settings):
    moment = timezone.make_aware(timezone.datetime(2026, 12, 3, 12, 0))
    assert payout_batches.batch_key(moment) == "weekly:2026-W49"
    settings.PAYOUT_SCHEDULE = "daily"
    assert payout_batches.batch_key(moment) == "daily:2026-12-03"


def test_reconciliation_is_clean_after_sales_refunds_releases_and_payouts(seller, buyer):
    released(seller, buyer, "2500.00")
    order = sold(seller, buyer, "1200.00")
    ledger.record_refund(order=order, amount=D("200.00"), key="r1")
    refund_at_provider(order, D("200.00"))
    bank_method(seller)
    payout_batches.draft_payout_batch()
    assert reconciliation.reconcile() == []
    assert not LedgerMismatch.objects.exists()


def test_a_refund_the_ledger_missed_is_reported_to_staff_not_corrected(seller, buyer):
    admin = staff_user()
    order = sold(seller, buyer, "2500.00")
    refund_at_provider(order, D("2500.00"))  # refunded at the provider, ledger not told
    mismatches = reconciliation.reconcile()
    assert [(m.check_name, m.provider, m.difference) for m in mismatches] == [
        ("received", "stripe", D("2500.00"))
    ]
    assert Notification.objects.filter(user=admin, kind="ledger_mismatch").count() == 1
    assert LedgerEntry.objects.filter(kind="refund").count() == 0


def test_a_payment_without_its_sale_is_reported(seller, buyer):
    paid_order(seller, buyer, "700.00")
    assert [m.check_name for m in reconciliation.reconcile()] == ["received"]


def test_the_batch_is_unique_per_period(seller):
    PayoutBatch.objects.create(key="weekly:2026-W01")
    with pytest.raises(IntegrityError), transaction.atomic():
        PayoutBatch.objects.create(key="weekly:2026-W01")


def test_the_jobs_release_draft_and_reconcile(seller, buyer):
    order = sold(seller, buyer, "2500.00")
    deliver(order, days_ago=8)
    bank_method(seller)
    assert tasks.release_ledger_money() == 1
    assert tasks.draft_payout_batch() == 1
    assert tasks.reconcile_ledger() == 0
