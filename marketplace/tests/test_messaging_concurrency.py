"""Races on PostgreSQL: the sender's row lock keeps a burst of messages within the rate limit."""

import pytest

from marketplace.exceptions import MessageRejected
from marketplace.models import Message
from marketplace.services.messaging import send_message, start_conversation
from marketplace.tests.factories.catalog import ProductFactory
from marketplace.tests.test_checkout_concurrency import require_postgresql
from marketplace.tests.test_fulfilment_concurrency import together


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_burst_of_messages_at_once_never_passes_the_rate_limit(seller, buyer, settings):
    require_postgresql()
    settings.MESSAGE_RATE_LIMIT = 3
    conversation = start_conversation(user=buyer, product=ProductFactory(seller=seller))

    results = together(
        *[
            (lambda n=n: send_message(conversation=conversation, sender=buyer, body=f"m{n}"))
            for n in range(8)
        ]
    )

    assert Message.objects.count() == 3
    assert sum(isinstance(r, MessageRejected) for r in results) == 5
