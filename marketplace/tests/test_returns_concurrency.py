"""Returns raced on PostgreSQL: the order's row lock decides one outcome."""

import pytest

from marketplace.exceptions import ReturnActionRefused
from marketplace.models import Refund, ReturnRequest
from marketplace.services import returns
from marketplace.tests.factories.ledger import deliver, sold
from marketplace.tests.test_ledger_concurrency import at_once

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

ASK = {"reason": "damaged", "details": "Cracked."}


@pytest.fixture
def delivered(seller, buyer):
    order = sold(seller, buyer, "2500.00")
    deliver(order, days_ago=1)
    return order


def test_four_return_requests_at_once_make_one(delivered, buyer):
    errors = at_once(lambda: returns.open_return(order=delivered, by=buyer, **ASK), times=4)

    assert ReturnRequest.objects.count() == 1
    assert len(errors) == 3
    assert all(isinstance(e, ReturnActionRefused) and e.code == "already_asked" for e in errors)


def test_accept_and_refuse_at_once_decide_one_way(delivered, seller, buyer, provider_refunds):
    request = returns.open_return(order=delivered, by=buyer, **ASK)
    jobs = iter(
        [
            lambda: returns.accept_return(request=request, by=seller),
            lambda: returns.refuse_return(request=request, by=seller, reason="Used."),
        ]
    )

    errors = at_once(lambda: next(jobs)(), times=2)

    assert len(errors) == 1 and isinstance(errors[0], ReturnActionRefused)
    status = ReturnRequest.objects.get().status
    assert status in (ReturnRequest.Status.ACCEPTED, ReturnRequest.Status.REFUSED)
    assert Refund.objects.exists() == (status == ReturnRequest.Status.ACCEPTED)
    assert len(provider_refunds) == (status == ReturnRequest.Status.ACCEPTED)
