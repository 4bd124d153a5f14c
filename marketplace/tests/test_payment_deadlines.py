"""The payment deadline job and second-chance offers."""

import threading
from datetime import timedelta
from decimal import Decimal

import pytest
from django.db import connections
from django.urls import reverse
from django.utils import timezone

from marketplace import tasks
from marketplace.exceptions import PaymentRejected, PurchaseRejected
from marketplace.models import (
    FixedPriceListing,
    Order,
    PaymentViolation,
    SecondChanceOffer,
)
from marketplace.services import deadlines
from marketplace.tests.factories.accounts import SellerFactory, UserFactory
from marketplace.tests.factories.orders import listing_by, order_for
from marketplace.tests.factories.payments import won_auction_order


def overdue(order: Order) -> Order:
    Order.objects.filter(pk=order.pk).update(payment_deadline=timezone.now() - timedelta(minutes=1))
    return order


def past_its_time(offer: SecondChanceOffer) -> None:
    now = timezone.now()
    SecondChanceOffer.objects.filter(pk=offer.pk).update(
        created_at=now - timedelta(hours=49), expires_at=now - timedelta(hours=1)
    )


def status_of(order: Order) -> str:
    return Order.objects.get(pk=order.pk).status


# --- Won auctions not paid ----------------------------------------------------------------------
@pytest.mark.django_db
def test_an_unpaid_won_auction_is_cancelled_with_a_violation(seller, buyer):
    order = won_auction_order(seller, buyer, overdue=True)

    counts = tasks.check_payment_deadlines()

    assert counts["cancelled"] == 1 and counts["violations"] == 1
    assert status_of(order) == Order.Status.CANCELLED
    violation = PaymentViolation.objects.get()
    assert (violation.buyer, violation.order) == (buyer, order)


@pytest.mark.django_db
def test_running_the_job_twice_records_the_violation_once(seller, buyer):
    won_auction_order(seller, buyer, overdue=True)

    tasks.check_payment_deadlines()
    again = tasks.check_payment_deadlines()

    assert again["cancelled"] == 0
    assert PaymentViolation.objects.count() == 1


@pytest.mark.django_db
def test_no_violation_when_the_seller_could_not_be_paid(seller, buyer):
    order = won_auction_order(seller, buyer, overdue=True, seller_ready=False)

    tasks.check_payment_deadlines()

    assert status_of(order) == Order.Status.CANCELLED
    assert not PaymentViolation.objects.exists()


@pytest.mark.django_db
def test_orders_not_yet_due_or_paid_are_left_alone(seller, buyer):
    pending = won_auction_order(seller, buyer)
    paid = won_auction_order(seller, buyer, overdue=True)
    Order.objects.filter(pk=paid.pk).update(status=Order.Status.PAID)

    tasks.check_payment_deadlines()

    assert status_of(pending) == Order.Status.AWAITING_PAYMENT
    assert status_of(paid) == Order.Status.PAID
    assert not PaymentViolation.objects.exists()


@pytest.mark.django_db
def test_the_buyer_is_blocked_at_the_third_violation(seller, buyer, settings):
    settings.PAYMENT_VIOLATIONS_BEFORE_BLOCK = 3
    for _ in range(2):
        won_auction_order(seller, buyer, overdue=True)
    tasks.check_payment_deadlines()
    buyer.refresh_from_db()
    assert not buyer.is_blocked

    won_auction_order(seller, buyer, overdue=True)
    tasks.check_payment_deadlines()

    buyer.refresh_from_db()
    assert buyer.is_blocked
    assert "3 won items not paid" in buyer.blocked_reason


