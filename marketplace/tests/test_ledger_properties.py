"""Properties of the ledger: whatever sequence of sales, refunds, returns, releases and payouts
happens, no bucket goes below zero, the seller's money adds up, and reconciliation finds
nothing. One order is cash on delivery: its sale comes from the courier's remittance, its
return's refund is owed to the buyer and sent by staff, in any order with the remittance. Returns go through their services (asked, accepted, refused, disputed, decided by
staff) while time passes, and never take available below zero: a refused return holds the
money while the buyer may still dispute it. Available goes below zero only through a bare
refund (`record_refund`, as of a migrated order whose transfer was sent) of money already paid
out: the documented exception."""

from datetime import timedelta
from decimal import Decimal
from unittest import mock

import pytest
from django.db import transaction
from django.utils import timezone
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from marketplace.exceptions import MarketplaceError
from marketplace.models import (
    Checkout,
    LedgerEntry,
    Order,
    Parcel,
    Payment,
    Payout,
    Refund,
    ReturnRequest,
)
from marketplace.models.orders import new_reference
from marketplace.money import quantize
from marketplace.payments import platform_fee
from marketplace.services import (
    ledger,
    manual_refunds,
    payout_batches,
    reconciliation,
    remittance,
    returns,
)
from marketplace.tests.factories.ledger import (
    bank_method,
    cod_order_with_parcel,
    remittance_line,
    staff_user,
)

TOTALS = [Decimal("2500.00"), Decimal("999.99"), Decimal("1234.57"), Decimal("100.01")]
COD_TOTAL = Decimal("1750.50")  # the last order: cash on delivery, booked with the courier

