"""Refunds of cash-on-delivery orders: a return accepted (or decided for the buyer by staff)
is owed to the buyer through the `manual` provider, the seller's credit from the courier's
remittance is reversed once (or never made, when the remittance comes later), the buyer gives
a bank account or wallet, and staff mark the refund sent or failed. Parcels returned to the
seller have nothing to refund."""

from decimal import Decimal

import pytest
from django.utils.translation import override

from marketplace.exceptions import InvalidOrderTransition, PaymentRejected, ReturnActionRefused
from marketplace.models import (
    LedgerEntry,
    Notification,
    Order,
    OrderEvent,
    Refund,
    RemittanceLine,
    ReturnRequest,
)
from marketplace.services import (
    fulfilment,
    ledger,
    manual_refunds,
    parcels,
    reconciliation,
    refunds,
    remittance,
    returns,
)
from marketplace.tests.courier_support import booked_parcel, cod_order, delivered_parcel, move
from marketplace.tests.factories.ledger import VALID_IBAN, paid_order, sold, staff_user

pytestmark = pytest.mark.django_db
Kind = LedgerEntry.Kind
ASK = {"reason": ReturnRequest.Reason.DAMAGED, "details": "The cup came chipped."}


def entries(order) -> dict[str, Decimal]:
    return {e.kind: e.pending + e.available for e in LedgerEntry.objects.filter(order=order)}


def delivered_cod(courier, seller, buyer) -> Order:
    """Amina's Rs 2,500 cash-on-delivery sale to Bilal, delivered by the courier."""
    order = cod_order(seller, buyer)
    delivered_parcel(courier, order, seller)
    return Order.objects.select_related("checkout").get(pk=order.pk)


def accepted(order, buyer, seller) -> Refund:
    returns.accept_return(request=returns.open_return(order=order, by=buyer, **ASK), by=seller)
    return Refund.objects.get(order=order)


def give_bank(refund, buyer) -> Refund:
    return manual_refunds.give_refund_account(
        refund=refund,
        by=buyer,
        kind=Refund.PayeeKind.BANK,
        iban="pk36 scbl 0000 0011 2345 6702",
        account_title="Bilal Ahmed",
    )


def test_a_return_accepted_after_the_remittance_reverses_the_sellers_cod_credit(
    courier, seller, buyer
):
    order = delivered_cod(courier, seller, buyer)
    assert remittance.reconcile_report() == (1, 0)
    assert entries(order) == {Kind.SALE: Decimal("2500.00"), Kind.FEE: Decimal("-50.00")} | {
        Kind.COURIER: Decimal("-200.00")
    }

    refund = accepted(order, buyer, seller)

    assert (refund.provider, refund.payment, refund.status, refund.amount) == (
        Refund.MANUAL,
        None,
        Refund.Status.PENDING,
        Decimal("2500.00"),
    )
    assert refund.needs_payee
    assert entries(order) == {
        Kind.SALE: Decimal("2500.00"),
        Kind.FEE: Decimal("-50.00"),
        Kind.COURIER: Decimal("-200.00"),
        Kind.REFUND: Decimal("-2500.00"),
        Kind.FEE_REFUND: Decimal("50.00"),
    }
    assert ledger.balances(seller).pending == Decimal("0.00")
    order.refresh_from_db()
    assert order.status == Order.Status.DELIVERED  # refunded once the money is sent
    notice = Notification.objects.get(user=buyer, kind=Notification.Kind.REFUND_UPDATED)
    assert "where should we send your refund" in notice.title
    assert reconciliation.reconcile() == []


def test_a_return_accepted_before_the_remittance_reverses_nothing_and_is_never_credited(
    courier, seller, buyer
):
    order = delivered_cod(courier, seller, buyer)

    refund = accepted(order, buyer, seller)

    assert refund.status == Refund.Status.PENDING and entries(order) == {}
    assert remittance.reconcile_report() == (1, 0)
    assert RemittanceLine.objects.get().outcome == RemittanceLine.Outcome.MATCHED
    # The cash collected is the buyer's refund: the seller bears only the courier's charge.
    assert entries(order) == {Kind.COURIER: Decimal("-200.00")}
    assert reconciliation.reconcile() == []


