"""Issue 12, items 1 and 12: sockets end with their session; floods are limited per user; big
frames, unknown paths and odd webhook bodies are refused properly."""

import hashlib
import hmac
import time

import pytest
from asgiref.sync import async_to_sync
from channels.db import database_sync_to_async
from channels.layers import channel_layers
from channels.routing import URLRouter
from channels.testing import WebsocketCommunicator
from django.test import Client
from django.urls import reverse

from madeinpk.asgi import application
from marketplace import consumers
from marketplace.models import Bid, StripeEvent, User
from marketplace.routing import websocket_urlpatterns
from marketplace.services.messaging import start_conversation
from marketplace.tests.auction_helpers import logged_in_session, make_auction
from marketplace.tests.conftest import PASSWORD
from marketplace.tests.factories.catalog import ProductFactory

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)

router = URLRouter(websocket_urlpatterns)
TIMEOUT = 3
SESSION_ENDED = 4001


@pytest.fixture(autouse=True)
def _fresh_channel_layer():
    channel_layers.backends.clear()
    yield
    channel_layers.backends.clear()


@pytest.fixture
def auction(seller):
    return make_auction(seller, starting_price="1000")


def run(scenario) -> None:
    async_to_sync(scenario)()


async def open_socket(path: str, user=None, session=None) -> WebsocketCommunicator:
    communicator = WebsocketCommunicator(router, path)
    if user is not None:
        communicator.scope["user"] = user
        communicator.scope["session"] = session or await database_sync_to_async(logged_in_session)(
            user
        )
    connected, _code = await communicator.connect(timeout=TIMEOUT)
    assert connected
    return communicator


async def open_auction(auction, user=None, session=None) -> WebsocketCommunicator:
    communicator = await open_socket(f"/ws/auction/{auction.pk}/", user, session)
    assert (await communicator.receive_json_from(timeout=TIMEOUT))["type"] == "auction_status"
    return communicator


async def closed_with(communicator) -> int | None:
    output = await communicator.receive_output(timeout=TIMEOUT)
    assert output["type"] == "websocket.close", output
    return output.get("code")


def logged_in_client(user) -> tuple[Client, object]:
    """A browser logged in as `user`, and its session (as a socket of that browser has it)."""
    from importlib import import_module

    from django.conf import settings

    client = Client()
    client.force_login(user)
    key = client.cookies[settings.SESSION_COOKIE_NAME].value
    return client, import_module(settings.SESSION_ENGINE).SessionStore(key)


@pytest.fixture
def no_close_events(monkeypatch):
    """Lose the "sessions ended" event: the bid must still be refused on its own."""
    monkeypatch.setattr("marketplace.realtime.broadcast_user_sessions_ended", lambda *a, **k: None)


# --- Item 1: sockets end with the session ---------------------------------------------------


def test_logging_out_closes_that_sessions_auction_socket(auction, buyer):
    client, session = logged_in_client(buyer)

    async def scenario():
        socket = await open_auction(auction, buyer, session)
        try:
            await database_sync_to_async(client.post)(reverse("logout"))
            assert await closed_with(socket) == SESSION_ENDED
        finally:
            await socket.disconnect()

    run(scenario)


def test_logging_out_leaves_the_users_other_sessions_open(auction, buyer):
    client, session = logged_in_client(buyer)

    async def scenario():
        here = await open_auction(auction, buyer, session)
        elsewhere = await open_auction(auction, buyer)
        try:
            await database_sync_to_async(client.post)(reverse("logout"))
            assert await closed_with(here) == SESSION_ENDED
            await elsewhere.send_json_to({"type": "ping"})
            assert (await elsewhere.receive_json_from(timeout=TIMEOUT))["code"] == "unknown_type"
        finally:
            await here.disconnect()
            await elsewhere.disconnect()

    run(scenario)


def test_a_socket_opened_before_logout_cannot_bid_even_if_the_close_is_lost(
    auction, buyer, no_close_events
):
    client, session = logged_in_client(buyer)

    async def scenario():
        socket = await open_auction(auction, buyer, session)
        try:
            await database_sync_to_async(client.post)(reverse("logout"))
            await socket.send_json_to({"type": "place_bid", "amount": "1000"})
            reply = await socket.receive_json_from(timeout=TIMEOUT)
            assert (reply["type"], reply["code"]) == ("error", "session_ended")
            assert await closed_with(socket) == SESSION_ENDED
        finally:
            await socket.disconnect()

    run(scenario)
    assert not Bid.objects.exists()


