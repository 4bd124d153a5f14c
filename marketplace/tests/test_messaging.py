"""Buyer-seller messaging: the service's rules, the pages, who may see what, the live socket."""

import pytest
from asgiref.sync import async_to_sync
from channels.db import database_sync_to_async
from channels.layers import channel_layers
from channels.testing import WebsocketCommunicator
from django.contrib.messages import get_messages
from django.urls import reverse
from django.utils import timezone

from madeinpk.asgi import application
from marketplace.context_processors import navigation_counts
from marketplace.exceptions import MessageRejected
from marketplace.models import Conversation, Message
from marketplace.services.messaging import (
    mark_read,
    send_message,
    start_conversation,
)
from marketplace.tests.factories.catalog import ProductFactory
from marketplace.tests.factories.orders import listing_by, order_for

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _fresh_channel_layer():
    """A new channel layer for every test (as in test_auction_consumer): each socket test runs
    in its own event loop, and channels_redis binds its locks to the loop that made them."""
    channel_layers.backends.clear()
    yield
    channel_layers.backends.clear()


@pytest.fixture
def product(seller):
    return ProductFactory(seller=seller, title="Blue pottery vase")


@pytest.fixture
def conversation(buyer, product):
    return start_conversation(user=buyer, product=product)


# --- start_conversation ---------------------------------------------------------------------


def test_asking_about_a_product_starts_one_conversation_with_its_seller(buyer, seller, product):
    first = start_conversation(user=buyer, product=product)
    again = start_conversation(user=buyer, product=product)

    assert first == again
    assert (first.buyer, first.seller, first.product) == (buyer, seller, product)
    assert Conversation.objects.count() == 1


def test_a_seller_cannot_message_themselves_about_their_own_product(seller, product):
    with pytest.raises(MessageRejected) as rejected:
        start_conversation(user=seller, product=product)

    assert rejected.value.code == "self"


def test_either_party_starts_the_conversation_about_an_order(seller, buyer):
    order = order_for(buyer, listing_by(seller))

    from_seller = start_conversation(user=seller, order=order)
    from_buyer = start_conversation(user=buyer, order=order)

    assert from_seller == from_buyer
    assert (from_buyer.buyer, from_buyer.seller, from_buyer.order) == (buyer, seller, order)


def test_an_outsider_cannot_start_a_conversation_about_someone_elses_order(seller, buyer, outsider):
    order = order_for(buyer, listing_by(seller))

    with pytest.raises(MessageRejected) as rejected:
        start_conversation(user=outsider, order=order)

    assert rejected.value.code == "not_party"


# --- send_message ---------------------------------------------------------------------------


def test_a_message_is_stored_trimmed_and_moves_the_conversation_to_the_top(buyer, conversation):
    message = send_message(conversation=conversation, sender=buyer, body="  Salaam!  ")

    conversation.refresh_from_db()
    assert message.body == "Salaam!"
    assert conversation.last_message_at == message.created_at


@pytest.mark.parametrize("body", ["", "   ", "\n\t \n"])
def test_an_empty_or_whitespace_message_is_refused(buyer, conversation, body):
    with pytest.raises(MessageRejected) as rejected:
        send_message(conversation=conversation, sender=buyer, body=body)

    assert rejected.value.code == "empty"
    assert not Message.objects.exists()


def test_a_message_over_2000_characters_is_refused(buyer, conversation):
    with pytest.raises(MessageRejected) as rejected:
        send_message(conversation=conversation, sender=buyer, body="a" * 2001)

    assert rejected.value.code == "too_long"
    assert "2001" in rejected.value.message


def test_a_message_of_exactly_2000_characters_is_accepted(buyer, conversation):
    assert len(send_message(conversation=conversation, sender=buyer, body="a" * 2000).body) == 2000


def test_someone_outside_the_conversation_cannot_post_in_it(outsider, conversation):
    with pytest.raises(MessageRejected) as rejected:
        send_message(conversation=conversation, sender=outsider, body="Hello")

    assert rejected.value.code == "not_participant"