def test_staff_deciding_a_dispute_for_the_buyer_owe_the_refund_the_same_way(courier, seller, buyer):
    order = delivered_cod(courier, seller, buyer)
    remittance.reconcile_report()
    request = returns.open_return(order=order, by=buyer, **ASK)
    returns.refuse_return(request=request, by=seller, reason="It left here whole.")
    returns.dispute_return(request=request, by=buyer, note="Chipped on arrival.")

    returns.accept_return(request=request, by=staff_user(), note="Photos show the chip.")

    refund = Refund.objects.get(order=order)
    assert (refund.provider, refund.status) == (Refund.MANUAL, Refund.Status.PENDING)
    assert entries(order)[Kind.REFUND] == Decimal("-2500.00")
    assert ReturnRequest.objects.get().status == ReturnRequest.Status.ACCEPTED
    assert reconciliation.reconcile() == []


def test_a_parcel_returned_to_the_seller_has_nothing_to_refund(courier, seller, buyer):
    order = cod_order(seller, buyer)
    parcel = booked_parcel(order, seller)
    move(courier, parcel.tracking_number, "picked_up", "in_transit", "returned")
    parcels.poll_open_parcels()
    order = Order.objects.select_related("checkout").get(pk=order.pk)
    assert order.status == Order.Status.RETURNED

    with pytest.raises(PaymentRejected) as refused:
        refunds.refund_order(order=order, by_staff=staff_user())
    with pytest.raises(InvalidOrderTransition):
        order.transition_to(Order.Status.REFUNDED)

    assert refused.value.code == "not_paid"
    assert not Refund.objects.exists()
    remittance.reconcile_report()
    assert set(entries(order)) == {Kind.COURIER}  # charges only: no sale, no refund


def test_refunded_is_reached_only_by_orders_whose_money_was_taken(seller, buyer):
    prepaid = paid_order(seller, buyer)
    prepaid.status = Order.Status.RETURNED
    assert prepaid.can_transition_to(Order.Status.REFUNDED)  # staff refund a prepaid RTO
    unpaid = paid_order(seller, buyer)
    unpaid.status, unpaid.paid_at = Order.Status.CANCELLED, None
    assert not unpaid.can_transition_to(Order.Status.REFUNDED)
    cod = cod_order(seller, buyer)
    for status in (Order.Status.SHIPPED, Order.Status.CANCELLED, Order.Status.RETURNED):
        cod.status = status
        assert not cod.can_transition_to(Order.Status.REFUNDED), status
    cod.status = Order.Status.DELIVERED
    assert cod.can_transition_to(Order.Status.REFUNDED)


def test_staff_refunding_a_delivered_cod_order_use_the_same_path(courier, seller, buyer):
    order = delivered_cod(courier, seller, buyer)
    remittance.reconcile_report()

    refund = refunds.refund_order(order=order, by_staff=staff_user())

    assert (refund.provider, refund.status) == (Refund.MANUAL, Refund.Status.PENDING)
    assert entries(order)[Kind.REFUND] == Decimal("-2500.00")


@pytest.mark.parametrize(
    ("account", "code"),
    [
        ({"kind": "bank", "iban": "PK36SCBL0000001123456703", "account_title": "B"}, "bad_account"),
        ({"kind": "jazzcash", "wallet_number": "0300-12345", "account_title": "B"}, "bad_account"),
        ({"kind": "easypaisa", "wallet_number": "0300-1234567", "account_title": " "}, "no_title"),
        ({"kind": "stripe", "account_title": "B"}, "bad_kind"),
    ],
    ids=["iban-check-digits", "short-wallet", "no-title", "not-a-refund-rail"],
)
def test_the_buyers_account_is_checked_like_a_payout_method(courier, seller, buyer, account, code):
    refund = accepted(delivered_cod(courier, seller, buyer), buyer, seller)

    with pytest.raises(PaymentRejected) as refused:
        manual_refunds.give_refund_account(refund=refund, by=buyer, **account)

    assert refused.value.code == code
    refund.refresh_from_db()
    assert refund.payee_kind == "" and refund.needs_payee


