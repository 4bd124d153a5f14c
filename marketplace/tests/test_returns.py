"""Issue 14: returns after delivery. The buyer asks inside the return window, the seller
accepts (refund through the one refund path, the ledger reversed) or refuses, staff decide a
dispute; the release job waits while a return is open."""

import importlib
from datetime import timedelta
from decimal import Decimal

import pytest
from django.apps import apps
from django.utils import timezone
from django.utils.translation import override

from marketplace import payments
from marketplace.exceptions import ReturnActionRefused
from marketplace.models import (
    ConnectedAccount,
    LedgerEntry,
    Notification,
    Order,
    OrderEvent,
    Refund,
    ReturnRequest,
    SellerTransfer,
)
from marketplace.models.returns import ESCALATION_DAYS
from marketplace.services import ledger, payout_batches, reconciliation, returns
from marketplace.tests.factories.accounts import UserFactory
from marketplace.tests.factories.ledger import (
    bank_method,
    deliver,
    paid_order,
    sold,
    staff_user,
)

pytestmark = pytest.mark.django_db

ASK = {"reason": ReturnRequest.Reason.DAMAGED, "details": "The plate arrived in two pieces."}


@pytest.fixture
def delivered(seller, buyer):
    """Amina's Rs 2,500 sale to Bilal, delivered two days ago: inside the return window."""
    order = sold(seller, buyer)
    deliver(order, days_ago=2)
    return Order.objects.get(pk=order.pk)


def asked(order, buyer) -> ReturnRequest:
    return returns.open_return(order=order, by=buyer, **ASK)


def pass_the_window(order) -> None:
    Order.objects.filter(pk=order.pk).update(delivered_at=timezone.now() - timedelta(days=30))


def test_the_buyer_asks_and_the_seller_is_told_in_their_language(delivered, seller, buyer):
    seller.language = "ur"
    seller.save(update_fields=["language"])

    request = asked(delivered, buyer)

    assert request.status == ReturnRequest.Status.REQUESTED
    assert delivered.events.filter(kind=OrderEvent.Kind.RETURN_REQUESTED, actor=buyer).exists()
    notice = Notification.objects.get(user=seller, kind=Notification.Kind.RETURN_UPDATED)
    assert delivered.number in notice.title
    with override("ur"):
        assert "Return asked for" not in notice.display_title
    with override("en"):
        assert notice.display_title.startswith("Return asked for on order")


@pytest.mark.parametrize(
    ("setup", "code"),
    [
        (lambda order: pass_the_window(order), "window_ended"),
        (
            lambda order: Order.objects.filter(pk=order.pk).update(status=Order.Status.SHIPPED),
            "not_delivered",
        ),
    ],
    ids=["after-the-window", "not-delivered"],
)
def test_a_return_is_refused_outside_the_window_or_before_delivery(delivered, buyer, setup, code):
    setup(delivered)

    with pytest.raises(ReturnActionRefused) as refused:
        asked(Order.objects.get(pk=delivered.pk), buyer)

    assert refused.value.code == code
    assert not ReturnRequest.objects.exists()


def test_only_the_buyer_may_ask_and_only_once(delivered, seller, buyer):
    with pytest.raises(ReturnActionRefused, match="Only the buyer"):
        asked(delivered, seller)
    asked(delivered, buyer)

    with pytest.raises(ReturnActionRefused) as again:
        asked(delivered, buyer)

    assert again.value.code == "already_asked"
    assert ReturnRequest.objects.count() == 1


def test_an_open_return_holds_the_money_until_the_buyer_can_no_longer_dispute_the_refusal(
    delivered, seller, buyer
):
    request = asked(delivered, buyer)
    pass_the_window(delivered)

    assert ledger.release_due() == 0
    assert ledger.release_order(order=delivered) is None  # the guard under the lock, too
    assert ledger.balances(seller).pending == Decimal("2450.00")

    returns.refuse_return(request=request, by=seller, reason="It left here packed and whole.")
    notice = Notification.objects.get(user=buyer, kind=Notification.Kind.RETURN_UPDATED)
    assert "It left here packed and whole." in notice.body

    # Refused, but the buyer may still take it to staff: still held, by the job and the lock.
    last_day = timezone.now() + timedelta(days=ESCALATION_DAYS) - timedelta(minutes=1)
    assert ledger.release_due(now=last_day) == 0
    assert ledger.release_order(order=delivered, now=last_day) is None
    assert ledger.balances(seller).pending == Decimal("2450.00")

    after = timezone.now() + timedelta(days=ESCALATION_DAYS, minutes=1)
    assert ledger.release_due(now=after) == 1
    assert ledger.balances(seller).available == Decimal("2450.00")