def test_a_password_change_closes_every_socket_of_the_user(auction, buyer, seller):
    conversation = start_conversation(user=buyer, product=ProductFactory(seller=seller))
    client, session = logged_in_client(buyer)

    async def scenario():
        sockets = [
            await open_auction(auction, buyer, session),
            await open_auction(auction, buyer),
            await open_socket(f"/ws/conversations/{conversation.pk}/", buyer, session),
            await open_socket("/ws/me/", buyer, session),
        ]
        watcher = await open_auction(auction)  # someone else: untouched
        try:
            response = await database_sync_to_async(client.post)(
                reverse("password_change"),
                {
                    "old_password": PASSWORD,
                    "new_password1": "a new Passw0rd that is long",
                    "new_password2": "a new Passw0rd that is long",
                },
            )
            assert response.status_code == 302
            for socket in sockets:
                assert await closed_with(socket) == SESSION_ENDED
            assert await watcher.receive_nothing(timeout=0.2)
        finally:
            for socket in [*sockets, watcher]:
                await socket.disconnect()

    run(scenario)


def test_a_socket_of_another_session_cannot_bid_after_a_password_change(
    auction, buyer, no_close_events
):
    async def scenario():
        socket = await open_auction(auction, buyer)

        def change_password():
            user = User.objects.get(pk=buyer.pk)
            user.set_password("stolen-session-is-over-1")
            user.save()

        await database_sync_to_async(change_password)()
        await socket.send_json_to({"type": "place_bid", "amount": "1000"})
        reply = await socket.receive_json_from(timeout=TIMEOUT)
        assert reply["code"] == "session_ended"
        await socket.disconnect()

    run(scenario)
    assert not Bid.objects.exists()


def test_a_password_reset_closes_the_users_sockets(auction, buyer):
    from django.contrib.auth.forms import SetPasswordForm

    async def scenario():
        socket = await open_auction(auction, buyer)

        def reset():
            form = SetPasswordForm(
                User.objects.get(pk=buyer.pk),
                {"new_password1": "reset Passw0rd long", "new_password2": "reset Passw0rd long"},
            )
            assert form.is_valid()
            form.save()

        await database_sync_to_async(reset)()
        assert await closed_with(socket) == SESSION_ENDED
        await socket.disconnect()

    run(scenario)


@pytest.mark.parametrize(
    "end",
    [
        lambda user: user.block("unpaid orders"),
        lambda user: (setattr(user, "is_active", False), user.save()),
    ],
    ids=["block", "deactivate"],
)
def test_blocking_or_deactivating_closes_the_users_sockets(auction, buyer, end):
    async def scenario():
        socket = await open_auction(auction, buyer)
        await database_sync_to_async(lambda: end(User.objects.get(pk=buyer.pk)))()
        assert await closed_with(socket) == SESSION_ENDED
        await socket.disconnect()

    run(scenario)


def test_a_deactivated_users_old_socket_cannot_bid(auction, buyer, no_close_events):
    async def scenario():
        socket = await open_auction(auction, buyer)
        await database_sync_to_async(
            lambda: User.objects.filter(pk=buyer.pk).update(is_active=False)
        )()
        await socket.send_json_to({"type": "place_bid", "amount": "1000"})
        assert (await socket.receive_json_from(timeout=TIMEOUT))["code"] == "session_ended"
        await socket.disconnect()

    run(scenario)


def test_an_expired_sessions_old_socket_cannot_bid(auction, buyer):
    from datetime import timedelta

    from django.contrib.sessions.models import Session
    from django.utils import timezone

    _client, session = logged_in_client(buyer)

    async def scenario():
        socket = await open_auction(auction, buyer, session)
        await database_sync_to_async(
            lambda: Session.objects.filter(session_key=session.session_key).update(
                expire_date=timezone.now() - timedelta(seconds=1)
            )
        )()
        await socket.send_json_to({"type": "place_bid", "amount": "1000"})
        assert (await socket.receive_json_from(timeout=TIMEOUT))["code"] == "session_ended"
        await socket.disconnect()

    run(scenario)
    assert not Bid.objects.exists()


def test_a_session_naming_another_user_cannot_bid_for_this_one(auction, buyer, rival):
    """A socket whose session key now holds another user's login (never through Django's
    login, which gives a new key: the check reads whom the session names)."""
    _client, session = logged_in_client(rival)

    async def scenario():
        socket = await open_auction(auction, buyer, session)
        await socket.send_json_to({"type": "place_bid", "amount": "1000"})
        assert (await socket.receive_json_from(timeout=TIMEOUT))["code"] == "session_ended"
        await socket.disconnect()

    run(scenario)
    assert not Bid.objects.exists()