def test_only_the_buyer_gives_the_account_and_only_while_it_is_needed(
    courier, seller, buyer, outsider
):
    refund = accepted(delivered_cod(courier, seller, buyer), buyer, seller)
    for who in (seller, outsider):
        with pytest.raises(PaymentRejected, match="Only the buyer"):
            give_bank(refund, who)

    refund = give_bank(refund, buyer)

    assert (refund.payee_kind, refund.payee_iban, refund.payee_title) == (
        "bank",
        VALID_IBAN,
        "Bilal Ahmed",
    )
    assert refund.order.events.filter(kind=OrderEvent.Kind.REFUND_ACCOUNT).count() == 1
    with pytest.raises(PaymentRejected) as again:
        manual_refunds.give_refund_account(
            refund=refund, by=buyer, kind="jazzcash", wallet_number="03001234567", account_title="B"
        )
    assert again.value.code == "payee_given"


def test_staff_mark_it_sent_and_the_buyer_hears_in_their_language(courier, seller, buyer):
    buyer.language = "ur"
    buyer.save(update_fields=["language"])
    order = delivered_cod(courier, seller, buyer)
    remittance.reconcile_report()
    staff = staff_user()
    refund = give_bank(accepted(order, buyer, seller), buyer)
    assert Notification.objects.filter(user=staff, kind=Notification.Kind.REFUND_UPDATED).exists()
    with pytest.raises(PaymentRejected, match="Only staff"):
        manual_refunds.mark_refund_sent(refund=refund, by=seller, reference="IBFT-1")
    with pytest.raises(PaymentRejected, match="reference"):
        manual_refunds.mark_refund_sent(refund=refund, by=staff, reference="  ")

    refund = manual_refunds.mark_refund_sent(refund=refund, by=staff, reference="IBFT 778899")

    assert (refund.status, refund.stripe_refund_id, refund.settled_by) == (
        Refund.Status.SUCCEEDED,
        "IBFT 778899",
        staff,
    )
    order.refresh_from_db()
    assert order.status == Order.Status.REFUNDED
    assert list(order.events.values_list("kind", flat=True))[-1] == OrderEvent.Kind.REFUNDED
    sent = Notification.objects.get(user=buyer, dedupe_key=f"refund:{refund.pk}:sent")
    assert "IBFT 778899" in sent.body and "•••• 6702" in sent.body
    with override("en"):
        assert sent.display_title == "Refund of Rs 2,500 sent"
    with override("ur"):
        assert "Refund of" not in sent.display_title
    # Marked again (a double click): nothing changes, nobody is told twice.
    again = manual_refunds.mark_refund_sent(refund=refund, by=staff, reference="IBFT 778899")
    assert again.status == Refund.Status.SUCCEEDED
    assert Notification.objects.filter(user=buyer, dedupe_key__endswith=":sent").count() == 1
    with pytest.raises(PaymentRejected):
        manual_refunds.mark_refund_failed(refund=refund, by=staff, reason="Oops")
    assert entries(order)[Kind.REFUND] == Decimal("-2500.00")  # the ledger moved once only
    assert reconciliation.reconcile() == []


