"""Paying sellers of orders paid before the ledger and refunding buyers: every transfer sent
exactly once, failures retried and shown to staff, refunds from the admin reversing what was
already sent."""

from decimal import Decimal

import pytest
from django.urls import reverse

from marketplace.exceptions import PaymentRejected
from marketplace.models import Order, Payment, Refund, SellerTransfer
from marketplace.services import refunds
from marketplace.tasks import send_pending_transfers
from marketplace.tests.factories.accounts import SellerFactory, UserFactory
from marketplace.tests.factories.orders import address_of, listing_by
from marketplace.tests.payments_fixtures import (
    objects,
    onboard,
    paid_before_the_ledger,  # noqa: F401 (fixture)
    pay_and_deliver,
    start_paying,
)
from marketplace.tests.stripe_support import control

# Orders paid before the seller ledger (issue 14 phase 2) keep their immediate transfers: the
# job, reversals and refunds still handle those rows. New payments: test_ledger_payments.py.
pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("paid_before_the_ledger")]


@pytest.fixture
def paid_checkout(emulator, receiver, seller, buyer, client):
    """Bilal paid one checkout with an order from Amina (Rs 2,500) and one from Zainab
    (Rs 18,999.99); both sellers onboarded."""
    from marketplace.services.orders import place_checkout

    other = SellerFactory(username="zainab", seller_profile__shop_name="Zainab Rugs")
    onboard(emulator, seller)
    onboard(emulator, other)
    checkout = place_checkout(
        buyer=buyer,
        lines=[(listing_by(seller, price="2500.00"), 1), (listing_by(other, price="18999.99"), 1)],
        address=address_of(buyer),
    )
    client.force_login(buyer)
    pay_and_deliver(client, emulator, receiver, start_paying(client, checkout))
    return checkout


def test_each_seller_is_sent_their_share_once(emulator, paid_checkout):
    counts = send_pending_transfers()

    assert counts["sent"] == 2
    transfers = {t["destination"]: t for t in objects(emulator, "transfer")}
    for row in SellerTransfer.objects.select_related("order__seller__connected_account"):
        assert row.status == SellerTransfer.Status.SENT
        sent = transfers[row.order.seller.connected_account.stripe_account_id]
        assert sent["id"] == row.stripe_transfer_id
        assert Decimal(sent["amount"]) / 100 == row.amount
        assert sent["transfer_group"] == paid_checkout.number
    assert sorted(t.amount for t in SellerTransfer.objects.all()) == [
        Decimal("2450.00"),
        Decimal("18619.99"),
    ]
    assert Payment.objects.get().platform_fee == Decimal("430.00")


def test_running_the_job_twice_sends_nothing_twice(emulator, paid_checkout):
    send_pending_transfers()
    again = send_pending_transfers()

    assert again["sent"] == 0
    assert len(objects(emulator, "transfer")) == 2


def test_a_failed_transfer_is_recorded_then_sent_by_the_retry(emulator, paid_checkout, seller):
    account = seller.connected_account
    control(emulator, f"accounts/{account.stripe_account_id}/disable")  # Stripe side only

    first = send_pending_transfers()

    failed = SellerTransfer.objects.get(order__seller=seller)
    assert first == {"sent": 1, "failed": 1, "refunds": 0}
    assert (failed.status, failed.attempts) == (SellerTransfer.Status.FAILED, 1)
    assert "capabilit" in failed.last_error

    control(emulator, f"accounts/{account.stripe_account_id}/enable")
    second = send_pending_transfers()

    failed.refresh_from_db()
    assert second["sent"] == 1
    assert (failed.status, failed.attempts, failed.last_error) == ("sent", 2, "")
    assert len(objects(emulator, "transfer")) == 2


def test_a_seller_not_ready_is_not_sent_anything_until_ready(emulator, paid_checkout, seller):
    seller.connected_account.__class__.objects.filter(user=seller).update(payouts_enabled=False)

    counts = send_pending_transfers()

    assert counts["sent"] == 1
    assert SellerTransfer.objects.get(order__seller=seller).status == "pending"


def test_a_transfer_sent_but_not_recorded_is_not_sent_again_on_retry(emulator, paid_checkout):
    # The provider accepted the transfer but our process died before saving: the retry
    # reuses the idempotency key and gets the same transfer back.
    from marketplace import payments

    row = SellerTransfer.objects.order_by("pk").first()
    payments.create_transfer(
        amount=row.amount,
        destination=row.order.seller.connected_account.stripe_account_id,
        source_transaction=row.payment.charge_id,
        transfer_group=paid_checkout.number,
        idempotency_key=row.idempotency_key,
        metadata={"order": row.order.number},
    )

    send_pending_transfers()

    assert len(objects(emulator, "transfer")) == 2