def test_a_valid_session_still_bids(auction, buyer):
    async def scenario():
        socket = await open_auction(auction, buyer)
        await socket.send_json_to({"type": "place_bid", "amount": "1000"})
        replies = [await socket.receive_json_from(timeout=TIMEOUT) for _ in range(2)]
        assert "bid_accepted" in {reply["type"] for reply in replies}
        await socket.disconnect()

    run(scenario)


# --- Item 12: floods, big frames, unknown paths ----------------------------------------------


def test_the_flood_limit_is_per_user_across_sockets(auction, buyer, settings):
    settings.WS_USER_RATE_LIMIT = 3
    settings.WS_USER_RATE_WINDOW_SECONDS = 3600

    async def scenario():
        sockets = [await open_auction(auction, buyer) for _ in range(2)]
        codes = []
        try:
            for socket in [*sockets, *sockets]:
                await socket.send_json_to({"type": "ping"})
                codes.append((await socket.receive_json_from(timeout=TIMEOUT))["code"])
        finally:
            for socket in sockets:
                await socket.disconnect()
        assert codes == ["unknown_type"] * 3 + ["rate_limited"]

    run(scenario)


def test_the_per_user_limit_fails_open_when_the_cache_is_down(
    auction, buyer, settings, monkeypatch
):
    settings.WS_USER_RATE_LIMIT = 1
    settings.WS_USER_RATE_WINDOW_SECONDS = 3600

    class Down:
        def add(self, *args, **kwargs):
            raise ConnectionError("cache unreachable")

        incr = add

    monkeypatch.setattr("marketplace.flood.cache", Down())

    async def scenario():
        socket = await open_auction(auction, buyer)
        for _ in range(3):
            await socket.send_json_to({"type": "ping"})
            assert (await socket.receive_json_from(timeout=TIMEOUT))["code"] == "unknown_type"
        await socket.disconnect()

    run(scenario)


def test_a_frame_over_the_size_limit_closes_with_1009(auction):
    async def scenario():
        socket = await open_auction(auction)
        await socket.send_to(text_data="x" * (consumers.MAX_MESSAGE_BYTES + 1))
        assert await closed_with(socket) == 1009
        await socket.disconnect()

    run(scenario)


def test_the_size_limit_counts_bytes_not_characters(auction):
    async def scenario():
        socket = await open_auction(auction)
        await socket.send_to(text_data="ب" * (consumers.MAX_MESSAGE_BYTES // 2 + 1))
        assert await closed_with(socket) == 1009
        await socket.disconnect()

    run(scenario)


@pytest.mark.parametrize("path", ["/ws/nope/", "/ws/auction/abc/", "/anything"])
def test_an_unrouted_socket_path_is_refused_not_an_error(path):
    async def scenario():
        communicator = WebsocketCommunicator(
            application, path, headers=[(b"origin", b"http://localhost")]
        )
        connected, _code = await communicator.connect(timeout=TIMEOUT)
        assert not connected
        await communicator.disconnect()

    run(scenario)


# --- Item 12: webhook bodies that are not an event -------------------------------------------

WEBHOOK_SECRET = "whsec_security_tests"


def signed(payload: bytes) -> str:
    timestamp = int(time.time())
    signature = hmac.new(
        WEBHOOK_SECRET.encode(), f"{timestamp}.".encode() + payload, hashlib.sha256
    ).hexdigest()
    return f"t={timestamp},v1={signature}"


@pytest.mark.parametrize(
    "payload",
    [
        b"[]",
        b'"event"',
        b"42",
        b"null",
        b"{}",
        b'{"id": 7, "type": "x"}',
        b'{"id": "e", "type": "x", "data": []}',
    ],
    ids=["list", "string", "number", "null", "empty-object", "wrong-types", "data-not-object"],
)
def test_a_signed_webhook_that_is_not_an_event_object_is_a_400(client, settings, payload):
    settings.STRIPE_WEBHOOK_SECRET = WEBHOOK_SECRET
    response = client.post(
        "/stripe/webhook/",
        data=payload,
        content_type="application/json",
        HTTP_STRIPE_SIGNATURE=signed(payload),
    )
    assert response.status_code == 400
    assert not StripeEvent.objects.exists()