def test_the_seller_accepts_and_the_buyer_is_refunded_through_the_one_path(
    delivered, seller, buyer, provider_refunds
):
    request = asked(delivered, buyer)

    request = returns.accept_return(request=request, by=seller)

    assert request.status == ReturnRequest.Status.ACCEPTED
    refund = Refund.objects.get(order=delivered)
    assert (refund.status, refund.amount, refund.reason) == (
        Refund.Status.SUCCEEDED,
        Decimal("2500.00"),
        "Return accepted",
    )
    assert provider_refunds == [f"refund-{delivered.number}"]
    delivered.refresh_from_db()
    assert delivered.status == Order.Status.REFUNDED
    kinds = list(delivered.events.values_list("kind", flat=True))
    assert kinds[-2:] == [OrderEvent.Kind.RETURN_ACCEPTED, OrderEvent.Kind.REFUNDED]
    assert set(LedgerEntry.objects.filter(order=delivered).values_list("kind", flat=True)) >= {
        LedgerEntry.Kind.REFUND,
        LedgerEntry.Kind.FEE_REFUND,
    }
    balances = ledger.balances(seller)
    assert (balances.pending, balances.available) == (Decimal("0.00"), Decimal("0.00"))
    assert Notification.objects.filter(user=buyer, kind=Notification.Kind.RETURN_UPDATED).exists()
    assert reconciliation.reconcile() == []


@pytest.mark.parametrize("who", ["buyer", "outsider", "staff"])
def test_only_the_seller_answers_an_open_return(delivered, seller, buyer, provider_refunds, who):
    user = {"buyer": buyer, "outsider": UserFactory(), "staff": staff_user()}[who]
    request = asked(delivered, buyer)

    with pytest.raises(ReturnActionRefused):
        returns.accept_return(request=request, by=user)
    with pytest.raises(ReturnActionRefused):
        returns.refuse_return(request=request, by=user, reason="No.")

    request.refresh_from_db()
    assert request.status == ReturnRequest.Status.REQUESTED
    assert not Refund.objects.exists() and provider_refunds == []


def test_a_refusal_needs_a_reason(delivered, seller, buyer):
    request = asked(delivered, buyer)

    with pytest.raises(ReturnActionRefused, match="say what is wrong"):
        returns.refuse_return(request=request, by=seller, reason="  ")


def test_an_accepted_return_cannot_be_accepted_or_refused_again(
    delivered, seller, buyer, provider_refunds
):
    request = returns.accept_return(request=asked(delivered, buyer), by=seller)

    with pytest.raises(ReturnActionRefused):
        returns.accept_return(request=request, by=seller)
    with pytest.raises(ReturnActionRefused):
        returns.refuse_return(request=request, by=seller, reason="Changed my mind")
    assert provider_refunds == [f"refund-{delivered.number}"]


def test_a_dispute_holds_the_money_and_staff_rejecting_it_releases_it(delivered, seller, buyer):
    request = asked(delivered, buyer)
    returns.refuse_return(request=request, by=seller, reason="Used for a month.")
    request = returns.dispute_return(request=request, by=buyer, note="It broke on day one.")
    pass_the_window(delivered)

    assert ledger.release_due() == 0
    with pytest.raises(ReturnActionRefused):
        returns.reject_dispute(request=request, by=seller)

    request = returns.reject_dispute(request=request, by=staff_user(), note="Photos show use.")

    assert request.status == ReturnRequest.Status.REJECTED
    assert ledger.release_due() == 1
    for party in (buyer, seller):
        assert Notification.objects.filter(
            user=party, kind=Notification.Kind.RETURN_UPDATED, dedupe_key__endswith="rejected"
        ).exists()