def test_staff_refund_of_an_order_not_yet_transferred_cancels_the_transfer(
    emulator, paid_checkout, seller
):
    staff = UserFactory(username="staff", is_staff=True)
    order = Order.objects.get(checkout=paid_checkout, seller=seller)

    refund = refunds.refund_order(order=order, by_staff=staff)

    assert refund.status == Refund.Status.SUCCEEDED
    assert refund.amount == Decimal("2500.00")
    order.refresh_from_db()
    assert order.status == Order.Status.REFUNDED
    assert SellerTransfer.objects.get(order=order).status == SellerTransfer.Status.CANCELLED
    send_pending_transfers()
    assert len(objects(emulator, "transfer")) == 1  # only the other seller's
    payment = Payment.objects.get()
    assert (payment.refunded_amount, payment.status) == (Decimal("2500.00"), "partially_refunded")


def test_staff_refund_after_the_transfer_reverses_it(emulator, paid_checkout, seller):
    staff = UserFactory(username="staff", is_staff=True)
    send_pending_transfers()
    order = Order.objects.get(checkout=paid_checkout, seller=seller)

    refunds.refund_order(order=order, by_staff=staff)

    transfer = SellerTransfer.objects.get(order=order)
    assert transfer.status == SellerTransfer.Status.REVERSED
    [reversed_transfer] = [t for t in objects(emulator, "transfer") if t["reversed"]]
    assert reversed_transfer["id"] == transfer.stripe_transfer_id
    [charge] = objects(emulator, "charge")
    assert charge["amount_refunded"] == 250000


def test_refunding_twice_refunds_once(emulator, paid_checkout, seller):
    staff = UserFactory(username="staff", is_staff=True)
    order = Order.objects.get(checkout=paid_checkout, seller=seller)

    refunds.refund_order(order=order, by_staff=staff)
    refunds.refund_order(order=order, by_staff=staff)

    assert len(objects(emulator, "refund")) == 1
    assert Refund.objects.count() == 1


def test_an_unpaid_order_cannot_be_refunded(seller, buyer):
    from marketplace.tests.factories.orders import order_for

    staff = UserFactory(username="staff", is_staff=True)
    order = order_for(buyer, listing_by(seller))

    with pytest.raises(PaymentRejected):
        refunds.refund_order(order=order, by_staff=staff)


def test_only_staff_can_refund(emulator, paid_checkout, buyer):
    order = Order.objects.filter(checkout=paid_checkout).first()

    with pytest.raises(PaymentRejected):
        refunds.refund_order(order=order, by_staff=buyer)


def test_the_admin_refund_action_refunds_the_selected_orders(
    emulator, paid_checkout, seller, client
):
    staff = UserFactory(username="staff", is_staff=True, is_superuser=True)
    order = Order.objects.get(checkout=paid_checkout, seller=seller)
    client.force_login(staff)

    response = client.post(
        reverse("admin:marketplace_order_changelist"),
        {"action": "refund_paid_orders", "_selected_action": [order.pk]},
        follow=True,
    )

    assert "1 order(s) refunded" in response.content.decode()
    assert Order.objects.get(pk=order.pk).status == Order.Status.REFUNDED


def test_the_admin_lists_failed_transfers_and_retries_them(emulator, paid_checkout, seller, client):
    staff = UserFactory(username="staff", is_staff=True, is_superuser=True)
    account = seller.connected_account
    control(emulator, f"accounts/{account.stripe_account_id}/disable")
    send_pending_transfers()
    control(emulator, f"accounts/{account.stripe_account_id}/enable")
    client.force_login(staff)
    changelist = reverse("admin:marketplace_sellertransfer_changelist")

    page = client.get(changelist, {"status__exact": "failed"}).content.decode()
    failed = SellerTransfer.objects.get(status="failed")
    assert failed.idempotency_key in page

    response = client.post(
        changelist, {"action": "retry_transfers", "_selected_action": [failed.pk]}, follow=True
    )

    assert "1 transfer(s) sent" in response.content.decode()
    failed.refresh_from_db()
    assert failed.status == SellerTransfer.Status.SENT