order_index = st.integers(0, len(TOTALS))
operations = st.lists(
    st.one_of(
        st.tuples(st.just("sale"), order_index),
        st.tuples(st.just("refund"), order_index, st.integers(1, 100)),
        st.tuples(st.just("deliver"), order_index),
        st.tuples(st.just("wait"), st.sampled_from([1, 3, 8])),
        st.tuples(st.just("release")),
        st.tuples(st.just("draft")),
        st.tuples(st.sampled_from(["paid", "failed"]), st.integers(0, 4)),
        st.tuples(st.just("ask"), order_index),
        st.tuples(st.sampled_from(["accept", "refuse", "dispute"]), order_index),
        st.tuples(st.just("decide"), order_index, st.booleans()),
        st.tuples(st.sampled_from(["remit", "send_by_hand"])),
    ),
    max_size=20,
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
    cod = cod_order_with_parcel(seller, buyer, str(COD_TOTAL))
    return [*orders, cod]


class Run:
    """Applies operations the way the payment, delivery and payout flows would."""

    def __init__(self, seller, buyer, staff, orders, clock):
        self.seller, self.buyer, self.staff = seller, buyer, staff
        self.orders = orders
        self.clock = clock  # what timezone.now() answers in the services
        self.week = 0
        self.refunded = {order.pk: Decimal(0) for order in orders}
        self.owes = False  # a bare refund came out of money already paid out

    @property
    def now(self):
        return self.clock[0]

    def sale(self, i):
        order = self.orders[i]
        if order.ledger_entries.exists() or order.is_cod:  # COD: the remittance's
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
        if not order.ledger_entries.exists() or left <= 0 or order.return_requests.exists():
            return
        if order.is_cod:  # no payment to refund part of: only a return refunds it
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
        Order.objects.filter(pk=self.orders[i].pk, delivered_at=None).update(
            status=Order.Status.DELIVERED, delivered_at=self.now
        )
        Parcel.objects.filter(order=self.orders[i]).update(status=Parcel.Status.DELIVERED)

    @property
    def cod(self) -> Order:
        return Order.objects.select_related("checkout").get(pk=self.orders[-1].pk)

    def remit(self):
        """The courier's line for the COD parcel, once delivered (credits the sale unless the
        order has a refund by then)."""
        order = self.cod
        if order.delivered_at is None:
            return
        remittance.reconcile_line(courier_key="postex", line=remittance_line(order), source="api")

    def send_by_hand(self):
        """The buyer gives an account and staff send the COD refund (the ledger moved already)."""
        refund = Refund.objects.filter(order=self.orders[-1]).first()
        if refund is None or refund.status == Refund.Status.SUCCEEDED:
            return
        if refund.needs_payee:
            manual_refunds.give_refund_account(
                refund=refund,
                by=self.buyer,
                kind="jazzcash",
                wallet_number="03001234567",
                account_title="Bilal",
            )
        manual_refunds.mark_refund_sent(refund=refund, by=self.staff, reference="IBFT-COD")

    def wait(self, days):
        self.clock[0] += timedelta(days=days)

    def _return(self, i):
        return ReturnRequest.objects.filter(order=self.orders[i]).first()

    def ask(self, i):
        order = Order.objects.get(pk=self.orders[i].pk)
        if self.refunded[order.pk] or returns.open_refusal(order, self.buyer) is not None:
            return
        returns.open_return(order=order, by=self.buyer, reason="damaged", details="Cracked.")

    def accept(self, i):
        self._accepted(i, self.seller)

    def _accepted(self, i, by):
        request = self._return(i)
        if request is None:
            return
        # Raises (and changes nothing) when this party may not accept it now, or the order
        # was never paid: the property is about what the services allow.
        with _refused_is_fine():
            returns.accept_return(request=request, by=by)
        if ReturnRequest.objects.get(pk=request.pk).status == ReturnRequest.Status.ACCEPTED:
            order = request.order
            if self.refunded[order.pk] == 0:
                self.refunded[order.pk] = order.total

    def refuse(self, i):
        request = self._return(i)
        if request is not None:
            with _refused_is_fine():
                returns.refuse_return(request=request, by=self.seller, reason="Used.")

    def dispute(self, i):
        request = self._return(i)
        if request is not None:
            with _refused_is_fine():
                returns.dispute_return(request=request, by=self.buyer)

    def decide(self, i, for_buyer):
        request = self._return(i)
        if request is None:
            return
        if for_buyer:
            self._accepted(i, self.staff)
        else:
            with _refused_is_fine():
                returns.reject_dispute(request=request, by=self.staff)

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

    def holds_released_money(self) -> bool:
        """Whether an order was released while a return on it could still refund the buyer
        (asked for, with staff, or refused and the buyer still able to dispute it)."""
        released = LedgerEntry.objects.filter(kind="release").values("order_id")
        return any(
            request.is_open or request.can_dispute(self.buyer, self.now)
            for request in ReturnRequest.objects.filter(order__in=released).select_related("order")
        )

    def expected_seller_money(self) -> Decimal:
        """What the seller has earned in all, worked out from the orders, not the ledger."""
        total = Decimal(0)
        for order in self.orders:
            if not order.ledger_entries.exists():
                continue
            fee = platform_fee(order.subtotal)
            refunded = self.refunded[order.pk]
            fee_kept = fee - quantize(fee * refunded / order.total)
            total += order.total - refunded - fee_kept
        return total


class _refused_is_fine:
    def __enter__(self):
        return self

    def __exit__(self, kind, error, traceback):
        return kind is not None and issubclass(kind, MarketplaceError)


@pytest.mark.django_db
def test_any_sequence_keeps_balances_sound_and_the_ledger_reconciled(
    seller, buyer, settings_, provider_refunds
):
    orders = unpaid_orders(seller, buyer)
    bank_method(seller)
    staff = staff_user()

    @settings(
        max_examples=60,
        deadline=None,
        suppress_health_check=[HealthCheck.too_slow],
    )
    @given(operations)
    # A refusal disputed on its last day, after the release job and a payout ran: staff
    # accepting it must find the money still held (this took available below zero before).
    @example(
        [
            *[("sale", 0), ("deliver", 0), ("ask", 0), ("refuse", 0)],
            *[("wait", 3), ("wait", 3), ("wait", 1), ("release",), ("draft",), ("paid", 0)],
            *[("dispute", 0), ("decide", 0, True)],
        ]
    )
    # Not disputed in time: released and paid; a late dispute is refused.
    @example(
        [
            *[("sale", 1), ("deliver", 1), ("ask", 1), ("refuse", 1), ("wait", 8), ("release",)],
            *[("draft",), ("paid", 0), ("dispute", 1), ("decide", 1, True)],
        ]
    )
    # Cash on delivery: accepted after the remittance (its credit reversed), and before it
    # (never credited), then sent by staff.
    @example(
        [
            *[("deliver", 4), ("remit",), ("ask", 4), ("accept", 4), ("send_by_hand",)],
            *[("wait", 8), ("release",), ("draft",)],
        ]
    )
    @example([("deliver", 4), ("ask", 4), ("accept", 4), ("remit",), ("send_by_hand",)])
    def check(ops):
        clock = [timezone.now()]
        with transaction.atomic(), mock.patch.object(timezone, "now", lambda: clock[0]):
            run = Run(seller, buyer, staff, orders, clock)
            for op in ops:
                getattr(run, op[0])(*op[1:])
                b = ledger.balances(seller)
                assert b.pending >= 0
                assert b.in_transfer >= 0
                assert b.paid_out >= 0
                assert b.available >= 0 or run.owes
                assert not run.holds_released_money()
                assert b.pending + b.available + b.in_transfer + b.paid_out == (
                    run.expected_seller_money()
                )
            mismatched = [
                f for f in reconciliation.reconciliation_figures() if f["expected"] != f["actual"]
            ]
            assert mismatched == []
            transaction.set_rollback(True)

    check()
    assert not LedgerEntry.objects.exists() and not Refund.objects.exists()
    assert not ReturnRequest.objects.exists()


@pytest.fixture
def settings_(settings):
    settings.PLATFORM_FEE_RATE = Decimal("0.02")
    settings.PAYOUT_MINIMUM = Decimal("100")
    settings.LEDGER_RELEASE_DAYS = 7
    return settings
