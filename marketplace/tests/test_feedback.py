"""Feedback on delivered orders, the seller's reply, product reviews, and the feedback e-mail."""

import socket
import time

import pytest
from django.core import mail
from django.db import IntegrityError, transaction
from django.urls import reverse

from marketplace.exceptions import FeedbackRejected
from marketplace.models import Feedback, Order, ProductReview
from marketplace.queries.feedback import seller_rating
from marketplace.services.feedback import leave_feedback, leave_review, reply_to_feedback
from marketplace.services.fulfilment import confirm_delivery
from marketplace.tasks import send_feedback_request_email
from marketplace.tests.factories.fulfilment import delivered_order, paid_order, shipped_order

pytestmark = pytest.mark.django_db

SCORES = {
    "seller_rating": 5,
    "communication": 4,
    "shipping_speed": 3,
    "item_as_described": True,
    "platform_rating": 4,
}


def feedback_on(order: Order, **changes) -> Feedback:
    return leave_feedback(order=order, by=order.buyer, **{**SCORES, **changes})


# --- leave_feedback -------------------------------------------------------------------------


def test_the_buyer_leaves_feedback_on_a_delivered_order(seller, buyer):
    order = delivered_order(seller, buyer)

    feedback = feedback_on(order, comment="Beautiful glaze")

    assert (feedback.buyer, feedback.seller) == (buyer, seller)
    assert (feedback.seller_rating, feedback.communication, feedback.shipping_speed) == (5, 4, 3)
    assert order.events.filter(kind="feedback").exists()


def test_feedback_is_left_only_once_per_order(seller, buyer):
    order = delivered_order(seller, buyer)
    feedback_on(order)

    with pytest.raises(FeedbackRejected) as rejected:
        feedback_on(order)

    assert rejected.value.code == "already_left"


def test_feedback_waits_for_delivery(seller, buyer):
    order = shipped_order(seller, buyer)

    with pytest.raises(FeedbackRejected) as rejected:
        feedback_on(order)

    assert rejected.value.code == "not_delivered"


@pytest.mark.parametrize("who", ["seller", "outsider"])
def test_nobody_but_the_buyer_leaves_feedback(seller, buyer, outsider, who):
    order = delivered_order(seller, buyer)

    with pytest.raises(FeedbackRejected) as rejected:
        leave_feedback(order=order, by={"seller": seller, "outsider": outsider}[who], **SCORES)

    assert rejected.value.code == "not_buyer"


@pytest.mark.parametrize("score", [0, 6, -1, "5", None, True])
def test_ratings_outside_one_to_five_are_refused(seller, buyer, score):
    order = delivered_order(seller, buyer)

    with pytest.raises(FeedbackRejected):
        feedback_on(order, communication=score)


def test_the_database_refuses_a_rating_of_six(seller, buyer):
    order = delivered_order(seller, buyer)
    feedback = feedback_on(order)

    with pytest.raises(IntegrityError), transaction.atomic():
        Feedback.objects.filter(pk=feedback.pk).update(seller_rating=6)


# --- reply_to_feedback ----------------------------------------------------------------------


def test_the_seller_replies_once(seller, buyer):
    feedback = feedback_on(delivered_order(seller, buyer))

    reply_to_feedback(feedback=feedback, by=seller, reply="Shukriya!")

    with pytest.raises(FeedbackRejected) as rejected:
        reply_to_feedback(feedback=feedback, by=seller, reply="Again")
    feedback.refresh_from_db()
    assert feedback.seller_reply == "Shukriya!"
    assert feedback.replied_at is not None
    assert rejected.value.code == "replied"


def test_the_buyer_cannot_reply_to_their_own_feedback(seller, buyer):
    feedback = feedback_on(delivered_order(seller, buyer))

    with pytest.raises(FeedbackRejected) as rejected:
        reply_to_feedback(feedback=feedback, by=buyer, reply="Me too")

    assert rejected.value.code == "not_seller"


