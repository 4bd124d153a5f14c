"""Properties of the ledger: whatever sequence of sales, refunds, returns, releases and payouts
happens, no bucket goes below zero (available only when a return lands on money already paid
out: the seller's debt), the seller's money adds up, and reconciliation finds nothing."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.db import transaction
from django.utils import timezone
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from marketplace.models import Checkout, LedgerEntry, Order, Payment, Payout
from marketplace.models.orders import new_reference
from marketplace.money import quantize
from marketplace.payments import platform_fee
from marketplace.services import ledger, payout_batches, reconciliation
from marketplace.tests.factories.ledger import bank_method

TOTALS = [Decimal("2500.00"), Decimal("999.99"), Decimal("1234.57"), Decimal("100.01")]

order_index = st.integers(0, len(TOTALS) - 1)
operations = st.lists(
    st.one_of(
        st.tuples(st.just("sale"), order_index),
        st.tuples(st.just("refund"), order_index, st.integers(1, 100)),
        st.tuples(st.just("deliver"), order_index),
        st.tuples(st.just("release")),
        st.tuples(st.just("draft")),
        st.tuples(st.sampled_from(["paid", "failed"]), st.integers(0, 4)),
    ),
    max_size=14,
)


def unpaid_orders(seller, buyer) -> list[Order]:
    orders = []
    for total in TOTALS:
        checkout = Checkout.objects.create(number=new_reference("C-"), buyer=buyer)
        orders.append(
            Order.objects.create(
                number=new_reference("MPK-"),
                checkout=checkout,
                buyer=buyer,
                seller=seller,
                subtotal=total,
                total=total,
                status=Order.Status.PAID,
            )
        )
    return orders


class Run:
    """Applies operations the way the payment, delivery and payout flows would."""

    def __init__(self, seller, orders):
        self.seller = seller
        self.orders = orders
        self.now = timezone.now()
        self.week = 0
        self.refunded = {order.pk: Decimal(0) for order in orders}
        self.owes = False  # a return came out of money already paid out

    def sale(self, i):
        order = self.orders[i]
        if order.ledger_entries.exists():
            return
        payment = Payment.objects.create(
            checkout=order.checkout,
            session_id=f"cs_{order.number}",
            amount=order.total,
            currency="PKR",
            platform_fee=platform_fee(order.total),
        )
        ledger.record_sale(order=order, payment=payment)

    def refund(self, i, percent):
        order = self.orders[i]
        left = order.total - self.refunded[order.pk]
        if not order.ledger_entries.exists() or left <= 0:
            return
        amount = max(quantize(left * percent / 100), Decimal("0.01"))
        # Only a return on released money, after some of it went in a payout, can take
        # available below zero.
        if order.ledger_entries.filter(kind="release").exists() and Payout.objects.exists():
            self.owes = True
        ledger.record_refund(
            order=order, amount=amount, key=f"{order.pk}-{self.refunded[order.pk]}"
        )
        self.refunded[order.pk] += amount
        payment = order.checkout.payments.get()
        payment.refunded_amount += amount
        payment.save(update_fields=["refunded_amount"])

    def deliver(self, i):
        Order.objects.filter(pk=self.orders[i].pk).update(
            status=Order.Status.DELIVERED, delivered_at=self.now - timedelta(days=8)
        )

    def release(self):
        ledger.release_due(now=self.now)

    def draft(self):
        self.week += 1
        payout_batches.draft_payout_batch(now=self.now + timedelta(weeks=self.week))

    def paid(self, n):
        lines = list(Payout.objects.filter(status="drafted").order_by("pk"))
        if lines:
            payout_batches.mark_payout_paid(line=lines[n % len(lines)], reference=f"IBFT-{n}")

    def failed(self, n):
        lines = list(Payout.objects.exclude(status="failed").order_by("pk"))
        if lines:
            payout_batches.mark_payout_failed(line=lines[n % len(lines)])

    def expected_seller_money(self) -> Decimal:
        """What the seller has earned in all, worked out from the orders, not the ledger."""
        total = Decimal(0)
        for order in self.orders:
            if not order.ledger_entries.exists():
                continue
            fee = platform_fee(order.total)
            refunded = self.refunded[order.pk]
            fee_kept = fee - quantize(fee * refunded / order.total)
            total += order.total - refunded - fee_kept
        return total


@pytest.mark.django_db
def test_any_sequence_keeps_balances_sound_and_the_ledger_reconciled(seller, buyer, settings_):
    orders = unpaid_orders(seller, buyer)
    bank_method(seller)

    @settings(
        max_examples=40,
        deadline=None,
        suppress_health_check=[HealthCheck.too_slow],
    )
    @given(operations)
    def check(ops):
        with transaction.atomic():
            run = Run(seller, orders)
            for op in ops:
                getattr(run, op[0])(*op[1:])
                b = ledger.balances(seller)
                assert b.pending >= 0
                assert b.in_transfer >= 0
                assert b.paid_out >= 0
                assert b.available >= 0 or run.owes
                assert b.pending + b.available + b.in_transfer + b.paid_out == (
                    run.expected_seller_money()
                )
            mismatched = [
                f for f in reconciliation.reconciliation_figures() if f["expected"] != f["actual"]
            ]
            assert mismatched == []
            transaction.set_rollback(True)

    check()
    assert not LedgerEntry.objects.exists()


@pytest.fixture
def settings_(settings):
    settings.PLATFORM_FEE_RATE = Decimal("0.02")
    settings.PAYOUT_MINIMUM = Decimal("100")
    settings.LEDGER_RELEASE_DAYS = 7
    return settings
