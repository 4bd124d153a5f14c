"""Shipping, delivery, automatic confirmation, cancellation rules and the order timeline."""

import io
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone
from django_q.models import Schedule

from marketplace.exceptions import OrderActionRefused, PaymentRejected
from marketplace.models import Order, OrderEvent
from marketplace.services import fulfilment
from marketplace.services.cancellation import cancel_order
from marketplace.tests.factories.catalog import AuctionProductFactory
from marketplace.tests.factories.fulfilment import delivered_order, paid_order, shipped_order
from marketplace.tests.factories.orders import listing_by, order_for

pytestmark = pytest.mark.django_db


def kinds(order: Order) -> list[str]:
    return list(order.events.values_list("kind", flat=True))


# --- mark_shipped ---------------------------------------------------------------------------


def test_the_seller_marks_a_paid_order_shipped_with_courier_and_tracking(seller, buyer):
    order = paid_order(seller, buyer)

    fulfilment.mark_shipped(order=order, by=seller, courier=" TCS ", tracking_number="TCS-99")

    order.refresh_from_db()
    assert order.status == Order.Status.SHIPPED
    assert (order.courier, order.tracking_number) == ("TCS", "TCS-99")
    assert order.shipped_at is not None
    event = order.events.get(kind=OrderEvent.Kind.SHIPPED)
    assert event.actor == seller
    assert "TCS-99" in event.note


def test_the_buyer_cannot_mark_an_order_shipped(seller, buyer):
    order = paid_order(seller, buyer)

    with pytest.raises(OrderActionRefused) as refused:
        fulfilment.mark_shipped(order=order, by=buyer, courier="TCS", tracking_number="1")

    assert refused.value.code == "not_seller"
    order.refresh_from_db()
    assert order.status == Order.Status.PAID


def test_an_unpaid_order_cannot_be_shipped(seller, buyer):
    order = order_for(buyer, listing_by(seller))

    with pytest.raises(OrderActionRefused) as refused:
        fulfilment.mark_shipped(order=order, by=seller, courier="TCS", tracking_number="1")

    assert refused.value.code == "not_paid"


def test_an_order_cannot_be_shipped_twice(seller, buyer):
    order = shipped_order(seller, buyer)

    with pytest.raises(OrderActionRefused) as refused:
        fulfilment.mark_shipped(order=order, by=seller, courier="Leopards", tracking_number="2")

    assert refused.value.code == "wrong_status"
    order.refresh_from_db()
    assert order.courier == "TCS"


@pytest.mark.parametrize(
    ("courier", "tracking", "code"),
    [("", "1", "missing"), ("TCS", "   ", "missing"), ("T" * 61, "1", "too_long")],
)
def test_shipping_needs_a_courier_and_a_tracking_number(seller, buyer, courier, tracking, code):
    order = paid_order(seller, buyer)

    with pytest.raises(OrderActionRefused) as refused:
        fulfilment.mark_shipped(order=order, by=seller, courier=courier, tracking_number=tracking)

    assert refused.value.code == code


# --- confirm_delivery and auto_confirm_deliveries --------------------------------------------


def test_the_buyer_confirms_delivery_of_a_shipped_order(seller, buyer):
    order = shipped_order(seller, buyer)

    fulfilment.confirm_delivery(order=order, by=buyer)

    order.refresh_from_db()
    assert order.status == Order.Status.DELIVERED
    assert order.delivered_at is not None
    assert order.events.get(kind=OrderEvent.Kind.DELIVERED).actor == buyer


def test_the_seller_cannot_confirm_delivery(seller, buyer):
    order = shipped_order(seller, buyer)

    with pytest.raises(OrderActionRefused) as refused:
        fulfilment.confirm_delivery(order=order, by=seller)

    assert refused.value.code == "not_buyer"


def test_delivery_of_an_order_not_shipped_cannot_be_confirmed(seller, buyer):
    order = paid_order(seller, buyer)

    with pytest.raises(OrderActionRefused) as refused:
        fulfilment.confirm_delivery(order=order, by=buyer)

    assert refused.value.code == "wrong_status"


def test_confirming_delivery_queues_the_feedback_request_after_commit(
    seller, buyer, django_capture_on_commit_callbacks, monkeypatch
):
    queued = []
    monkeypatch.setattr(
        "django_q.tasks.async_task", lambda name, *args, **kw: queued.append((name, args))
    )
    order = shipped_order(seller, buyer)

    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        fulfilment.confirm_delivery(order=order, by=buyer)
        assert queued == []
    for callback in callbacks:
        callback()

    assert ("marketplace.tasks.send_feedback_request_email", (order.pk,)) in queued