def test_an_empty_reply_is_refused(seller, buyer):
    feedback = feedback_on(delivered_order(seller, buyer))

    with pytest.raises(FeedbackRejected):
        reply_to_feedback(feedback=feedback, by=seller, reply="   ")


# --- leave_review ---------------------------------------------------------------------------


def test_a_buyer_reviews_a_delivered_fixed_price_item_as_a_verified_purchase(seller, buyer):
    order = delivered_order(seller, buyer)
    product = order.items.get().product

    review = leave_review(product=product, by=buyer, rating=5, title="Lovely", text="As shown.")

    assert review.verified_purchase
    assert review.rating == 5


def test_an_item_not_yet_delivered_cannot_be_reviewed(seller, buyer):
    product = shipped_order(seller, buyer).items.get().product

    with pytest.raises(FeedbackRejected) as rejected:
        leave_review(product=product, by=buyer, rating=5, title="Early", text="Not here yet")

    assert rejected.value.code == "not_bought"


def test_someone_who_did_not_buy_the_item_cannot_review_it(seller, buyer, outsider):
    product = delivered_order(seller, buyer).items.get().product

    with pytest.raises(FeedbackRejected):
        leave_review(product=product, by=outsider, rating=1, title="Bad", text="Never bought it")


def test_one_review_per_buyer_and_product(seller, buyer):
    product = delivered_order(seller, buyer).items.get().product
    leave_review(product=product, by=buyer, rating=5, title="Lovely", text="As shown.")

    with pytest.raises(FeedbackRejected) as rejected:
        leave_review(product=product, by=buyer, rating=1, title="Changed", text="Twice")

    assert rejected.value.code == "already_reviewed"
    assert ProductReview.objects.count() == 1


# --- Seller rating --------------------------------------------------------------------------


def test_the_seller_rating_averages_every_feedback(seller, buyer, rival):
    feedback_on(delivered_order(seller, buyer), seller_rating=5, item_as_described=True)
    feedback_on(delivered_order(seller, rival), seller_rating=2, item_as_described=False)

    rating = seller_rating(seller)

    assert rating.count == 2
    assert rating.average == pytest.approx(3.5)
    assert rating.as_described_percent == 50


# --- Views ----------------------------------------------------------------------------------

FORM = {
    "seller_rating": "5",
    "communication": "4",
    "shipping_speed": "5",
    "item_as_described": "yes",
    "comment": "Packed with care",
    "platform_rating": "4",
    "platform_comment": "",
}


def feedback_url(order: Order) -> str:
    return reverse("feedback_create", args=[order.number])


def test_the_buyer_sends_feedback_through_htmx(client, seller, buyer):
    order = delivered_order(seller, buyer)
    client.force_login(buyer)

    response = client.post(feedback_url(order), FORM, HTTP_HX_REQUEST="true")

    body = response.content.decode()
    assert response.status_code == 200
    assert 'id="order-feedback"' in body
    assert "Packed with care" in body
    assert Feedback.objects.get().item_as_described is True


def test_a_half_filled_feedback_form_keeps_what_was_typed(client, seller, buyer):
    order = delivered_order(seller, buyer)
    client.force_login(buyer)

    response = client.post(
        feedback_url(order), {**FORM, "seller_rating": "9"}, HTTP_HX_REQUEST="true"
    )

    body = response.content.decode()
    assert response.status_code == 200
    assert "Packed with care" in body
    assert "is-invalid" in body
    assert not Feedback.objects.exists()


def test_the_feedback_page_from_the_email_link_shows_the_form(client, seller, buyer):
    order = delivered_order(seller, buyer)
    client.force_login(buyer)

    response = client.get(feedback_url(order))

    assert response.status_code == 200
    assert 'id="feedback-form"' in response.content.decode()


