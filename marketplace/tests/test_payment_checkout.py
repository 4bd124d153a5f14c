"""Paying a checkout: the Pay button, the hosted page, fulfilment, and what cannot be paid."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from marketplace.exceptions import PaymentRejected
from marketplace.models import (
    City,
    LedgerEntry,
    Order,
    Payment,
    PaymentAttempt,
    Refund,
    SellerTransfer,
)
from marketplace.services import ledger, refunds
from marketplace.services import payments as payment_services
from marketplace.services.cancellation import cancel_order
from marketplace.tests.factories.accounts import SellerFactory, lose_payouts
from marketplace.tests.factories.orders import address_of, listing_by, order_for
from marketplace.tests.factories.payments import ready_to_be_paid, won_auction_order
from marketplace.tests.payments_fixtures import (
    objects,
    onboard,
    pay_and_deliver,
    start_paying,
)
from marketplace.tests.stripe_support import control

pytestmark = pytest.mark.django_db


@pytest.fixture
def paid_setup(emulator, seller, buyer, client):
    onboard(emulator, seller)
    order = order_for(buyer, listing_by(seller, price="2500.00"))
    client.force_login(buyer)
    return order


def test_pay_redirects_to_the_hosted_page_for_the_amount_due(emulator, paid_setup, client):
    order = paid_setup

    response = client.post(reverse("checkout_pay", args=[order.checkout.number]))

    assert response.status_code == 302
    assert response["Location"].startswith(f"{emulator}/c/pay/cs_test_")
    [session] = objects(emulator, "checkout.session")
    assert session["amount_total"] == 250000
    assert session["client_reference_id"] == order.checkout.number
    assert session["success_url"].endswith(
        f"/checkouts/{order.checkout.number}/paid/?session_id={{CHECKOUT_SESSION_ID}}"
    )


def test_pay_with_htmx_redirects_the_browser_to_the_hosted_page(emulator, paid_setup, client):
    response = client.post(
        reverse("checkout_pay", args=[paid_setup.checkout.number]), HTTP_HX_REQUEST="true"
    )

    assert response.status_code == 200
    assert response["HX-Redirect"].startswith(f"{emulator}/c/pay/")


def test_paying_again_expires_the_previous_page_so_only_one_can_be_paid(
    emulator, paid_setup, client
):
    first = start_paying(client, paid_setup.checkout)
    second = start_paying(client, paid_setup.checkout)

    sessions = {s["id"]: s["status"] for s in objects(emulator, "checkout.session")}
    assert sessions == {first: "expired", second: "open"}
    attempts = PaymentAttempt.objects.order_by("number")
    assert [(a.number, a.status) for a in attempts] == [(1, "expired"), (2, "open")]
    with pytest.raises(AssertionError):
        control(emulator, f"sessions/{first}/pay")


def test_completed_payment_marks_the_order_paid_and_holds_the_sellers_share(
    emulator, receiver, paid_setup, client
):
    session_id = start_paying(client, paid_setup.checkout)

    response = pay_and_deliver(client, emulator, receiver, session_id)

    assert response.status_code == 200
    order = Order.objects.get(pk=paid_setup.pk)
    assert order.status == Order.Status.PAID and order.paid_at is not None
    payment = Payment.objects.get()
    assert (payment.amount, payment.platform_fee, payment.status) == (
        Decimal("2500.00"),
        Decimal("50.00"),
        Payment.Status.PAID,
    )
    assert payment.charge_id.startswith("ch_") and payment.payment_intent_id.startswith("pi_")
    # Issue 14: no transfer at payment; the sale is pending in the seller's ledger.
    assert not SellerTransfer.objects.exists()
    assert objects(emulator, "transfer") == []
    entries = {e.kind: e for e in LedgerEntry.objects.filter(order=order)}
    assert set(entries) == {LedgerEntry.Kind.SALE, LedgerEntry.Kind.FEE}
    assert entries[LedgerEntry.Kind.SALE].key == f"sale:order:{order.pk}"
    assert entries[LedgerEntry.Kind.SALE].payment == payment
    assert ledger.balances(order.seller).pending == Decimal("2450.00")
    assert ledger.balances(order.seller).available == Decimal("0.00")


def test_fulfilling_twice_changes_nothing(emulator, receiver, paid_setup, client):
    session_id = start_paying(client, paid_setup.checkout)
    control(emulator, f"sessions/{session_id}/pay")

    first = payment_services.fulfil_checkout(session_id=session_id)
    second = payment_services.fulfil_checkout(session_id=session_id)

    assert first == second
    assert Payment.objects.count() == 1
    assert LedgerEntry.objects.count() == 2  # one sale, one fee


def test_an_unpaid_session_fulfils_nothing(emulator, paid_setup, client):
    session_id = start_paying(client, paid_setup.checkout)

    assert payment_services.fulfil_checkout(session_id=session_id) is None
    assert Order.objects.get(pk=paid_setup.pk).status == Order.Status.AWAITING_PAYMENT


def test_a_paid_checkout_cannot_be_paid_again(emulator, receiver, paid_setup, client):
    session_id = start_paying(client, paid_setup.checkout)
    pay_and_deliver(client, emulator, receiver, session_id)

    response = client.post(reverse("checkout_pay", args=[paid_setup.checkout.number]), follow=True)

    assert "nothing left to pay" in response.content.decode()
    assert len(objects(emulator, "checkout.session")) == 1


def test_a_payment_landing_after_the_order_was_cancelled_is_refunded(
    emulator, receiver, paid_setup, client, buyer
):
    session_id = start_paying(client, paid_setup.checkout)
    cancel_order(order=paid_setup, by=buyer, reason="changed my mind")
    control(emulator, f"sessions/{session_id}/pay")

    payment = payment_services.fulfil_checkout(session_id=session_id)
    refunds.send_refund(Refund.objects.get().pk)

    assert Order.objects.get(pk=paid_setup.pk).status == Order.Status.CANCELLED
    payment.refresh_from_db()
    assert payment.status == Payment.Status.UNMATCHED
    assert payment.refunded_amount == Decimal("2500.00")
    assert SellerTransfer.objects.count() == 0
    [charge] = objects(emulator, "charge")
    assert charge["refunded"] is True


def test_an_order_past_its_deadline_cannot_be_paid(emulator, paid_setup, client):
    Order.objects.filter(pk=paid_setup.pk).update(
        payment_deadline=timezone.now() - timedelta(minutes=1)
    )

    response = client.post(reverse("checkout_pay", args=[paid_setup.checkout.number]), follow=True)

    assert "time to pay for order" in response.content.decode()
    assert objects(emulator, "checkout.session") == []


def test_a_cancelled_order_cannot_be_paid(emulator, paid_setup, client, buyer):
    cancel_order(order=paid_setup, by=buyer, reason="")

    with pytest.raises(PaymentRejected) as caught:
        payment_services.start_checkout_payment(
            checkout=paid_setup.checkout, buyer=buyer, success_url="http://x/", cancel_url="x"
        )

    assert caught.value.code == "nothing_due"


def test_someone_else_cannot_start_paying_a_checkout(emulator, paid_setup, outsider):
    with pytest.raises(PaymentRejected) as caught:
        payment_services.start_checkout_payment(
            checkout=paid_setup.checkout, buyer=outsider, success_url="http://x/", cancel_url="x"
        )
    assert caught.value.code == "not_buyer"


def test_an_amount_above_the_providers_limit_is_refused(seller, buyer):
    ready_to_be_paid(seller)
    order = order_for(buyer, listing_by(seller, price="1000000.00"))

    with pytest.raises(PaymentRejected) as caught:
        payment_services.start_checkout_payment(
            checkout=order.checkout, buyer=buyer, success_url="http://x/", cancel_url="x"
        )

    assert caught.value.code == "amount_too_large"


def test_buyers_see_seller_not_ready_instead_of_a_pay_button(client, seller, buyer):
    order = order_for(buyer, listing_by(seller))
    lose_payouts(seller)
    client.force_login(buyer)

    for name, arg in [("checkout_detail", order.checkout.number), ("order_detail", order.number)]:
        page = client.get(reverse(name, args=[arg])).content.decode()
        assert "not ready for payment yet" in page
        assert 'id="pay-button"' not in page


def test_a_multi_seller_checkout_waits_for_every_seller(client, seller, buyer):
    other = SellerFactory(username="zainab")
    ready_to_be_paid(seller)
    from marketplace.services.orders import place_checkout

    checkout = place_checkout(
        buyer=buyer,
        lines=[(listing_by(seller), 1), (listing_by(other), 1)],
        address=address_of(buyer),
    )
    lose_payouts(other)
    client.force_login(buyer)

    page = client.get(reverse("checkout_detail", args=[checkout.number])).content.decode()

    assert "is not ready for payment yet" in page
    assert 'id="pay-button"' not in page


def test_the_seller_sees_how_to_get_paid_on_their_sales_page(seller, seller_client):
    lose_payouts(seller)
    page = seller_client.get(reverse("sale_list")).content.decode()

    assert 'id="payouts-notice"' in page
    assert reverse("payouts_setup") in page


def test_a_ready_seller_sees_no_payouts_notice(seller, seller_client):
    ready_to_be_paid(seller)

    page = seller_client.get(reverse("sale_list")).content.decode()

    assert 'id="payouts-notice"' not in page


# --- Won auctions need an address first --------------------------------------------------------
def test_a_won_auction_asks_for_the_address_before_pay(client, seller, buyer):
    ready_to_be_paid(seller)
    order = won_auction_order(seller, buyer)
    address_of(buyer)
    client.force_login(buyer)

    page = client.get(reverse("checkout_detail", args=[order.checkout.number])).content.decode()

    assert 'id="checkout-address"' in page
    assert 'id="pay-button"' not in page


def test_choosing_the_address_snapshots_it_and_shows_pay(client, seller, buyer):
    ready_to_be_paid(seller)
    order = won_auction_order(seller, buyer)
    address = address_of(buyer, line1="7 Gulberg Road")
    client.force_login(buyer)

    response = client.post(
        reverse("checkout_address", args=[order.checkout.number]),
        {"address": address.pk},
        follow=True,
    )

    order.refresh_from_db()
    assert (order.ship_line1, order.ship_city) == ("7 Gulberg Road", "Lahore")
    assert 'id="pay-button"' in response.content.decode()


def test_an_address_added_from_the_checkout_is_chosen_and_pay_shows_at_once(client, seller, buyer):
    ready_to_be_paid(seller)
    order = won_auction_order(seller, buyer)
    client.force_login(buyer)
    checkout_url = reverse("checkout_detail", args=[order.checkout.number])
    page = client.get(checkout_url).content.decode()
    add_url = f"{reverse('address_create')}?checkout={order.checkout.number}&amp;next="
    assert add_url in page

    form = client.get(reverse("address_create"), {"checkout": order.checkout.number})
    assert f'name="checkout" value="{order.checkout.number}"' in form.content.decode()
    response = client.post(
        reverse("address_create"),
        {
            "checkout": order.checkout.number,
            "next": checkout_url,
            "full_name": "Bilal Ahmed",
            "phone": "0300-1234567",
            "line1": "7 Gulberg Road",
            "city": City.objects.get(name="Lahore").pk,
        },
        follow=True,
    )

    order.refresh_from_db()
    assert order.ship_line1 == "7 Gulberg Road"
    page = response.content.decode()
    assert 'id="pay-button"' in page
    assert 'id="checkout-address"' not in page


def test_an_address_added_for_someone_elses_checkout_chooses_nothing(
    client, seller, buyer, outsider
):
    order = won_auction_order(seller, buyer)
    client.force_login(outsider)

    client.post(
        reverse("address_create"),
        {
            "checkout": order.checkout.number,
            "full_name": "Omar",
            "phone": "0300-1234567",
            "line1": "1 Other Street",
            "city": City.objects.get(name="Lahore").pk,
        },
    )

    order.refresh_from_db()
    assert not order.has_shipping_address


def test_someone_elses_address_cannot_be_chosen(client, seller, buyer, outsider):
    order = won_auction_order(seller, buyer)
    theirs = address_of(outsider)
    client.force_login(buyer)

    response = client.post(
        reverse("checkout_address", args=[order.checkout.number]),
        {"address": theirs.pk},
        follow=True,
    )

    assert "Choose one of your addresses" in response.content.decode()
    order.refresh_from_db()
    assert not order.has_shipping_address


@pytest.mark.parametrize("value", ["", "abc", "99999999999999999999999", "-1"])
def test_garbage_addresses_are_refused_with_a_message(client, seller, buyer, value):
    order = won_auction_order(seller, buyer)
    client.force_login(buyer)

    response = client.post(
        reverse("checkout_address", args=[order.checkout.number]), {"address": value}, follow=True
    )

    assert response.status_code == 200
    assert "Choose one of your addresses" in response.content.decode()


def test_paying_an_auction_order_without_an_address_is_refused(seller, buyer):
    ready_to_be_paid(seller)
    order = won_auction_order(seller, buyer)

    with pytest.raises(PaymentRejected) as caught:
        payment_services.start_checkout_payment(
            checkout=order.checkout, buyer=buyer, success_url="http://x/", cancel_url="x"
        )

    assert caught.value.code == "address_missing"


# --- Success and cancel pages -------------------------------------------------------------------
def test_the_success_page_only_says_confirming_until_the_webhook_lands(
    emulator, receiver, paid_setup, client
):
    session_id = start_paying(client, paid_setup.checkout)
    control(emulator, f"sessions/{session_id}/pay")
    url = reverse("checkout_success", args=[paid_setup.checkout.number])

    page = client.get(url, {"session_id": session_id}).content.decode()

    assert "Confirming payment" in page
    assert 'hx-trigger="every 2s"' in page
    assert Order.objects.get(pk=paid_setup.pk).status == Order.Status.AWAITING_PAYMENT


def test_the_success_partial_shows_the_payment_once_confirmed(
    emulator, receiver, paid_setup, client
):
    session_id = start_paying(client, paid_setup.checkout)
    pay_and_deliver(client, emulator, receiver, session_id)
    url = reverse("checkout_success", args=[paid_setup.checkout.number])

    response = client.get(url, {"session_id": session_id}, HTTP_HX_REQUEST="true")

    page = response.content.decode()
    assert page.lstrip().startswith('<section id="payment-status"')
    assert "Payment received" in page
    assert "hx-trigger" not in page


def test_the_success_page_of_someone_elses_checkout_is_not_found(
    emulator, paid_setup, client, outsider
):
    client.force_login(outsider)

    response = client.get(reverse("checkout_success", args=[paid_setup.checkout.number]))

    assert response.status_code == 404


def test_the_success_page_with_an_unknown_session_does_not_poll(emulator, paid_setup, client):
    url = reverse("checkout_success", args=[paid_setup.checkout.number])

    page = client.get(url, {"session_id": "cs_test_forged"}).content.decode()

    assert "could not find this payment" in page
    assert "hx-trigger" not in page


def test_cancelling_on_the_hosted_page_comes_back_to_the_checkout(emulator, paid_setup, client):
    response = client.get(
        reverse("checkout_cancelled", args=[paid_setup.checkout.number]), follow=True
    )

    assert "nothing was charged" in response.content.decode()
    assert response.redirect_chain[-1][0] == reverse(
        "checkout_detail", args=[paid_setup.checkout.number]
    )


def test_the_success_page_says_refunded_when_the_payment_came_too_late(
    emulator, receiver, paid_setup, client, buyer
):
    session_id = start_paying(client, paid_setup.checkout)
    cancel_order(order=paid_setup, by=buyer, reason="")
    pay_and_deliver(client, emulator, receiver, session_id)

    page = client.get(
        reverse("checkout_success", args=[paid_setup.checkout.number]), {"session_id": session_id}
    ).content.decode()

    assert "being refunded" in page
    assert "Payment received" not in page