def test_orders_shipped_over_the_limit_ago_are_confirmed_automatically(seller, buyer, settings):
    settings.AUTO_CONFIRM_DELIVERY_DAYS = 14
    old = shipped_order(seller, buyer)
    recent = shipped_order(seller, buyer)
    Order.objects.filter(pk=old.pk).update(shipped_at=timezone.now() - timedelta(days=15))

    assert fulfilment.auto_confirm_deliveries() == 1

    old.refresh_from_db()
    recent.refresh_from_db()
    assert old.status == Order.Status.DELIVERED
    assert recent.status == Order.Status.SHIPPED
    event = old.events.get(kind=OrderEvent.Kind.AUTO_DELIVERED)
    assert event.actor is None


def test_a_second_auto_confirm_run_changes_nothing(seller, buyer):
    order = shipped_order(seller, buyer)
    Order.objects.filter(pk=order.pk).update(shipped_at=timezone.now() - timedelta(days=30))
    fulfilment.auto_confirm_deliveries()

    assert fulfilment.auto_confirm_deliveries() == 0
    assert kinds(order).count(OrderEvent.Kind.AUTO_DELIVERED) == 1


def test_the_auto_confirm_schedule_exists_once_and_runs_hourly():
    schedule = Schedule.objects.get(name="auto_confirm_deliveries")
    assert schedule.func == "marketplace.tasks.auto_confirm_deliveries"
    assert schedule.schedule_type == Schedule.HOURLY
    assert Schedule.objects.filter(name="auto_confirm_deliveries").count() == 1


# --- cancellation rules ---------------------------------------------------------------------


def test_the_buyer_cancels_an_unpaid_fixed_price_order_and_it_shows_on_the_timeline(seller, buyer):
    order = order_for(buyer, listing_by(seller))

    cancel_order(order=order, by=buyer, reason="Changed my mind")

    event = order.events.get(kind=OrderEvent.Kind.CANCELLED)
    assert (event.actor, event.note) == (buyer, "Changed my mind")


def test_a_paid_order_is_not_cancelled_without_a_refund(seller, buyer):
    order = paid_order(seller, buyer)  # paid, but no payment recorded: nothing to refund

    with pytest.raises(PaymentRejected) as refused:
        cancel_order(order=order, by=buyer, reason="")

    assert refused.value.code == "not_paid"
    assert Order.objects.get(pk=order.pk).status == Order.Status.PAID


def test_a_shipped_order_cannot_be_cancelled(seller, buyer):
    order = shipped_order(seller, buyer)

    with pytest.raises(OrderActionRefused) as refused:
        cancel_order(order=order, by=buyer, reason="")

    assert refused.value.code == "shipped"


def test_a_delivered_order_can_never_be_cancelled_even_by_staff(seller, buyer, admin_user):
    order = delivered_order(seller, buyer)

    with pytest.raises(OrderActionRefused) as refused:
        cancel_order(order=order, by=admin_user, reason="")

    assert refused.value.code == "delivered"


def test_the_buyer_cannot_cancel_an_auction_order(seller, buyer):
    order = order_for(buyer, listing_by(seller))
    auction = AuctionProductFactory(seller=seller).auction
    Order.objects.filter(pk=order.pk).update(auction=auction)
    order.refresh_from_db()

    with pytest.raises(OrderActionRefused) as refused:
        cancel_order(order=order, by=buyer, reason="")

    assert refused.value.code == "auction_order"
    assert order.can_cancel(seller)


# --- Views ----------------------------------------------------------------------------------


def ship_url(order: Order) -> str:
    return reverse("order_ship", args=[order.number])


def confirm_url(order: Order) -> str:
    return reverse("order_confirm_delivery", args=[order.number])


SHIP_DATA = {"courier": "Leopards", "tracking_number": "LP-42"}


def test_the_order_page_shows_the_seller_the_ship_form(client, seller, buyer):
    order = paid_order(seller, buyer)
    client.force_login(seller)

    page = client.get(reverse("order_detail", args=[order.number])).content.decode()

    assert 'id="ship-form"' in page
    assert 'id="confirm-delivery-form"' not in page


def test_the_order_page_does_not_show_the_buyer_the_ship_form(client, seller, buyer):
    order = paid_order(seller, buyer)
    client.force_login(buyer)

    page = client.get(reverse("order_detail", args=[order.number])).content.decode()

    assert 'id="ship-form"' not in page
    assert "Paid" in page  # the timeline


def test_the_seller_ships_through_htmx_and_gets_the_progress_panel(client, seller, buyer):
    order = paid_order(seller, buyer)
    client.force_login(seller)

    response = client.post(ship_url(order), SHIP_DATA, HTTP_HX_REQUEST="true")

    assert response.status_code == 200
    body = response.content.decode()
    assert 'id="order-progress"' in body
    assert 'hx-swap-oob="true"' in body  # the status badge
    assert "LP-42" in body
    assert "<html" not in body


def test_shipping_without_javascript_redirects_to_the_order(client, seller, buyer):
    order = paid_order(seller, buyer)
    client.force_login(seller)

    response = client.post(ship_url(order), SHIP_DATA)

    assert response.status_code == 302
    assert response.url == reverse("order_detail", args=[order.number])
    order.refresh_from_db()
    assert order.status == Order.Status.SHIPPED


