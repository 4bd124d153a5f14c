"""Migration 0025: orders paid before the ledger get the entries the live code would have
written, so balances, refunds and reconciliation treat them like new ones."""

import importlib
from decimal import Decimal

import pytest
from django.apps import apps

from marketplace.models import (
    ConnectedAccount,
    LedgerEntry,
    Order,
    Payout,
    PayoutMethod,
    SellerTransfer,
)
from marketplace.payments import platform_fee
from marketplace.services import ledger, reconciliation
from marketplace.tests.factories.accounts import SellerFactory
from marketplace.tests.factories.ledger import bank_method, paid_order, refund_at_provider

pytestmark = pytest.mark.django_db

migration = importlib.import_module("marketplace.migrations.0025_ledger_existing_orders")


def old_order(seller, buyer, total, status):
    """An order paid before the ledger, with its transfer in `status`."""
    order = paid_order(seller, buyer, total)
    fee = platform_fee(order.total)
    SellerTransfer.objects.create(
        order=order,
        payment=order.checkout.payments.get(),
        amount=order.total - fee,
        fee=fee,
        idempotency_key=f"transfer-{order.number}",
        status=status,
        stripe_transfer_id=f"tr_{order.number}" if status in ("sent", "reversed") else "",
        sent_at=order.paid_at if status in ("sent", "reversed") else None,
    )
    return order


def mismatches():
    return [f for f in reconciliation.reconciliation_figures() if f["expected"] != f["actual"]]


def test_each_transfer_state_becomes_its_entries_and_the_ledger_reconciles(buyer):
    seller = SellerFactory(username="amina")
    ConnectedAccount.objects.create(
        user=seller, stripe_account_id="acct_amina", charges_enabled=True, payouts_enabled=True
    )
    current = bank_method(seller)
    pending = old_order(seller, buyer, "2500.00", "pending")
    sent = old_order(seller, buyer, "4000.00", "sent")
    reversed_ = old_order(seller, buyer, "1800.00", "reversed")
    cancelled = old_order(seller, buyer, "3200.00", "cancelled")
    for order in (reversed_, cancelled):
        Order.objects.filter(pk=order.pk).update(status=Order.Status.REFUNDED)
        refund_at_provider(order, order.total)
    assert mismatches() != []  # before: the payments are not in the ledger

    migration.forwards(apps, None)
    migration.forwards(apps, None)  # a second run adds nothing

    assert mismatches() == []
    balances = ledger.balances(seller)
    assert balances.pending == Decimal("2450.00")  # 2,500 less the Rs 50 fee: still held
    assert balances.available == Decimal("0.00")
    assert balances.paid_out == Decimal("3920.00")  # 4,000 less 2% fee, sent to Stripe
    line = Payout.objects.get()
    assert (line.batch.key, line.status, line.reference, line.account) == (
        "migrated",
        Payout.Status.PAID,
        f"tr_{sent.number}",
        "acct_amina",
    )
    assert PayoutMethod.objects.current().get(seller=seller) == current  # not replaced
    assert SellerTransfer.objects.get(order=pending).status == SellerTransfer.Status.CANCELLED
    assert set(LedgerEntry.objects.filter(order=sent).values_list("key", flat=True)) == {
        f"sale:order:{sent.pk}",
        f"fee:order:{sent.pk}",
        f"release:order:{sent.pk}",
    }
    assert set(LedgerEntry.objects.filter(order=cancelled).values_list("key", flat=True)) == {
        f"sale:order:{cancelled.pk}",
        f"fee:order:{cancelled.pk}",
        f"refund:order:{cancelled.pk}",
        f"fee-refund:order:{cancelled.pk}",
    }
    # The live code finds the same keys: a later refund of the pending one is recorded once.
    ledger.record_remaining_refund(order=pending)
    assert ledger.balances(seller).pending == Decimal("0.00")
