"""The IPN and the inquiry job settling one JazzCash payment at the same moment (PostgreSQL):
one payment, one sale in the ledger, one "paid" event."""

import threading

import pytest
from django.db import connections

from marketplace.models import LedgerEntry, Order, OrderEvent, Payment
from marketplace.services import payments as payment_services
from marketplace.services import wallets
from marketplace.tests.factories.accounts import SellerFactory, UserFactory
from marketplace.tests.factories.orders import listing_by, order_for
from marketplace.tests.jazzcash_support import pay_at_jazzcash


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_ipns_and_the_inquiry_job_at_once_settle_the_payment_once(jazzcash):
    seller = SellerFactory(username="amina")
    buyer = UserFactory(username="bilal")
    order = order_for(buyer, listing_by(seller, price="2995.00"))
    page = payment_services.open_checkout_payment(
        checkout=order.checkout,
        buyer=buyer,
        success_url="http://testserver/payments/jazzcash/return/",
        cancel_url="http://testserver/payments/jazzcash/return/",
        method="jazzcash",
    )
    notice = pay_at_jazzcash(jazzcash, page.form_fields, "000")
    runs = [
        lambda: wallets.receive_wallet_ipn(provider="jazzcash", fields=notice),
        lambda: wallets.receive_wallet_ipn(provider="jazzcash", fields=notice),
        wallets.settle_pending_wallet_payments,
        lambda: wallets.receive_wallet_return(provider="jazzcash", fields=notice),
    ]
    start = threading.Barrier(len(runs))
    errors: list[Exception] = []

    def run(settle) -> None:
        try:
            start.wait(timeout=10)
            settle()
        except Exception as error:  # asserted below
            errors.append(error)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run, args=(settle,)) for settle in runs]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    assert errors == []
    assert Payment.objects.count() == 1
    assert Payment.objects.get().status == Payment.Status.PAID
    assert LedgerEntry.objects.filter(order=order, kind=LedgerEntry.Kind.SALE).count() == 1
    assert OrderEvent.objects.filter(order=order, kind=OrderEvent.Kind.PAID).count() == 1
    assert Order.objects.get(pk=order.pk).status == Order.Status.PAID