def test_a_blank_ship_form_shows_errors_in_place_with_status_200(client, seller, buyer):
    order = paid_order(seller, buyer)
    client.force_login(seller)

    response = client.post(ship_url(order), {"courier": "", "tracking_number": ""})

    assert response.status_code == 200
    assert "Name the courier." in response.content.decode()
    order.refresh_from_db()
    assert order.status == Order.Status.PAID


def test_the_buyer_posting_the_ship_form_is_refused_with_a_message(client, seller, buyer):
    order = paid_order(seller, buyer)
    client.force_login(buyer)

    response = client.post(ship_url(order), SHIP_DATA, HTTP_HX_REQUEST="true")

    assert response.status_code == 200
    assert "Only the seller" in response.content.decode()
    order.refresh_from_db()
    assert order.status == Order.Status.PAID


def test_an_outsider_gets_404_shipping_someone_elses_order(client, seller, buyer, outsider):
    order = paid_order(seller, buyer)
    client.force_login(outsider)

    assert client.post(ship_url(order), SHIP_DATA).status_code == 404


def test_an_anonymous_visitor_is_sent_to_log_in_to_ship(client, seller, buyer):
    order = paid_order(seller, buyer)

    response = client.post(ship_url(order), SHIP_DATA)

    assert response.status_code == 302
    assert response.url.startswith(reverse("login"))


def test_shipping_is_post_only(client, seller, buyer):
    order = paid_order(seller, buyer)
    client.force_login(seller)

    assert client.get(ship_url(order)).status_code == 405


def test_confirm_delivery_asks_first_in_a_step_that_needs_no_javascript(client, seller, buyer):
    order = shipped_order(seller, buyer)
    client.force_login(buyer)

    body = client.get(reverse("order_detail", args=[order.number])).content.decode()

    form = body[body.index('id="confirm-delivery-form"') :]
    form = form[: form.index("</form>")]
    step = form[form.index('<details class="confirm-step" id="confirm-delivery-step">') :]
    # The visible button only opens the question; the one submit button is inside it.
    assert step.index("<summary") < step.index("Is the parcel in your hands")
    assert form.count('type="submit"') == 1
    assert step.index("Is the parcel in your hands") < step.index('type="submit"')
    assert "Yes, it has arrived" in step


def test_the_buyer_confirms_delivery_through_htmx_and_sees_the_feedback_form(client, seller, buyer):
    order = shipped_order(seller, buyer)
    client.force_login(buyer)

    response = client.post(confirm_url(order), HTTP_HX_REQUEST="true")

    body = response.content.decode()
    assert response.status_code == 200
    assert 'id="feedback-form"' in body
    order.refresh_from_db()
    assert order.status == Order.Status.DELIVERED


def test_the_seller_confirming_delivery_is_refused(client, seller, buyer):
    order = shipped_order(seller, buyer)
    client.force_login(seller)

    response = client.post(confirm_url(order), follow=True)

    assert "Only the buyer" in response.content.decode()
    order.refresh_from_db()
    assert order.status == Order.Status.SHIPPED


def test_an_outsider_gets_404_confirming_delivery(client, seller, buyer, outsider):
    order = shipped_order(seller, buyer)
    client.force_login(outsider)

    assert client.post(confirm_url(order)).status_code == 404


def test_an_anonymous_visitor_is_sent_to_log_in_to_confirm_delivery(client, seller, buyer):
    order = shipped_order(seller, buyer)

    response = client.post(confirm_url(order))

    assert response.url.startswith(reverse("login"))


def test_both_parties_see_the_same_timeline(client, seller, buyer):
    order = delivered_order(seller, buyer)
    pages = []
    for user in (buyer, seller):
        client.force_login(user)
        page = client.get(reverse("order_detail", args=[order.number])).content.decode()
        start = page.index('id="order-timeline"')
        pages.append(page[start : page.index("</ol>", start)])

    assert pages[0] == pages[1]
    for label in ("Order placed", "Paid", "Shipped", "Delivery confirmed"):
        assert label in pages[0]


def test_the_timeline_fills_in_steps_recorded_before_events_existed(seller, buyer):
    from marketplace.queries.fulfilment import order_timeline

    order = paid_order(seller, buyer)
    order.events.all().delete()

    assert [entry.kind for entry in order_timeline(order)] == ["placed", "paid"]


def test_the_demo_orders_load_once():
    from django.core.management import call_command

    from marketplace.models import Complaint, Feedback, ProductReview

    call_command("load_demo", "--orders", "--force", stdout=io.StringIO())
    call_command("load_demo", "--orders", "--force", stdout=io.StringIO())

    assert Feedback.objects.count() == 2
    assert ProductReview.objects.count() == 1
    assert Complaint.objects.count() == 1
    statuses = set(Order.objects.values_list("status", flat=True))
    assert statuses == {"paid", "shipped", "delivered"}
