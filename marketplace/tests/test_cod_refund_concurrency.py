"""Cash-on-delivery refunds raced on PostgreSQL: the order's row lock (and the refund's) decide
one outcome, and the seller's COD credit is never kept for a refunded order."""

from decimal import Decimal

import pytest

from marketplace.exceptions import ReturnActionRefused
from marketplace.models import LedgerEntry, Notification, Order, Refund, ReturnRequest
from marketplace.services import manual_refunds, reconciliation, remittance, returns
from marketplace.tests.factories.ledger import cod_order_with_parcel, remittance_line, staff_user
from marketplace.tests.test_ledger_concurrency import at_once

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

ASK = {"reason": "damaged", "details": "Cracked."}
Kind = LedgerEntry.Kind


def credit(order) -> Decimal:
    """What the seller keeps of the order (sale, fee and their reversals)."""
    kinds = [Kind.SALE, Kind.FEE, Kind.REFUND, Kind.FEE_REFUND]
    totals = LedgerEntry.objects.filter(order=order, kind__in=kinds).totals()
    return totals["pending"] + totals["available"]


@pytest.fixture
def asked(seller, buyer):
    """A delivered cash-on-delivery order and the buyer's return request."""
    order = cod_order_with_parcel(seller, buyer, delivered=True)
    return returns.open_return(order=order, by=buyer, **ASK)


def test_accepting_twice_at_once_owes_one_refund_and_reverses_once(asked, seller):
    remittance.reconcile_line(courier_key="postex", line=remittance_line(asked.order), source="api")
    assert credit(asked.order) == Decimal("2450.00")

    errors = at_once(lambda: returns.accept_return(request=asked, by=seller), times=4)

    assert len(errors) == 3
    assert all(isinstance(e, ReturnActionRefused) for e in errors)
    refund = Refund.objects.get()
    assert (refund.provider, refund.status) == (Refund.MANUAL, Refund.Status.PENDING)
    assert LedgerEntry.objects.filter(kind=Kind.REFUND).count() == 1
    assert credit(asked.order) == Decimal("0.00")
    assert ReturnRequest.objects.get().status == ReturnRequest.Status.ACCEPTED
    assert reconciliation.reconcile() == []


def test_accepting_while_the_remittance_arrives_never_leaves_the_seller_credited(asked, seller):
    jobs = iter(
        [
            lambda: returns.accept_return(request=asked, by=seller),
            lambda: remittance.reconcile_line(
                courier_key="postex", line=remittance_line(asked.order), source="api"
            ),
        ]
    )

    assert at_once(lambda: next(jobs)(), times=2) == []

    assert Refund.objects.count() == 1
    assert credit(asked.order) == Decimal("0.00")
    assert reconciliation.reconcile() == []


def test_staff_marking_it_sent_twice_at_once_send_it_once(asked, seller, buyer):
    returns.accept_return(request=asked, by=seller)
    refund = manual_refunds.give_refund_account(
        refund=Refund.objects.get(),
        by=buyer,
        kind="easypaisa",
        wallet_number="0345-1234567",
        account_title="Bilal",
    )
    staff = staff_user()

    errors = at_once(
        lambda: manual_refunds.mark_refund_sent(refund=refund, by=staff, reference="EP-1"),
        times=3,
    )

    assert errors == []
    refund.refresh_from_db()
    assert (refund.status, refund.stripe_refund_id) == (Refund.Status.SUCCEEDED, "EP-1")
    assert Order.objects.get().status == Order.Status.REFUNDED
    assert Notification.objects.filter(user=buyer, dedupe_key__endswith=":sent").count() == 1
    assert Order.objects.get().events.filter(kind="refunded").count() == 1