def test_a_flood_of_messages_is_stopped_by_the_rate_limit(buyer, conversation, settings):
    settings.MESSAGE_RATE_LIMIT = 3
    for n in range(3):
        send_message(conversation=conversation, sender=buyer, body=f"message {n}")

    with pytest.raises(MessageRejected) as rejected:
        send_message(conversation=conversation, sender=buyer, body="one too many")

    assert rejected.value.code == "rate_limited"
    assert Message.objects.count() == 3


def test_the_rate_limit_is_per_user(buyer, seller, conversation, settings):
    settings.MESSAGE_RATE_LIMIT = 1
    send_message(conversation=conversation, sender=buyer, body="Is it still available?")

    assert send_message(conversation=conversation, sender=seller, body="Yes!").pk


def unread_count(user) -> int:
    return navigation_counts(user)["unread_messages"]


def test_unread_counts_only_the_other_partys_unread_messages(buyer, seller, conversation):
    send_message(conversation=conversation, sender=buyer, body="One")
    send_message(conversation=conversation, sender=buyer, body="Two")
    send_message(conversation=conversation, sender=seller, body="Reply")

    assert (unread_count(seller), unread_count(buyer)) == (2, 1)
    mark_read(conversation=conversation, user=seller)
    assert (unread_count(seller), unread_count(buyer)) == (0, 1)


def test_the_message_is_broadcast_after_commit(
    buyer, conversation, django_capture_on_commit_callbacks, monkeypatch
):
    sent = []
    monkeypatch.setattr("marketplace.realtime.broadcast_message", sent.append)

    with django_capture_on_commit_callbacks(execute=True):
        message = send_message(conversation=conversation, sender=buyer, body="Hi")
        assert sent == []

    assert sent == [message.pk]


# --- Pages ----------------------------------------------------------------------------------


def detail_url(conversation: Conversation) -> str:
    return reverse("conversation_detail", args=[conversation.pk])


def test_the_list_is_sorted_by_latest_message_with_unread_badges(client, buyer, seller, product):
    older = start_conversation(user=buyer, product=product)
    newer = start_conversation(user=buyer, product=ProductFactory(seller=seller, title="Rilli"))
    send_message(conversation=older, sender=buyer, body="first")
    send_message(conversation=newer, sender=buyer, body="second")
    send_message(conversation=older, sender=buyer, body="latest")
    client.force_login(seller)

    response = client.get(reverse("conversation_list"))

    page = list(response.context["page"])
    assert page == [older, newer]
    assert (page[0].unread, page[1].unread) == (2, 1)
    assert "latest" in response.content.decode()


def test_the_list_shows_no_one_elses_conversations(client, outsider, conversation, buyer):
    send_message(conversation=conversation, sender=buyer, body="private words")
    client.force_login(outsider)

    response = client.get(reverse("conversation_list"))

    assert list(response.context["page"]) == []
    assert "private words" not in response.content.decode()


def test_the_list_needs_a_login(client):
    response = client.get(reverse("conversation_list"))

    assert response.url.startswith(reverse("login"))


def test_opening_the_thread_marks_the_other_partys_messages_read(
    client, buyer, seller, conversation
):
    send_message(conversation=conversation, sender=buyer, body="Hello")
    client.force_login(seller)

    response = client.get(detail_url(conversation))

    assert response.status_code == 200
    assert "Hello" in response.content.decode()
    assert not Message.objects.filter(read_at__isnull=True).exists()


def test_the_thread_is_a_404_for_a_third_user(client, outsider, conversation, buyer):
    send_message(conversation=conversation, sender=buyer, body="Hello")
    client.force_login(outsider)

    assert client.get(detail_url(conversation)).status_code == 404
    assert client.post(detail_url(conversation), {"body": "hi"}).status_code == 404
    assert Message.objects.count() == 1


def test_the_thread_sends_an_anonymous_visitor_to_log_in(client, conversation):
    assert client.get(detail_url(conversation)).url.startswith(reverse("login"))


def test_the_other_party_reads_the_thread(client, seller, conversation):
    client.force_login(seller)

    assert client.get(detail_url(conversation)).status_code == 200