@pytest.mark.parametrize(
    "model",
    [
        "payment",
        "sellertransfer",
        "stripeevent",
        "connectedaccount",
        "refund",
        "paymentviolation",
        "secondchanceoffer",
        "paymentattempt",
    ],
)
def test_payment_admin_pages_render(emulator, paid_checkout, client, model):
    staff = UserFactory(username="staff", is_staff=True, is_superuser=True)
    client.force_login(staff)

    response = client.get(reverse(f"admin:marketplace_{model}_changelist"))

    assert response.status_code == 200


def test_the_seller_sees_the_payment_fee_and_transfer_on_the_order(
    emulator, paid_checkout, seller, client
):
    send_pending_transfers()
    order = Order.objects.get(checkout=paid_checkout, seller=seller)
    client.force_login(seller)

    page = client.get(reverse("order_detail", args=[order.number])).content.decode()

    assert 'id="seller-payment"' in page
    assert "Rs 50" in page and "Rs 2,450" in page
    assert "Sent" in page


def test_the_buyer_does_not_see_the_sellers_share(emulator, paid_checkout, seller, client):
    order = Order.objects.get(checkout=paid_checkout, seller=seller)

    page = client.get(reverse("order_detail", args=[order.number])).content.decode()

    assert 'id="seller-payment"' not in page


def test_a_failed_reversal_refunds_nothing(emulator, paid_checkout, seller, monkeypatch):
    from marketplace import payments
    from marketplace.exceptions import PaymentProviderError

    staff = UserFactory(username="staff", is_staff=True)
    send_pending_transfers()
    order = Order.objects.get(checkout=paid_checkout, seller=seller)

    def refuse(**kwargs):
        raise PaymentProviderError("refused", detail="insufficient funds")

    monkeypatch.setattr(payments, "reverse_transfer", refuse)

    with pytest.raises(PaymentProviderError):
        refunds.refund_order(order=order, by_staff=staff)

    assert objects(emulator, "refund") == []
    refund = Refund.objects.get()
    assert (refund.status, refund.last_error) == (Refund.Status.FAILED, "insufficient funds")
    assert Order.objects.get(pk=order.pk).status == Order.Status.PAID
    assert SellerTransfer.objects.get(order=order).status == SellerTransfer.Status.SENT


def test_the_retry_reverses_the_transfer_then_refunds(emulator, paid_checkout, seller, monkeypatch):
    from marketplace import payments
    from marketplace.exceptions import PaymentProviderError

    staff = UserFactory(username="staff", is_staff=True)
    send_pending_transfers()
    order = Order.objects.get(checkout=paid_checkout, seller=seller)
    with monkeypatch.context() as patched:
        patched.setattr(
            payments,
            "reverse_transfer",
            lambda **kw: (_ for _ in ()).throw(PaymentProviderError("x")),
        )
        with pytest.raises(PaymentProviderError):
            refunds.refund_order(order=order, by_staff=staff)

    counts = send_pending_transfers()

    assert counts["refunds"] == 1
    assert SellerTransfer.objects.get(order=order).status == SellerTransfer.Status.REVERSED
    assert len(objects(emulator, "refund")) == 1
    assert Order.objects.get(pk=order.pk).status == Order.Status.REFUNDED


def test_an_order_refunded_from_the_dashboard_is_not_refunded_again(
    emulator, receiver, paid_checkout, client
):
    from marketplace import payments
    from marketplace.tests.payments_fixtures import deliver

    staff = UserFactory(username="staff", is_staff=True)
    payment = Payment.objects.get()
    payments.create_refund(charge_or_intent=payment.charge_id, amount=None, idempotency_key="d")
    deliver(client, *receiver.wait_for("charge.refunded"))
    order = Order.objects.filter(checkout=paid_checkout).first()

    with pytest.raises(PaymentRejected):
        refunds.refund_order(order=order, by_staff=staff)
    assert len(objects(emulator, "refund")) == 1


def test_staff_who_may_only_look_cannot_retry_transfers(emulator, paid_checkout, client):
    from django.contrib.auth.models import Permission

    viewer = UserFactory(username="viewer", is_staff=True)
    viewer.user_permissions.add(Permission.objects.get(codename="view_sellertransfer"))
    client.force_login(viewer)
    changelist = reverse("admin:marketplace_sellertransfer_changelist")

    page = client.get(changelist).content.decode()
    client.post(
        changelist,
        {"action": "retry_transfers", "_selected_action": [SellerTransfer.objects.first().pk]},
    )

    assert "retry_transfers" not in page
    assert objects(emulator, "transfer") == []
