"""Races on PostgreSQL: the order row lock decides each fulfilment step exactly once."""

import threading
from datetime import timedelta

import pytest
from django.db import connections
from django.utils import timezone

from marketplace.exceptions import OrderActionRefused
from marketplace.models import Order, OrderEvent
from marketplace.services import fulfilment
from marketplace.tests.factories.fulfilment import shipped_order
from marketplace.tests.test_checkout_concurrency import require_postgresql


def together(*calls) -> list[object]:
    """Run the calls at the same moment in threads; returns each result or exception."""
    start = threading.Barrier(len(calls))
    results: list[object] = [None] * len(calls)

    def run(index, call) -> None:
        try:
            start.wait(timeout=10)
            results[index] = call()
        except Exception as error:  # every outcome is asserted by the test
            results[index] = error
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run, args=item) for item in enumerate(calls)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not any(thread.is_alive() for thread in threads)
    return results


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_the_buyer_confirming_while_the_sweep_runs_delivers_once(seller, buyer):
    require_postgresql()
    order = shipped_order(seller, buyer)
    Order.objects.filter(pk=order.pk).update(shipped_at=timezone.now() - timedelta(days=20))

    results = together(
        lambda: fulfilment.confirm_delivery(order=order, by=buyer),
        fulfilment.auto_confirm_deliveries,
        fulfilment.auto_confirm_deliveries,
    )

    order.refresh_from_db()
    assert order.status == Order.Status.DELIVERED
    delivered = order.events.filter(
        kind__in=[OrderEvent.Kind.DELIVERED, OrderEvent.Kind.AUTO_DELIVERED]
    )
    assert delivered.count() == 1
    assert not [
        r for r in results if isinstance(r, Exception) and not isinstance(r, OrderActionRefused)
    ]