def test_sending_through_htmx_returns_a_cleared_form_and_appends_the_message(
    client, buyer, conversation
):
    client.force_login(buyer)

    response = client.post(
        detail_url(conversation), {"body": "Kya yeh available hai?"}, HTTP_HX_REQUEST="true"
    )

    body = response.content.decode()
    assert response.status_code == 200
    assert 'id="message-form"' in body
    assert 'hx-swap-oob="beforeend:#message-list"' in body
    assert "Kya yeh available hai?" in body
    assert "<html" not in body


def test_sending_without_javascript_redirects_back_to_the_thread(client, buyer, conversation):
    client.force_login(buyer)

    response = client.post(detail_url(conversation), {"body": "Hello"})

    assert response.status_code == 302
    assert response.url.startswith(detail_url(conversation))
    assert Message.objects.get().body == "Hello"


def test_an_oversized_message_is_refused_in_the_form_and_kept(client, buyer, conversation):
    client.force_login(buyer)
    long_text = "x" * 2500

    response = client.post(detail_url(conversation), {"body": long_text}, HTTP_HX_REQUEST="true")

    body = response.content.decode()
    assert response.status_code == 200
    assert "at most 2000 characters" in body
    assert long_text in body  # nothing the user typed is lost
    assert not Message.objects.exists()


def test_an_empty_message_is_refused_in_the_form(client, buyer, conversation):
    client.force_login(buyer)

    response = client.post(detail_url(conversation), {"body": "   "}, HTTP_HX_REQUEST="true")

    assert response.status_code == 200
    assert "Write a message before sending." in response.content.decode()


def test_the_rate_limit_shows_in_the_form(client, buyer, conversation, settings):
    settings.MESSAGE_RATE_LIMIT = 1
    client.force_login(buyer)
    client.post(detail_url(conversation), {"body": "one"}, HTTP_HX_REQUEST="true")

    response = client.post(detail_url(conversation), {"body": "two"}, HTTP_HX_REQUEST="true")

    assert "too quickly" in response.content.decode()


def test_starting_from_a_product_page_opens_the_thread(client, buyer, product):
    client.force_login(buyer)

    response = client.post(reverse("conversation_start"), {"product": product.pk})

    conversation = Conversation.objects.get()
    assert response.url == detail_url(conversation)


def test_starting_about_your_own_product_is_refused_with_a_message(client, seller, product):
    client.force_login(seller)

    response = client.post(reverse("conversation_start"), {"product": product.pk})

    assert response.url == product.get_absolute_url()
    notices = [str(m) for m in get_messages(response.wsgi_request)]
    assert any("cannot message yourself" in notice for notice in notices)
    assert not Conversation.objects.exists()


def test_starting_from_someone_elses_order_is_a_404(client, seller, buyer, outsider):
    order = order_for(buyer, listing_by(seller))
    client.force_login(outsider)

    assert client.post(reverse("conversation_start"), {"order": order.number}).status_code == 404


@pytest.mark.parametrize("value", ["", "abc", "-1", "99999999999999999999999", "0"])
def test_starting_with_a_bad_product_id_is_a_404(client, buyer, value):
    client.force_login(buyer)

    assert client.post(reverse("conversation_start"), {"product": value}).status_code == 404


def test_starting_needs_a_login_and_a_post(client, buyer, product):
    assert client.post(reverse("conversation_start"), {"product": product.pk}).url.startswith(
        reverse("login")
    )
    client.force_login(buyer)
    assert client.get(reverse("conversation_start")).status_code == 405


def test_the_navigation_shows_the_unread_count(client, buyer, seller, conversation):
    send_message(conversation=conversation, sender=buyer, body="Hello")
    client.force_login(seller)

    response = client.get(reverse("home"))

    assert response.context["unread_messages"] == 1
    assert 'id="nav-unread-messages"' in response.content.decode()


# --- The live socket ------------------------------------------------------------------------
# Through the whole ASGI application: origin check, session cookie, routing, consumer.