def test_a_failed_refund_asks_the_buyer_again_and_is_then_sent(courier, seller, buyer):
    order = delivered_cod(courier, seller, buyer)
    refund = give_bank(accepted(order, buyer, seller), buyer)
    staff = staff_user()
    with pytest.raises(PaymentRejected, match="Say why"):
        manual_refunds.mark_refund_failed(refund=refund, by=staff, reason="")

    refund = manual_refunds.mark_refund_failed(refund=refund, by=staff, reason="Title mismatch")

    assert (refund.status, refund.last_error) == (Refund.Status.FAILED, "Title mismatch")
    assert refund.needs_payee
    failed = Notification.objects.get(
        user=buyer, dedupe_key__startswith=f"refund:{refund.pk}:failed"
    )
    assert "Title mismatch" in failed.body
    with pytest.raises(PaymentRejected, match="no account"):
        manual_refunds.mark_refund_sent(refund=refund, by=staff, reference="IBFT-2")
    assert refunds.resend_failed_refunds() == 0  # staff send it, not the job
    refund = manual_refunds.give_refund_account(
        refund=refund, by=buyer, kind="jazzcash", wallet_number="0300-1234567", account_title="B"
    )
    assert (refund.status, refund.payee_wallet, refund.last_error) == (
        Refund.Status.PENDING,
        "03001234567",
        "",
    )
    refund = manual_refunds.mark_refund_sent(refund=refund, by=staff, reference="JC-55")
    assert refund.status == Refund.Status.SUCCEEDED
    order.refresh_from_db()
    assert order.status == Order.Status.REFUNDED


def test_accepting_again_or_refunding_again_writes_one_refund_and_one_reversal(
    courier, seller, buyer
):
    order = delivered_cod(courier, seller, buyer)
    remittance.reconcile_report()
    request = returns.open_return(order=order, by=buyer, **ASK)
    returns.accept_return(request=request, by=seller)

    with pytest.raises(ReturnActionRefused):
        returns.accept_return(request=request, by=seller)
    again = refunds.refund_in_full(order=order, requested_by=staff_user(), reason="Again")

    assert Refund.objects.count() == 1 and again.status == Refund.Status.PENDING
    assert LedgerEntry.objects.filter(order=order, kind=Kind.REFUND).count() == 1
    assert entries(order)[Kind.REFUND] == Decimal("-2500.00")


def test_a_cod_order_sent_by_the_sellers_own_courier_is_refunded_from_their_balance(seller, buyer):
    order = cod_order(seller, buyer)
    fulfilment.mark_shipped(order=order, by=seller, courier="Own rider", tracking_number="R-1")
    fulfilment.confirm_delivery(order=Order.objects.get(pk=order.pk), by=buyer)
    order = Order.objects.select_related("checkout").get(pk=order.pk)

    refund = accepted(order, buyer, seller)

    assert refund.provider == Refund.MANUAL
    # The seller's rider took the cash: the seller owes it back.
    assert entries(order) == {Kind.REFUND: Decimal("-2500.00")}
    assert ledger.balances(seller).available == Decimal("-2500.00")
    assert reconciliation.reconcile() == []


def test_reconciliation_finds_a_cod_refund_the_ledger_missed(courier, seller, buyer):
    order = delivered_cod(courier, seller, buyer)
    remittance.reconcile_report()
    assert reconciliation.reconcile() == []
    # Written around refund_in_full: the buyer is owed the cash, the seller still credited.
    Refund.objects.create(
        order=order, provider=Refund.MANUAL, amount=order.total, idempotency_key="stray"
    )

    (mismatch,) = reconciliation.reconcile()

    assert (mismatch.provider, mismatch.expected, mismatch.actual) == (
        "cod",
        Decimal("2500.00"),
        Decimal("5000.00"),
    )


def test_staff_refund_a_prepaid_parcel_returned_to_the_seller(seller, buyer, provider_refunds):
    # RETURNED -> REFUNDED is the prepaid buyer's way back (refund_in_full used to refuse it).
    order = sold(seller, buyer)
    Order.objects.filter(pk=order.pk).update(status=Order.Status.RETURNED)

    refund = refunds.refund_order(order=order, by_staff=staff_user())

    assert (refund.provider, refund.status) == ("stripe", Refund.Status.SUCCEEDED)
    assert provider_refunds == [f"refund-{order.number}"]
    assert Order.objects.get(pk=order.pk).status == Order.Status.REFUNDED
    assert entries(order)[Kind.REFUND] == Decimal("-2500.00")