@pytest.mark.django_db
def test_a_blocked_buyer_cannot_buy(seller, buyer):
    buyer.block("test")
    from marketplace.services.cart import add_to_cart

    with pytest.raises(PurchaseRejected):
        add_to_cart(user=buyer, listing=listing_by(seller), quantity=1)


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_concurrent_runs_record_one_violation():
    seller = SellerFactory(username="amina")
    buyer = UserFactory(username="bilal")
    order = won_auction_order(seller, buyer, overdue=True)
    start = threading.Barrier(2)
    errors: list[Exception] = []

    def run() -> None:
        try:
            start.wait(timeout=10)
            deadlines.check_payment_deadlines()
        except Exception as error:  # asserted below
            errors.append(error)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    assert errors == []
    assert PaymentViolation.objects.filter(order=order).count() == 1
    assert SecondChanceOffer.objects.count() == 0
    assert status_of(order) == Order.Status.CANCELLED


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_runs_over_three_overdue_orders_block_the_buyer_once(settings):
    settings.PAYMENT_VIOLATIONS_BEFORE_BLOCK = 3
    seller = SellerFactory(username="amina")
    buyer = UserFactory(username="bilal")
    for _ in range(3):
        won_auction_order(seller, buyer, overdue=True)
    start = threading.Barrier(3)

    def run() -> None:
        try:
            start.wait(timeout=10)
            deadlines.check_payment_deadlines()
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    assert PaymentViolation.objects.count() == 3
    buyer.refresh_from_db()
    assert buyer.is_blocked


# --- Fixed-price orders not paid ----------------------------------------------------------------
@pytest.mark.django_db
def test_an_unpaid_fixed_price_order_is_cancelled_and_its_stock_released(seller, buyer):
    listing = listing_by(seller, quantity=1)
    order = overdue(order_for(buyer, listing))
    assert FixedPriceListing.objects.get(pk=listing.pk).status == "sold_out"

    tasks.check_payment_deadlines()

    assert status_of(order) == Order.Status.CANCELLED
    listing.refresh_from_db()
    assert (listing.quantity, listing.status) == (1, FixedPriceListing.Status.ACTIVE)
    assert not PaymentViolation.objects.exists()


# --- Second-chance offers -----------------------------------------------------------------------
@pytest.mark.django_db
def test_the_runner_up_is_offered_the_item_at_their_last_bid(seller, buyer, rival):
    order = won_auction_order(seller, buyer, price="5000.00", bidders=[rival], overdue=True)

    tasks.check_payment_deadlines()

    offer = SecondChanceOffer.objects.get()
    assert (offer.bidder, offer.amount, offer.unpaid_order) == (rival, Decimal("4500.00"), order)
    assert offer.status == SecondChanceOffer.Status.OFFERED
    assert timedelta(hours=47) < offer.expires_at - timezone.now() <= timedelta(hours=48)


@pytest.mark.django_db
def test_no_offer_when_nobody_else_bid(seller, buyer):
    won_auction_order(seller, buyer, overdue=True)

    tasks.check_payment_deadlines()

    assert not SecondChanceOffer.objects.exists()


@pytest.mark.django_db
def test_a_blocked_runner_up_is_passed_over(seller, buyer, rival, outsider):
    rival.block("test")
    won_auction_order(seller, buyer, bidders=[rival, outsider], overdue=True)

    tasks.check_payment_deadlines()

    assert SecondChanceOffer.objects.get().bidder == outsider


@pytest.fixture
def offer(seller, buyer, rival):
    won_auction_order(seller, buyer, price="5000.00", bidders=[rival], overdue=True)
    tasks.check_payment_deadlines()
    return SecondChanceOffer.objects.get()


@pytest.mark.django_db
def test_accepting_the_offer_creates_an_order_awaiting_payment(offer, rival, seller):
    checkout = deadlines.accept_second_chance_offer(offer=offer, buyer=rival)

    order = checkout.orders.get()
    assert (order.buyer, order.seller, order.total) == (rival, seller, Decimal("4500.00"))
    assert order.status == Order.Status.AWAITING_PAYMENT
    assert order.payment_deadline > timezone.now() + timedelta(hours=23)
    assert not order.has_shipping_address
    assert order.items.get().product == offer.auction.product
    offer.refresh_from_db()
    assert (offer.status, offer.order) == (SecondChanceOffer.Status.ACCEPTED, order)


@pytest.mark.django_db
def test_an_offer_can_be_accepted_once(offer, rival):
    deadlines.accept_second_chance_offer(offer=offer, buyer=rival)

    with pytest.raises(PaymentRejected):
        deadlines.accept_second_chance_offer(offer=offer, buyer=rival)


@pytest.mark.django_db
def test_someone_else_cannot_accept_the_offer(offer, buyer):
    with pytest.raises(PaymentRejected):
        deadlines.accept_second_chance_offer(offer=offer, buyer=buyer)