def test_the_feedback_scores_are_five_labelled_star_radio_buttons_in_a_fieldset(
    client, seller, buyer
):
    order = delivered_order(seller, buyer)
    client.force_login(buyer)

    body = client.get(feedback_url(order)).content.decode()

    for name in ("seller_rating", "communication", "shipping_speed", "platform_rating"):
        assert f'<fieldset class="star-field mb-3" id="div_id_{name}"' in body
        assert body.count(f'type="radio" class="star-input" name="{name}"') == 5
    assert '<span class="visually-hidden">1 star</span>' in body
    assert '<span class="visually-hidden">5 stars</span>' in body
    assert 'aria-describedby="id_seller_rating_helptext"' in body


def test_a_refused_score_keeps_the_other_stars_chosen_and_marks_the_field(client, seller, buyer):
    order = delivered_order(seller, buyer)
    client.force_login(buyer)

    body = client.post(feedback_url(order), {**FORM, "seller_rating": ""}).content.decode()

    assert '<fieldset class="star-field mb-3 is-invalid" id="div_id_seller_rating"' in body
    assert 'name="communication" id="id_communication_3" value="4" checked' in body


def test_the_seller_opening_the_feedback_page_gets_404(client, seller, buyer):
    order = delivered_order(seller, buyer)
    client.force_login(seller)

    assert client.get(feedback_url(order)).status_code == 404


def test_the_seller_posting_feedback_is_refused(client, seller, buyer):
    order = delivered_order(seller, buyer)
    client.force_login(seller)

    client.post(feedback_url(order), FORM)

    assert not Feedback.objects.exists()


def test_an_outsider_gets_404_on_feedback(client, seller, buyer, outsider):
    order = delivered_order(seller, buyer)
    client.force_login(outsider)

    assert client.get(feedback_url(order)).status_code == 404
    assert client.post(feedback_url(order), FORM).status_code == 404


def test_an_anonymous_visitor_is_sent_to_log_in_for_feedback(client, seller, buyer):
    order = delivered_order(seller, buyer)

    assert client.get(feedback_url(order)).url.startswith(reverse("login"))


def test_feedback_on_an_undelivered_order_is_refused_with_a_message(client, seller, buyer):
    order = paid_order(seller, buyer)
    client.force_login(buyer)

    response = client.post(feedback_url(order), FORM, follow=True)

    assert "once the order has been delivered" in response.content.decode()
    assert not Feedback.objects.exists()


def test_both_parties_see_the_feedback_on_the_order_page_but_only_the_buyer_the_platform_rating(
    client, seller, buyer
):
    order = delivered_order(seller, buyer)
    feedback_on(order, comment="Lovely", platform_comment="Faster payouts please")
    url = reverse("order_detail", args=[order.number])

    client.force_login(seller)
    seller_page = client.get(url).content.decode()
    client.force_login(buyer)
    buyer_page = client.get(url).content.decode()

    assert "Lovely" in seller_page and "Lovely" in buyer_page
    assert 'id="reply-form"' in seller_page
    assert 'id="reply-form"' not in buyer_page
    assert "You rated MadeInPK" in buyer_page
    assert "You rated MadeInPK" not in seller_page


def test_the_seller_replies_through_htmx(client, seller, buyer):
    order = delivered_order(seller, buyer)
    feedback_on(order)
    client.force_login(seller)

    response = client.post(
        reverse("feedback_reply", args=[order.number]), {"reply": "Thanks!"}, HTTP_HX_REQUEST="true"
    )

    assert response.status_code == 200
    assert "Thanks!" in response.content.decode()
    assert Feedback.objects.get().seller_reply == "Thanks!"


def test_the_buyer_posting_a_reply_is_refused(client, seller, buyer):
    order = delivered_order(seller, buyer)
    feedback_on(order)
    client.force_login(buyer)

    response = client.post(
        reverse("feedback_reply", args=[order.number]), {"reply": "Hi"}, HTTP_HX_REQUEST="true"
    )

    assert "Only the seller" in response.content.decode()
    assert Feedback.objects.get().seller_reply == ""


def test_an_outsider_gets_404_replying(client, seller, buyer, outsider):
    order = delivered_order(seller, buyer)
    feedback_on(order)
    client.force_login(outsider)

    assert (
        client.post(reverse("feedback_reply", args=[order.number]), {"reply": "x"}).status_code
        == 404
    )