def _headers(client, user=None) -> list[tuple[bytes, bytes]]:
    headers = [(b"origin", b"http://localhost")]
    if user is not None:
        client.force_login(user)
        headers.append((b"cookie", f"sessionid={client.cookies['sessionid'].value}".encode()))
    return headers


def _communicator(path: str, headers) -> WebsocketCommunicator:
    return WebsocketCommunicator(application, path, headers=headers)


@pytest.mark.django_db(transaction=True)
def test_a_participant_receives_a_new_message_as_html(client, buyer, seller, product):
    conversation = start_conversation(user=buyer, product=product)
    communicator = _communicator(f"/ws/conversations/{conversation.pk}/", _headers(client, seller))

    async def scenario():
        try:
            connected, _code = await communicator.connect(timeout=3)
            assert connected
            message = await database_sync_to_async(send_message)(
                conversation=conversation, sender=buyer, body="Live hello"
            )
            event = await communicator.receive_json_from(timeout=3)
            assert event["type"] == "message_created"
            assert event["message_id"] == message.pk
            assert "Live hello" in event["html"]
            assert f'id="message-{message.pk}"' in event["html"]
        finally:
            await communicator.disconnect()

    async_to_sync(scenario)()
    # Shown in the open thread: read.
    assert Message.objects.get().read_at is not None


@pytest.mark.django_db(transaction=True)
def test_the_sender_is_pushed_their_own_message_without_marking_it_read(client, buyer, product):
    conversation = start_conversation(user=buyer, product=product)
    communicator = _communicator(f"/ws/conversations/{conversation.pk}/", _headers(client, buyer))

    async def scenario():
        try:
            connected, _code = await communicator.connect(timeout=3)
            assert connected
            await database_sync_to_async(send_message)(
                conversation=conversation, sender=buyer, body="Mine"
            )
            event = await communicator.receive_json_from(timeout=3)
            assert event["sender_id"] == buyer.pk
        finally:
            await communicator.disconnect()

    async_to_sync(scenario)()
    assert Message.objects.get().read_at is None


@pytest.mark.django_db(transaction=True)
def test_an_outsider_cannot_connect_to_a_conversation(client, buyer, outsider, product):
    conversation = start_conversation(user=buyer, product=product)
    communicator = _communicator(
        f"/ws/conversations/{conversation.pk}/", _headers(client, outsider)
    )

    async def scenario():
        try:
            connected, code = await communicator.connect(timeout=3)
            assert not connected
            assert code == 4404
        finally:
            await communicator.disconnect()

    async_to_sync(scenario)()


@pytest.mark.django_db(transaction=True)
def test_an_anonymous_visitor_cannot_connect_to_a_conversation(client, buyer, product):
    conversation = start_conversation(user=buyer, product=product)
    communicator = _communicator(f"/ws/conversations/{conversation.pk}/", _headers(client))

    async def scenario():
        try:
            connected, code = await communicator.connect(timeout=3)
            assert not connected
            assert code == 4401
        finally:
            await communicator.disconnect()

    async_to_sync(scenario)()


@pytest.mark.django_db(transaction=True)
def test_a_message_sent_on_the_socket_is_answered_with_an_error(client, buyer, product):
    conversation = start_conversation(user=buyer, product=product)
    communicator = _communicator(f"/ws/conversations/{conversation.pk}/", _headers(client, buyer))

    async def scenario():
        try:
            connected, _code = await communicator.connect(timeout=3)
            assert connected
            await communicator.send_to(text_data='{"body": "sneaky"}')
            answer = await communicator.receive_json_from(timeout=3)
            assert answer["type"] == "error"
        finally:
            await communicator.disconnect()

    async_to_sync(scenario)()
    assert not Message.objects.exists()


@pytest.mark.django_db(transaction=True)
def test_the_recipient_gets_new_unread_counts_on_the_user_socket(client, buyer, seller, product):
    conversation = start_conversation(user=buyer, product=product)
    communicator = _communicator("/ws/me/", _headers(client, seller))

    async def scenario():
        try:
            connected, _code = await communicator.connect(timeout=3)
            assert connected
            await database_sync_to_async(send_message)(
                conversation=conversation, sender=buyer, body="ping"
            )
            event = await communicator.receive_json_from(timeout=3)
            assert event["type"] == "counts"
            assert event["unread_messages"] == 1
        finally:
            await communicator.disconnect()

    async_to_sync(scenario)()