@pytest.mark.django_db
def test_an_offer_past_48_hours_cannot_be_accepted(offer, rival):
    past_its_time(offer)

    with pytest.raises(PaymentRejected):
        deadlines.accept_second_chance_offer(offer=offer, buyer=rival)
    offer.refresh_from_db()
    assert offer.status == SecondChanceOffer.Status.EXPIRED


@pytest.mark.django_db
def test_the_job_expires_offers_not_answered_in_time(offer):
    past_its_time(offer)

    counts = tasks.check_payment_deadlines()

    assert counts["offers_expired"] == 1
    offer.refresh_from_db()
    assert offer.status == SecondChanceOffer.Status.EXPIRED


@pytest.mark.django_db
def test_an_accepted_offer_not_paid_is_a_violation_without_another_offer(offer, rival):
    checkout = deadlines.accept_second_chance_offer(offer=offer, buyer=rival)
    order = overdue(checkout.orders.get())

    tasks.check_payment_deadlines()

    assert status_of(order) == Order.Status.CANCELLED
    assert PaymentViolation.objects.filter(buyer=rival, order=order).exists()
    assert SecondChanceOffer.objects.count() == 1


@pytest.mark.django_db
def test_the_runner_up_sees_and_accepts_the_offer_on_the_site(offer, rival, client):
    client.force_login(rival)

    page = client.get(reverse("offer_list")).content.decode()
    assert "Rs 4,500" in page
    response = client.post(reverse("offer_accept", args=[offer.pk]), follow=True)

    offer.refresh_from_db()
    assert response.redirect_chain[-1][0] == reverse(
        "checkout_detail", args=[offer.order.checkout.number]
    )
    assert 'id="checkout-address"' in response.content.decode()


@pytest.mark.django_db
def test_the_runner_up_can_decline(offer, rival, client):
    client.force_login(rival)

    client.post(reverse("offer_decline", args=[offer.pk]))

    offer.refresh_from_db()
    assert offer.status == SecondChanceOffer.Status.DECLINED


@pytest.mark.django_db
@pytest.mark.parametrize("name", ["offer_accept", "offer_decline"])
def test_someone_elses_offer_is_not_found(offer, buyer, client, name):
    client.force_login(buyer)

    response = client.post(reverse(name, args=[offer.pk]))

    assert response.status_code == 404
    offer.refresh_from_db()
    assert offer.status == SecondChanceOffer.Status.OFFERED


@pytest.mark.django_db
def test_a_blocked_runner_up_cannot_accept(offer, rival):
    rival.block("test")

    with pytest.raises(PurchaseRejected):
        deadlines.accept_second_chance_offer(offer=offer, buyer=rival)


@pytest.mark.django_db
def test_the_schedules_exist_once_with_their_intervals():
    from django_q.models import Schedule

    schedules = {s.name: s for s in Schedule.objects.filter(name__contains="_")}
    assert schedules["check_payment_deadlines"].minutes == 5
    assert schedules["check_payment_deadlines"].func == "marketplace.tasks.check_payment_deadlines"
    assert schedules["send_pending_transfers"].minutes == 10


@pytest.mark.django_db
def test_cancelling_at_the_deadline_closes_the_open_payment_page(
    emulator, seller, buyer, client, django_capture_on_commit_callbacks
):
    from marketplace.models import PaymentAttempt
    from marketplace.tests.payments_fixtures import objects, onboard, start_paying

    onboard(emulator, seller)
    order = order_for(buyer, listing_by(seller))
    client.force_login(buyer)
    session_id = start_paying(client, order.checkout)
    overdue(order)

    with django_capture_on_commit_callbacks(execute=True):
        tasks.check_payment_deadlines()

    [session] = objects(emulator, "checkout.session")
    assert (session["id"], session["status"]) == (session_id, "expired")
    assert PaymentAttempt.objects.get().status == PaymentAttempt.Status.EXPIRED