def test_an_anonymous_reply_is_sent_to_log_in(client, seller, buyer):
    order = delivered_order(seller, buyer)

    response = client.post(reverse("feedback_reply", args=[order.number]), {"reply": "x"})

    assert response.url.startswith(reverse("login"))


def test_the_buyer_writes_a_review_from_the_review_page(client, seller, buyer):
    product = delivered_order(seller, buyer).items.get().product
    client.force_login(buyer)

    response = client.post(
        reverse("review_create", args=[product.pk]),
        {"rating": "5", "title": "Lovely", "text": "Just like the photos."},
    )

    assert response.status_code == 302
    assert ProductReview.objects.get().title == "Lovely"


def test_the_review_page_is_a_404_for_someone_who_did_not_buy_it(client, seller, buyer, outsider):
    product = delivered_order(seller, buyer).items.get().product

    client.force_login(outsider)
    assert client.get(reverse("review_create", args=[product.pk])).status_code == 404
    client.force_login(seller)
    assert client.get(reverse("review_create", args=[product.pk])).status_code == 404


def test_the_review_page_sends_an_anonymous_visitor_to_log_in(client, seller, buyer):
    product = delivered_order(seller, buyer).items.get().product

    assert client.get(reverse("review_create", args=[product.pk])).url.startswith(reverse("login"))


def test_a_second_review_shows_the_refusal_in_the_form(client, seller, buyer):
    product = delivered_order(seller, buyer).items.get().product
    leave_review(product=product, by=buyer, rating=5, title="Lovely", text="As shown.")
    client.force_login(buyer)

    response = client.post(
        reverse("review_create", args=[product.pk]), {"rating": "1", "title": "x", "text": "y"}
    )

    assert response.status_code == 200
    assert "already reviewed" in response.content.decode()


# --- The feedback request e-mail ------------------------------------------------------------


def test_the_feedback_request_is_sent_once_even_when_the_task_runs_twice(seller, buyer):
    order = delivered_order(seller, buyer)

    assert send_feedback_request_email(order.pk) is True
    assert send_feedback_request_email(order.pk) is False

    assert len(mail.outbox) == 1
    assert mail.outbox[0].to == [buyer.email]
    assert reverse("feedback_create", args=[order.number]) in mail.outbox[0].body


def test_a_failed_send_gives_the_claim_back_for_the_retry(seller, buyer, monkeypatch):
    order = delivered_order(seller, buyer)

    def broken(*args, **kwargs):
        raise OSError("SMTP down")

    monkeypatch.setattr("marketplace.tasks.send_mail", broken)
    with pytest.raises(OSError):
        send_feedback_request_email(order.pk)
    monkeypatch.undo()

    assert send_feedback_request_email(order.pk) is True
    assert len(mail.outbox) == 1


def test_no_feedback_request_for_an_order_not_delivered(seller, buyer):
    order = shipped_order(seller, buyer)

    assert send_feedback_request_email(order.pk) is False
    assert mail.outbox == []


