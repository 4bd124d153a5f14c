"""Two jobs moving the same money at the same moment on PostgreSQL: the seller's ledger lock
lets exactly one of them do it."""

import threading
from decimal import Decimal

import pytest
from django.db import connections

from marketplace.models import LedgerEntry, Payout
from marketplace.services import ledger, payout_batches
from marketplace.tests.factories.ledger import bank_method, deliver, sold

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


@pytest.fixture(autouse=True)
def _rules(settings):
    settings.PLATFORM_FEE_RATE = Decimal("0.02")
    settings.LEDGER_RELEASE_DAYS = 7
    settings.PAYOUT_MINIMUM = Decimal("1000")


def at_once(job, times: int = 2) -> list[Exception]:
    """Run `job` in `times` threads released together; returns the errors raised."""
    start = threading.Barrier(times)
    errors: list[Exception] = []

    def run() -> None:
        try:
            start.wait(timeout=10)
            job()
        except Exception as error:  # asserted by the caller
            errors.append(error)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run) for _ in range(times)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not any(thread.is_alive() for thread in threads)
    return errors


def test_two_releases_at_once_release_the_money_once(seller, buyer):
    order = sold(seller, buyer, "2500.00")
    deliver(order, days_ago=8)
    assert at_once(ledger.release_due, times=4) == []
    assert LedgerEntry.objects.filter(kind="release").count() == 1
    assert ledger.balances(seller).available == Decimal("2450.00")


@pytest.fixture
def available(seller, buyer):
    """Rs 2,450 available to the seller, who has a bank account on file; returns the order."""
    order = sold(seller, buyer, "2500.00")
    deliver(order, days_ago=8)
    ledger.release_due()
    bank_method(seller)
    return order


def test_two_payout_drafts_at_once_pay_the_money_once(seller, available):
    errors = at_once(payout_batches.draft_payout_batch, times=4)
    # A loser of the race to create the week's batch may see the winner's row (IntegrityError
    # inside get_or_create is handled): no error either way.
    assert errors == []
    assert Payout.objects.count() == 1
    assert LedgerEntry.objects.filter(kind="payout").count() == 1
    assert ledger.balances(seller).available == Decimal("0.00")


def test_two_failures_of_one_line_at_once_return_the_money_once(seller, available):
    line = payout_batches.draft_payout_batch().lines.get()
    assert at_once(lambda: payout_batches.mark_payout_failed(line=line), times=3) == []
    assert LedgerEntry.objects.filter(kind="payout_reversal").count() == 1
    assert ledger.balances(seller).available == Decimal("2450.00")


def test_a_refund_racing_a_payout_never_pays_refunded_money(seller, available):

    calls = iter(["refund", "draft"])

    def refund_or_draft():
        if next(calls) == "refund":
            ledger.record_refund(order=available, amount=Decimal("2500.00"), key="return-1")
        else:
            payout_batches.draft_payout_batch()

    assert at_once(refund_or_draft) == []
    balances = ledger.balances(seller)
    paid = sum(line.amount for line in Payout.objects.all())
    # Either the payout went first (and the seller now owes the return) or the refund did
    # (and nothing was paid): the money adds up in both orders.
    assert balances.available + paid == Decimal("0.00")