@pytest.mark.django_db
def test_a_payment_made_before_the_deadline_whose_webhook_is_late_is_not_cancelled(
    emulator, seller, buyer, client
):
    from marketplace.models import Payment
    from marketplace.tests.payments_fixtures import onboard, start_paying
    from marketplace.tests.stripe_support import control

    onboard(emulator, seller)
    order = won_auction_order(seller, buyer)
    Order.objects.filter(pk=order.pk).update(
        ship_name="Bilal", ship_line1="1 Mall", ship_city="Lahore"
    )
    client.force_login(buyer)
    session_id = start_paying(client, order.checkout)
    control(emulator, f"sessions/{session_id}/pay")  # the webhook is never delivered here
    overdue(order)

    counts = tasks.check_payment_deadlines()

    assert counts["cancelled"] == 0
    assert status_of(order) == Order.Status.PAID
    assert Payment.objects.get().session_id == session_id
    assert not PaymentViolation.objects.exists()


@pytest.mark.django_db
def test_an_order_is_not_cancelled_while_its_open_page_cannot_be_checked(
    emulator, seller, buyer, client, settings
):
    from marketplace.tests.payments_fixtures import onboard, start_paying

    onboard(emulator, seller)
    order = order_for(buyer, listing_by(seller))
    client.force_login(buyer)
    start_paying(client, order.checkout)
    overdue(order)
    settings.STRIPE_API_BASE = "http://127.0.0.1:9"

    tasks.check_payment_deadlines()
    assert status_of(order) == Order.Status.AWAITING_PAYMENT

    settings.STRIPE_API_BASE = emulator
    tasks.check_payment_deadlines()
    assert status_of(order) == Order.Status.CANCELLED


@pytest.mark.django_db
def test_the_block_reason_is_written_in_the_buyers_language(seller, buyer, settings):
    settings.PAYMENT_VIOLATIONS_BEFORE_BLOCK = 1
    buyer.language = "ur"
    buyer.save(update_fields=["language"])
    won_auction_order(seller, buyer, overdue=True)

    tasks.check_payment_deadlines()

    buyer.refresh_from_db()
    assert "won items" not in buyer.blocked_reason
    assert "1" in buyer.blocked_reason


# --- Relisting an item whose buyer did not pay ----------------------------------------------------
def relist(seller, order):
    from marketplace.services.auctions import relist_auction

    return relist_auction(seller=seller, auction_id=order.auction_id)


def refused_relist(seller, order) -> str:
    from marketplace.exceptions import ListingError

    with pytest.raises(ListingError) as raised:
        relist(seller, order)
    return raised.value.code


@pytest.mark.django_db
def test_an_item_whose_winner_did_not_pay_can_be_relisted(seller, buyer):
    order = won_auction_order(seller, buyer, overdue=True)
    assert refused_relist(seller, order) == "not_unsold"  # still awaiting payment

    tasks.check_payment_deadlines()
    new = relist(seller, order)

    assert new.status == new.Status.LIVE and new.bid_count == 0
    assert new.product.title == order.items.get().title


@pytest.mark.django_db
def test_no_relist_while_the_runner_up_may_still_buy_it(offer, seller, rival):
    order = offer.unpaid_order
    assert refused_relist(seller, order) == "not_unsold"

    past_its_time(offer)

    assert relist(seller, order).status == "live"


@pytest.mark.django_db
def test_no_relist_while_the_runner_ups_order_stands(offer, seller, rival):
    deadlines.accept_second_chance_offer(offer=offer, buyer=rival)
    second = Order.objects.get(buyer=rival)
    assert refused_relist(seller, offer.unpaid_order) == "not_unsold"

    overdue(second)
    tasks.check_payment_deadlines()

    assert status_of(second) == Order.Status.CANCELLED
    assert relist(seller, offer.unpaid_order).status == "live"


@pytest.mark.django_db
def test_a_paid_auction_is_never_relisted(seller, buyer):
    order = won_auction_order(seller, buyer)
    Order.objects.filter(pk=order.pk).update(status=Order.Status.PAID)

    assert refused_relist(seller, order) == "not_unsold"


@pytest.mark.django_db
def test_the_dashboard_offers_relist_when_the_buyer_did_not_pay(client, seller, buyer):
    from django.urls import reverse

    order = won_auction_order(seller, buyer, overdue=True)
    client.force_login(seller)
    page = client.get(reverse("dashboard_listings"), {"status": "auction"}).text
    assert reverse("auction_relist", args=[order.auction_id]) not in page

    tasks.check_payment_deadlines()
    page = client.get(reverse("dashboard_listings"), {"status": "auction"}).text

    assert reverse("auction_relist", args=[order.auction_id]) in page
    assert "The buyer did not pay." in page