@pytest.fixture
def smtp_server():
    """A real SMTP server on loopback (aiosmtpd), collecting what it receives."""
    from aiosmtpd.controller import Controller
    from aiosmtpd.handlers import Message as MessageHandler

    received = []

    class Collect(MessageHandler):
        def handle_message(self, message):
            received.append(message)

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    controller = Controller(Collect(), hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield controller, received
    finally:
        controller.stop()


def test_the_feedback_request_arrives_at_a_real_smtp_server_once(
    seller, buyer, settings, smtp_server
):
    controller, received = smtp_server
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST = "127.0.0.1"
    settings.EMAIL_PORT = controller.port
    settings.EMAIL_USE_TLS = False
    settings.EMAIL_USE_SSL = False
    order = delivered_order(seller, buyer)

    assert send_feedback_request_email(order.pk) is True
    send_feedback_request_email(order.pk)  # a retry after success

    deadline = time.monotonic() + 5
    while not received and time.monotonic() < deadline:
        time.sleep(0.05)
    time.sleep(0.2)  # room for a duplicate to show up, if there were one
    assert len(received) == 1
    assert received[0]["To"] == buyer.email
    assert order.number in received[0]["Subject"]


@pytest.mark.parametrize(
    ("score", "expected"),
    [
        (5, ["full"] * 5),
        (1, ["full"] + ["empty"] * 4),
        (3.5, ["full", "full", "full", "half", "empty"]),
        (4.74, ["full"] * 4 + ["half"]),
        (None, ["empty"] * 5),
    ],
)
def test_stars_round_to_the_nearest_half(score, expected):
    from marketplace.templatetags.ratings import stars

    assert stars(score) == expected


# --- Shop, product pages and cards ----------------------------------------------------------


def test_the_shop_page_shows_the_sellers_averages_count_and_recent_feedback(
    client, seller, buyer, rival
):
    feedback_on(delivered_order(seller, buyer), seller_rating=5, comment="Superb glaze")
    feedback_on(delivered_order(seller, rival), seller_rating=4, comment="Good, slow courier")

    response = client.get(reverse("shop_detail", args=[seller.seller_profile.slug]))

    page = response.content.decode()
    assert response.context["rating"].count == 2
    assert "4.5" in page
    assert "from 2 buyers" in page
    assert "Superb glaze" in page and "Good, slow courier" in page


def test_the_shop_page_never_shows_the_private_platform_comment(client, seller, buyer):
    feedback_on(delivered_order(seller, buyer), platform_comment="Fees are too high")

    page = client.get(reverse("shop_detail", args=[seller.seller_profile.slug])).content.decode()

    assert "Fees are too high" not in page


def test_product_cards_show_the_sellers_rating(client, seller, buyer):
    order = delivered_order(seller, buyer, quantity=2)
    feedback_on(order, seller_rating=4)

    response = client.get(reverse("shop_detail", args=[seller.seller_profile.slug]))

    product = response.context["products"][0]
    assert (product.seller_rating_avg, product.seller_rating_count) == (4, 1)
    assert "seller-rating" in response.content.decode()


def test_the_product_page_shows_reviews_and_offers_the_buyer_to_write_one(client, seller, buyer):
    product = delivered_order(seller, buyer, quantity=2).items.get().product
    client.force_login(buyer)
    assert (
        reverse("review_create", args=[product.pk])
        in client.get(product.get_absolute_url()).content.decode()
    )

    leave_review(
        product=product, by=buyer, rating=5, title="Gorgeous", text="Even better in person."
    )
    page = client.get(product.get_absolute_url()).content.decode()

    assert "Gorgeous" in page
    assert "Verified purchase" in page
    assert reverse("review_create", args=[product.pk]) not in page  # once only


def test_the_product_page_offers_a_message_to_the_seller_but_not_to_the_owner(
    client, seller, buyer
):
    product = delivered_order(seller, buyer, quantity=2).items.get().product
    client.force_login(buyer)
    assert reverse("conversation_start") in client.get(product.get_absolute_url()).content.decode()

    client.force_login(seller)
    assert (
        reverse("conversation_start") not in client.get(product.get_absolute_url()).content.decode()
    )


def test_no_feedback_request_for_a_buyer_who_turned_e_mail_off(seller, buyer):
    buyer.email_notifications = False
    buyer.save(update_fields=["email_notifications"])
    order = delivered_order(seller, buyer)

    assert send_feedback_request_email(order.pk) is False
    assert mail.outbox == []


def test_a_broker_that_is_down_does_not_undo_or_break_a_confirmed_delivery(
    seller, buyer, django_capture_on_commit_callbacks, monkeypatch
):
    def down(*args, **kwargs):
        raise ConnectionError("broker down")

    monkeypatch.setattr("django_q.tasks.async_task", down)
    order = shipped_order(seller, buyer)

    with django_capture_on_commit_callbacks(execute=True):
        confirm_delivery(order=order, by=buyer)

    order.refresh_from_db()
    assert order.status == Order.Status.DELIVERED