def test_a_dispute_on_the_last_escalation_day_finds_the_money_still_pending(
    delivered, seller, buyer, provider_refunds
):
    """Nothing was released while the buyer could dispute, so staff accepting the dispute
    reverse pending money and no balance goes below zero."""
    bank_method(seller)
    request = asked(delivered, buyer)
    returns.refuse_return(request=request, by=seller, reason="Used for a month.")
    pass_the_window(delivered)
    ReturnRequest.objects.filter(pk=request.pk).update(
        answered_at=timezone.now() - timedelta(days=ESCALATION_DAYS) + timedelta(minutes=5)
    )
    assert ledger.release_due() == 0
    assert not payout_batches.draft_payout_batch().lines.exists()
    request = returns.dispute_return(request=ReturnRequest.objects.get(pk=request.pk), by=buyer)
    assert ledger.release_due(now=timezone.now() + timedelta(days=30)) == 0  # with staff

    returns.accept_return(request=request, by=staff_user(), note="The crack is in the glaze.")

    balances = ledger.balances(seller)
    assert (balances.pending, balances.available, balances.paid_out) == (0, 0, 0)
    assert Order.objects.get(pk=delivered.pk).status == Order.Status.REFUNDED
    assert reconciliation.reconcile() == []


def test_a_refusal_not_disputed_in_time_is_released_and_paid(delivered, seller, buyer):
    bank_method(seller)
    request = asked(delivered, buyer)
    returns.refuse_return(request=request, by=seller, reason="Used for a month.")
    pass_the_window(delivered)
    ReturnRequest.objects.filter(pk=request.pk).update(
        answered_at=timezone.now() - timedelta(days=ESCALATION_DAYS, minutes=5)
    )

    assert ledger.release_due() == 1
    assert payout_batches.draft_payout_batch().lines.get(seller=seller).amount == Decimal("2450.00")
    with pytest.raises(ReturnActionRefused):
        returns.dispute_return(request=ReturnRequest.objects.get(pk=request.pk), by=buyer)


def test_the_buyer_may_not_dispute_after_the_escalation_days(delivered, seller, buyer):
    request = asked(delivered, buyer)
    returns.refuse_return(request=request, by=seller, reason="Used.")
    ReturnRequest.objects.filter(pk=request.pk).update(
        answered_at=timezone.now() - timedelta(days=8)
    )

    with pytest.raises(ReturnActionRefused):
        returns.dispute_return(request=ReturnRequest.objects.get(pk=request.pk), by=buyer)


def test_the_database_allows_one_open_return_per_order(delivered):
    from django.db import IntegrityError, transaction

    ReturnRequest.objects.create(order=delivered, reason="other", details="a")
    with pytest.raises(IntegrityError), transaction.atomic():
        ReturnRequest.objects.create(order=delivered, reason="other", details="b")


# --- Decision: a refund of an order migrated with its transfer sent ------------------------

migration = importlib.import_module("marketplace.migrations.0025_ledger_existing_orders")


def test_a_migrated_order_refunded_after_its_transfer_leaves_the_seller_owing_the_next_batch(
    seller, buyer, provider_refunds, monkeypatch
):
    """Like Daraz's "returns deducted next cycle": no Stripe transfer reversal (the transfer is
    a PAID line of the `migrated` batch); the seller's available goes below zero and the next
    batch pays only what is left after the debt."""
    reversals = []
    monkeypatch.setattr(payments, "reverse_transfer", lambda **kw: reversals.append(kw))
    bank_method(seller)
    ConnectedAccount.objects.update_or_create(
        user=seller, defaults={"stripe_account_id": "acct_amina", "payouts_enabled": True}
    )
    old = paid_order(seller, buyer, "4000.00")
    SellerTransfer.objects.create(
        order=old,
        payment=old.checkout.payments.get(),
        amount=Decimal("3920.00"),
        fee=Decimal("80.00"),
        idempotency_key=f"transfer-{old.number}",
        status=SellerTransfer.Status.SENT,
        stripe_transfer_id=f"tr_{old.number}",
        sent_at=old.paid_at,
    )
    migration.forwards(apps, None)
    deliver(old, days_ago=2)
    request = asked(Order.objects.get(pk=old.pk), buyer)

    returns.accept_return(request=request, by=seller)

    assert reversals == []
    assert SellerTransfer.objects.get(order=old).status == SellerTransfer.Status.SENT
    assert ledger.balances(seller).available == Decimal("-3920.00")
    later = sold(seller, buyer, "6000.00")
    deliver(later, days_ago=30)
    ledger.release_due()
    line = payout_batches.draft_payout_batch().lines.get(seller=seller)
    assert line.amount == Decimal("5880.00") - Decimal("3920.00")
    assert reconciliation.reconcile() == []