@pytest.mark.django_db(transaction=True)
def test_counts_are_not_computed_for_a_recipient_with_no_page_open(
    buyer, seller, product, monkeypatch
):
    from marketplace import realtime

    counted = []
    monkeypatch.setattr(realtime, "counts_message", lambda user_id: counted.append(user_id))
    conversation = start_conversation(user=buyer, product=product)

    send_message(conversation=conversation, sender=buyer, body="anyone there?")

    assert counted == []


@pytest.mark.django_db(transaction=True)
def test_an_anonymous_visitor_cannot_open_the_user_socket(client):
    communicator = _communicator("/ws/me/", _headers(client))

    async def scenario():
        try:
            connected, code = await communicator.connect(timeout=3)
            assert (connected, code) == (False, 4401)
        finally:
            await communicator.disconnect()

    async_to_sync(scenario)()


def test_messages_keep_their_time_in_utc_and_show_in_pakistan_time(client, buyer, conversation):
    message = send_message(conversation=conversation, sender=buyer, body="time check")
    client.force_login(buyer)

    page = client.get(detail_url(conversation)).content.decode()

    local = timezone.localtime(message.created_at, timezone=timezone.get_fixed_timezone(300))
    assert local.strftime("%H:%M") in page


def test_the_conversation_list_costs_the_same_few_queries_for_many_threads(
    client, buyer, seller, django_assert_max_num_queries
):
    for n in range(6):
        thread = start_conversation(user=buyer, product=ProductFactory(seller=seller))
        send_message(conversation=thread, sender=buyer, body=f"question {n}")
    client.force_login(seller)

    with django_assert_max_num_queries(8):
        response = client.get(reverse("conversation_list"))

    assert len(response.context["page"]) == 6


def test_a_bidder_asks_the_seller_from_the_auction_page(client, buyer, seller):
    from marketplace.tests.factories.catalog import AuctionProductFactory

    product = AuctionProductFactory(seller=seller)
    client.force_login(buyer)
    assert reverse("conversation_start") in client.get(product.get_absolute_url()).content.decode()

    response = client.post(reverse("conversation_start"), {"product": product.pk})

    assert response.url == detail_url(Conversation.objects.get(product=product))


def test_a_long_thread_pages_back_to_its_earliest_message(
    client, buyer, seller, conversation, monkeypatch
):
    from marketplace.views import messaging as views

    monkeypatch.setattr(views, "THREAD_LENGTH", 3)
    sent = [
        send_message(conversation=conversation, sender=buyer, body=f"message {n}") for n in range(7)
    ]
    client.force_login(seller)

    newest = client.get(detail_url(conversation)).text
    assert [f"message {n}" in newest for n in range(7)] == [False] * 4 + [True] * 3
    assert f"?before={sent[4].pk}" in newest and "Newest messages" not in newest
    assert 'data-socket="' in newest

    middle = client.get(detail_url(conversation), {"before": sent[4].pk}).text
    assert [f"message {n}" in middle for n in range(7)] == [
        False,
        True,
        True,
        True,
        False,
        False,
        False,
    ]
    assert f"?before={sent[1].pk}" in middle and "Newest messages" in middle
    assert 'data-socket="' not in middle  # an earlier page does not append new messages

    first = client.get(detail_url(conversation), {"before": sent[1].pk}).text
    assert "message 0" in first and "message 1" not in first
    assert "Earlier messages" not in first


@pytest.mark.parametrize("before", ["abc", "-5", "0", "99999999999999999999999"])
def test_a_nonsense_page_marker_shows_the_newest_messages(client, buyer, conversation, before):
    send_message(conversation=conversation, sender=buyer, body="latest word")
    client.force_login(buyer)

    response = client.get(detail_url(conversation), {"before": before})

    assert response.status_code == 200
    assert "latest word" in response.text
