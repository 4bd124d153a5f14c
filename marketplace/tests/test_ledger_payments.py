"""Issue 14 phase 2: a payment is a sale held in the seller ledger (no transfer at payment),
and the one refund path reverses it, before or after the money is released."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from marketplace.models import LedgerEntry, Notification, Order, Refund, SellerTransfer
from marketplace.services import ledger, payout_batches, payouts, reconciliation, refunds
from marketplace.tests.factories.accounts import lose_payouts
from marketplace.tests.factories.ledger import bank_method, staff_user
from marketplace.tests.factories.orders import address_of, listing_by, order_for
from marketplace.tests.payments_fixtures import objects, onboard, pay_and_deliver, start_paying
from marketplace.tests.stripe_support import control

pytestmark = pytest.mark.django_db


@pytest.fixture
def paid(emulator, receiver, seller, buyer, client):
    """Bilal paid Amina's Rs 2,500 order through the Stripe emulator."""
    from marketplace.services.orders import place_checkout

    onboard(emulator, seller)
    checkout = place_checkout(
        buyer=buyer, lines=[(listing_by(seller, price="2500.00"), 1)], address=address_of(buyer)
    )
    client.force_login(buyer)
    pay_and_deliver(client, emulator, receiver, start_paying(client, checkout))
    return Order.objects.get(checkout=checkout)


def test_the_seller_is_told_the_money_is_held_until_delivery(paid, seller, settings):
    notice = Notification.objects.get(user=seller, title__contains="please send it")

    assert "Rs 2,450" in notice.body
    assert "held by MadeInPK" in notice.body
    assert f"{settings.LEDGER_RELEASE_DAYS} days after the buyer confirms" in notice.body
    assert "Stripe account" not in notice.body


def test_the_sellers_order_page_shows_the_share_held(paid, seller, client):
    client.force_login(seller)

    page = client.get(reverse("order_detail", args=[paid.number])).content.decode()

    assert 'id="seller-payment"' in page
    assert "Rs 2,450" in page and "Rs 50" in page
    assert "Held until the return window after delivery ends" in page


def test_a_staff_refund_after_release_comes_out_of_available(emulator, paid, seller):
    Order.objects.filter(pk=paid.pk).update(
        status=Order.Status.DELIVERED, delivered_at=timezone.now() - timedelta(days=30)
    )
    assert ledger.release_due() == 1
    assert ledger.balances(seller).available == Decimal("2450.00")

    refund = refunds.refund_order(order=paid, by_staff=staff_user())

    assert refund.status == Refund.Status.SUCCEEDED
    assert ledger.balances(seller).available == Decimal("0.00")
    assert ledger.balances(seller).pending == Decimal("0.00")
    assert objects(emulator, "transfer") == []
    assert not SellerTransfer.objects.exists()
    keys = set(LedgerEntry.objects.filter(order=paid).values_list("key", flat=True))
    assert {f"refund:order:{paid.pk}", f"fee-refund:order:{paid.pk}"} <= keys
    assert reconciliation.reconcile() == []


def test_a_seller_with_only_a_bank_account_can_be_paid(client, seller, buyer):
    """Issue 14: a payout method (IBAN or wallet) is enough; no Stripe account needed."""
    order = order_for(buyer, listing_by(seller))
    client.force_login(buyer)
    lose_payouts(seller)  # the factory's seller has a bank account; start with none
    assert payouts.unready_sellers([seller.pk]) == {seller.pk}

    bank_method(seller, held=True)  # on hold for payouts: buyers may still pay

    assert payouts.unready_sellers([seller.pk]) == set()
    page = client.get(reverse("checkout_detail", args=[order.checkout.number])).content.decode()
    assert "not ready for payment yet" not in page
    assert 'id="pay-button"' in page


def test_the_ledger_jobs_are_scheduled_and_release_delivered_money(paid, seller):
    from django.core.management import call_command
    from django_q.models import Schedule

    wanted = {
        "release_ledger_money": "H",
        "draft_payout_batch": "W",
        "pay_stripe_payouts": "H",
        "reconcile_ledger": "D",
    }
    scheduled = dict(Schedule.objects.filter(name__in=wanted).values_list("name", "schedule_type"))
    assert scheduled == wanted
    Order.objects.filter(pk=paid.pk).update(
        status=Order.Status.DELIVERED, delivered_at=timezone.now() - timedelta(days=8)
    )

    call_command("run_job", "release_ledger_money")

    assert ledger.balances(seller).available == Decimal("2450.00")


@pytest.fixture
def stripe_line(emulator, paid, seller):
    """Amina is paid through Stripe: her delivered sale is released and drafted in a batch."""
    payout_batches.set_payout_method(
        seller=seller, kind="stripe", now=timezone.now() - timedelta(days=3)
    )
    Order.objects.filter(pk=paid.pk).update(
        status=Order.Status.DELIVERED, delivered_at=timezone.now() - timedelta(days=8)
    )
    ledger.release_due()
    return payout_batches.draft_payout_batch().lines.get()


def test_a_stripe_rail_line_is_sent_once_as_a_transfer_and_marked_paid(emulator, stripe_line):
    assert payout_batches.pay_stripe_lines() == {"paid": 1, "failed": 0, "retry": 0}
    assert payout_batches.pay_stripe_lines() == {"paid": 0, "failed": 0, "retry": 0}

    [sent] = objects(emulator, "transfer")
    stripe_line.refresh_from_db()
    assert (stripe_line.status, stripe_line.reference) == ("paid", sent["id"])
    assert (sent["amount"], sent["destination"]) == (245000, stripe_line.account)
    assert sent["source_transaction"] is None
    assert ledger.balances(stripe_line.seller).paid_out == Decimal("2450.00")
    assert reconciliation.reconcile() == []


def test_a_refused_stripe_transfer_fails_the_line_and_the_money_is_available_again(
    emulator, stripe_line
):
    control(emulator, f"accounts/{stripe_line.account}/disable")  # Stripe side only

    assert payout_batches.pay_stripe_lines() == {"paid": 0, "failed": 1, "retry": 0}

    stripe_line.refresh_from_db()
    assert stripe_line.status == "failed"
    assert ledger.balances(stripe_line.seller).available == Decimal("2450.00")
    assert objects(emulator, "transfer") == []


def test_the_buyer_sees_protected_until_the_window_ends(paid, buyer, client, settings):
    url = reverse("order_detail", args=[paid.number])
    client.force_login(buyer)
    assert "the seller is paid only after you confirm delivery" in client.get(url).content.decode()

    delivered = timezone.now() - timedelta(days=2)
    Order.objects.filter(pk=paid.pk).update(status=Order.Status.DELIVERED, delivered_at=delivered)
    until = timezone.localtime(delivered + timedelta(days=settings.LEDGER_RELEASE_DAYS))
    page = client.get(url).content.decode()
    assert f"Protected until {until.day} {until:%b %Y}" in page

    Order.objects.filter(pk=paid.pk).update(delivered_at=delivered - timedelta(days=30))
    ledger.release_due()
    assert 'id="buyer-protection"' not in client.get(url).content.decode()
