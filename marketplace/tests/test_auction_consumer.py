"""The auction WebSocket protocol: status on connect, broadcasts, errors to the sender only."""

import json
from decimal import Decimal

import pytest
from asgiref.sync import async_to_sync
from channels.db import database_sync_to_async
from channels.layers import channel_layers
from channels.routing import URLRouter
from channels.testing import WebsocketCommunicator
from django.contrib.auth.models import AnonymousUser

from madeinpk.asgi import application
from marketplace import consumers
from marketplace.models import AuctionListing, Bid
from marketplace.routing import websocket_urlpatterns
from marketplace.tests.auction_helpers import bid, logged_in_session, make_auction

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)

router = URLRouter(websocket_urlpatterns)
TIMEOUT = 3


@pytest.fixture(autouse=True)
def _fresh_channel_layer():
    """A new channel layer for every test.

    Each test runs in its own event loop (async_to_sync), and channels_redis keeps asyncio locks
    bound to the loop that made them: a layer reused from an earlier test fails now and then
    with "bound to a different event loop" (seen under REDIS_URL).
    """
    channel_layers.backends.clear()
    yield
    channel_layers.backends.clear()


@pytest.fixture
def auction(seller):
    return make_auction(seller, starting_price="1000")


def run(coroutine_function) -> None:
    async_to_sync(coroutine_function)()


async def connect(auction, user=None) -> tuple[WebsocketCommunicator, dict]:
    communicator = WebsocketCommunicator(router, f"/ws/auction/{auction.pk}/")
    communicator.scope["user"] = user or AnonymousUser()
    if user is not None:
        communicator.scope["session"] = await database_sync_to_async(logged_in_session)(user)
    connected, _ = await communicator.connect(timeout=TIMEOUT)
    assert connected
    status = await communicator.receive_json_from(timeout=TIMEOUT)
    return communicator, status


async def send_and_receive(communicator, payload) -> dict:
    if isinstance(payload, str):
        await communicator.send_to(text_data=payload)
    else:
        await communicator.send_json_to(payload)
    return await communicator.receive_json_from(timeout=TIMEOUT)


def assert_no_private_data(message: dict, *users) -> None:
    text = json.dumps(message)
    for user in users:
        assert user.email not in text
        assert user.username not in text


def test_status_is_sent_on_connect(auction, buyer, rival):
    bid(auction, buyer, "1000")
    bid(auction, rival, "1200")

    async def scenario():
        communicator, status = await connect(auction)
        try:
            assert status["type"] == "auction_status"
            data = status["data"]
            assert data["auction_id"] == auction.pk
            assert data["product_name"] == "Multani blue pottery vase"
            assert data["current_price"] == "1200.00"
            assert data["minimum_next_bid"] == "1300.00"
            assert data["bid_count"] == 2
            assert data["status"] == "live"
            assert data["end_time"].startswith(str(auction.ends_at.year))
            assert [b["bidder"] for b in data["latest_bids"]] == ["r***a", "b***l"]
            assert data["latest_bids"][0]["amount"] == "1200.00"
            assert status["seq"] == 2
            assert_no_private_data(status, buyer, rival)
        finally:
            await communicator.disconnect()

    run(scenario)


def test_a_leader_bidding_again_hears_no_bid_was_placed(auction, buyer):
    bid(auction, buyer, "1000")

    async def scenario():
        communicator, _ = await connect(auction, buyer)
        try:
            reply = await send_and_receive(communicator, {"type": "place_bid", "amount": "1500"})
            assert reply["type"] == "bid_accepted"
            data = reply["data"]
            assert (data["leading"], data["bid_placed"], data["your_maximum"]) == (
                True,
                False,
                "1500.00",
            )
            assert (data["current_price"], data["bid_count"]) == ("1000.00", 1)
            assert await communicator.receive_nothing(timeout=0.3)  # no new_bid: nothing moved
        finally:
            await communicator.disconnect()

    run(scenario)


def test_unknown_auction_is_refused_at_connect(db):
    async def scenario():
        communicator = WebsocketCommunicator(router, "/ws/auction/999999/")
        communicator.scope["user"] = AnonymousUser()
        connected, code = await communicator.connect(timeout=TIMEOUT)
        assert not connected
        assert code == 4404
        await communicator.disconnect()

    run(scenario)


def test_bid_is_broadcast_to_every_watcher(auction, buyer, rival):
    async def scenario():
        bidder, _ = await connect(auction, buyer)
        watcher, _ = await connect(auction)
        try:
            await bidder.send_json_to({"type": "place_bid", "amount": "1500.00"})
            replies = [await bidder.receive_json_from(timeout=TIMEOUT) for _ in range(2)]
            assert {r["type"] for r in replies} == {"bid_accepted", "new_bid"}
            [accepted] = [r for r in replies if r["type"] == "bid_accepted"]
            assert (accepted["data"]["bid_placed"], accepted["data"]["your_maximum"]) == (
                True,
                None,
            )
            event = await watcher.receive_json_from(timeout=TIMEOUT)
            assert event["type"] == "new_bid"
            assert (event["prev_seq"], event["seq"]) == (0, 1)
            data = event["data"]
            assert (data["bidder"], data["amount"], data["current_price"]) == (
                "b***l",
                "1500.00",
                "1500.00",
            )
            assert data["minimum_next_bid"] == "1600.00"
            assert data["bid_count"] == 1
            assert data["end_time"]
            assert data["time"]
            assert 'id="bid-panel"' in event["html"]
            assert "Rs 1,500" in event["html"]
            assert_no_private_data(event, buyer, rival)
        finally:
            await bidder.disconnect()
            await watcher.disconnect()

    run(scenario)
    assert Bid.objects.get().amount == Decimal("1500.00")


def test_proxy_answer_in_one_event_carries_the_previous_sequence(auction, buyer, rival):
    bid(auction, buyer, "1000", max_amount="5000")

    async def scenario():
        watcher, _ = await connect(auction)
        try:
            await database_sync_to_async(bid)(auction, rival, "1500")
            event = await watcher.receive_json_from(timeout=TIMEOUT)
            # Two rows (the challenger's bid and the proxy's answer), one event: no gap.
            assert (event["prev_seq"], event["seq"]) == (1, 3)
            assert event["data"]["current_price"] == "1600.00"
            assert event["data"]["bidder"] == "b***l"
            assert await watcher.receive_nothing(timeout=0.2)
        finally:
            await watcher.disconnect()

    run(scenario)


def test_max_amount_is_accepted_over_the_socket(auction, buyer):
    async def scenario():
        communicator, _ = await connect(auction, buyer)
        try:
            reply = await send_and_receive(
                communicator, {"type": "place_bid", "amount": 1000, "max_amount": "4000"}
            )
            assert reply["type"] in {"bid_accepted", "new_bid"}
        finally:
            await communicator.disconnect()

    run(scenario)
    auction.refresh_from_db()
    assert auction.leading_max_amount == Decimal("4000")


def test_json_numbers_are_read_as_exact_decimals(auction, buyer):
    async def scenario():
        communicator, _ = await connect(auction, buyer)
        try:
            await send_and_receive(communicator, {"type": "place_bid", "amount": 1000.1})
        finally:
            await communicator.disconnect()

    run(scenario)
    assert Bid.objects.get().amount == Decimal("1000.10")


def test_soft_close_sends_auction_extended(seller, buyer, settings):
    from datetime import timedelta

    auction = make_auction(seller, ends_in=timedelta(seconds=30))

    async def scenario():
        watcher, _ = await connect(auction)
        try:
            await database_sync_to_async(bid)(auction, buyer, "1000")
            first = await watcher.receive_json_from(timeout=TIMEOUT)
            second = await watcher.receive_json_from(timeout=TIMEOUT)
            assert [first["type"], second["type"]] == ["new_bid", "auction_extended"]
            assert second["data"]["end_time"] > auction.ends_at.isoformat()
        finally:
            await watcher.disconnect()

    run(scenario)


def test_auction_ended_is_broadcast_with_masked_winner(seller, buyer):
    from datetime import timedelta

    from marketplace.services.closing import close_auction

    auction = make_auction(seller)
    bid(auction, buyer, "1000")

    async def scenario():
        watcher, _ = await connect(auction)
        try:
            await database_sync_to_async(AuctionListing.objects.filter(pk=auction.pk).update)(
                ends_at=auction.starts_at + timedelta(seconds=1)
            )
            await database_sync_to_async(close_auction)(auction_id=auction.pk)
            event = await watcher.receive_json_from(timeout=TIMEOUT)
            assert event["type"] == "auction_ended"
            assert event["data"]["winner"] == "b***l"
            assert event["data"]["final_price"] == "1000.00"
            assert event["data"]["sold"] is True
            assert_no_private_data(event, buyer, seller)
        finally:
            await watcher.disconnect()

    run(scenario)


def test_a_burst_of_bids_goes_out_as_fewer_events_without_a_gap(auction, buyer, rival):
    """Bids committed while a broadcast waits are sent as one event: the latest state, with
    the sequence number before the earliest of them (issue 19)."""

    def three_bids() -> None:
        for user, amount in [(buyer, "1000"), (rival, "1100"), (buyer, "1200")]:
            bid(auction, user, amount)

    async def scenario():
        watcher, _ = await connect(auction)
        try:
            await database_sync_to_async(three_bids)()
            events = [await watcher.receive_json_from(timeout=TIMEOUT)]
            while events[-1]["seq"] < 3:
                events.append(await watcher.receive_json_from(timeout=TIMEOUT))
            assert await watcher.receive_nothing(timeout=0.3)
        finally:
            await watcher.disconnect()
        # The first bid goes out at once and the other two wait behind it, going out as one;
        # on a busy machine (tests on every core) the broadcaster may start only after the
        # second bid committed: those two go out as one and the third waits behind them.
        assert [(e["prev_seq"], e["seq"]) for e in events] in (
            [(0, 3)],
            [(0, 1), (1, 3)],
            [(0, 2), (2, 3)],
        )
        assert events[-1]["data"]["current_price"] == "1200.00"
        assert "Rs 1,200" in events[-1]["html"]
        assert "Rs 1,100" in events[-1]["html"]  # the history as of the latest state

    run(scenario)


def test_the_panel_is_rendered_only_in_the_languages_watched(auction, buyer, monkeypatch):
    from marketplace import realtime

    rendered = []
    render = realtime.render_panels

    def recording(auction, languages=None, **kwargs):
        rendered.append(list(languages))
        return render(auction, languages, **kwargs)

    monkeypatch.setattr(realtime, "render_panels", recording)

    async def scenario():
        watcher = WebsocketCommunicator(
            router, f"/ws/auction/{auction.pk}/", headers=[(b"cookie", b"django_language=ur")]
        )
        watcher.scope["user"] = AnonymousUser()
        assert (await watcher.connect(timeout=TIMEOUT))[0]
        await watcher.receive_json_from(timeout=TIMEOUT)
        try:
            await database_sync_to_async(bid)(auction, buyer, "1000")
            event = await watcher.receive_json_from(timeout=TIMEOUT)
        finally:
            await watcher.disconnect()
        assert event["type"] == "new_bid"
        assert rendered == [["ur"]]
        assert "بولیوں کی تاریخ" in event["html"]  # "Bid history" in Urdu

    run(scenario)


def test_watched_auctions_are_those_with_an_open_socket(seller):
    from marketplace import realtime

    watched, unwatched = make_auction(seller), make_auction(seller)
    watched_auctions = database_sync_to_async(realtime.watched_auctions)

    async def scenario():
        assert await watched_auctions([watched.pk, unwatched.pk]) == set()
        first, _ = await connect(watched)
        second, _ = await connect(watched)
        try:
            assert await watched_auctions([watched.pk, unwatched.pk]) == {watched.pk}
            await first.disconnect()
            assert await watched_auctions([watched.pk]) == {watched.pk}
        finally:
            await second.disconnect()
        assert await watched_auctions([watched.pk, unwatched.pk]) == set()

    run(scenario)


def test_a_bid_on_an_auction_nobody_watches_renders_nothing(auction, buyer, monkeypatch):
    from marketplace import realtime

    rendered = []
    monkeypatch.setattr(
        realtime, "render_panels", lambda a, *rest, **kw: rendered.append(a.pk) or {}
    )

    bid(auction, buyer, "1000")

    assert rendered == []
    assert AuctionListing.objects.get(pk=auction.pk).bid_count == 1


def test_a_layer_that_cannot_tell_counts_every_auction_as_watched(seller, monkeypatch):
    from marketplace import realtime

    monkeypatch.setattr(realtime, "get_channel_layer", lambda: object())

    assert realtime.watched_auctions([3, 1, 3]) == {1, 3}


@pytest.mark.parametrize(
    ("payload", "code"),
    [
        ("{not json", "invalid_json"),
        ('"just a string"', "unknown_type"),
        ({"type": "shout", "amount": "5"}, "unknown_type"),
        ({"amount": "1500"}, "unknown_type"),
        ({"type": "place_bid", "amount": "lots"}, "invalid_amount"),
        ({"type": "place_bid", "amount": "-1500"}, "invalid_amount"),
        ({"type": "place_bid", "amount": 1500.555}, "invalid_amount"),
        ({"type": "place_bid", "amount": 1e400}, "invalid_amount"),
        ({"type": "place_bid", "amount": "NaN"}, "invalid_amount"),
        ({"type": "place_bid", "amount": True}, "invalid_amount"),
        ({"type": "place_bid"}, "invalid_amount"),
        ({"type": "place_bid", "amount": "1500", "max_amount": "x"}, "invalid_amount"),
        ({"type": "place_bid", "amount": "1500", "max_amount": "1200"}, "max_below_amount"),
        ({"type": "place_bid", "amount": "10"}, "too_low"),
        ({"type": "place_bid", "amount": "999999999999"}, "too_high"),
    ],
)
def test_bad_messages_get_an_error_and_the_socket_stays_open(auction, buyer, rival, payload, code):
    async def scenario():
        sender, _ = await connect(auction, buyer)
        other, _ = await connect(auction, rival)
        try:
            reply = await send_and_receive(sender, payload)
            assert reply["type"] == "error"
            assert reply["code"] == code
            assert reply["message"]
            assert "Traceback" not in reply["message"]
            # Only the sender hears about it.
            assert await other.receive_nothing(timeout=0.2)
            # Still open: a good bid goes through afterwards.
            follow = await send_and_receive(sender, {"type": "place_bid", "amount": "1000"})
            assert follow["type"] in {"bid_accepted", "new_bid"}
        finally:
            await sender.disconnect()
            await other.disconnect()

    run(scenario)


def test_anonymous_watcher_cannot_bid(auction):
    async def scenario():
        communicator, _ = await connect(auction)
        try:
            reply = await send_and_receive(communicator, {"type": "place_bid", "amount": "1000"})
            assert (reply["type"], reply["code"]) == ("error", "login_required")
        finally:
            await communicator.disconnect()

    run(scenario)
    assert not Bid.objects.exists()


def test_seller_bidding_over_the_socket_is_refused(auction, seller):
    async def scenario():
        communicator, _ = await connect(auction, seller)
        try:
            reply = await send_and_receive(communicator, {"type": "place_bid", "amount": "1000"})
            assert (reply["type"], reply["code"]) == ("error", "own_auction")
        finally:
            await communicator.disconnect()

    run(scenario)


def test_user_blocked_after_connecting_is_refused(auction, buyer, monkeypatch):
    # Blocking also closes the user's sockets (test_security_websockets); without that event
    # the bid itself is still refused.
    monkeypatch.setattr("marketplace.realtime.broadcast_user_sessions_ended", lambda *a, **k: None)

    async def scenario():
        communicator, _ = await connect(auction, buyer)
        try:
            await database_sync_to_async(lambda: type(buyer).objects.get(pk=buyer.pk).block("x"))()
            reply = await send_and_receive(communicator, {"type": "place_bid", "amount": "1000"})
            assert (reply["type"], reply["code"]) == ("error", "blocked")
        finally:
            await communicator.disconnect()

    run(scenario)


def test_flood_is_rate_limited_without_closing(auction, buyer, monkeypatch):
    monkeypatch.setattr(consumers, "RATE_LIMIT", 3)

    async def scenario():
        communicator, _ = await connect(auction, buyer)
        try:
            codes = []
            for _ in range(6):
                reply = await send_and_receive(communicator, {"type": "ping"})
                codes.append(reply["code"])
            assert codes[:3] == ["unknown_type"] * 3
            assert "rate_limited" in codes[3:]
        finally:
            await communicator.disconnect()

    run(scenario)


def test_unexpected_failure_is_a_generic_error_not_a_traceback(auction, buyer, monkeypatch):
    def broken(**kwargs):
        raise RuntimeError("database exploded at /srv/secret/path")

    monkeypatch.setattr(consumers, "place_bid", broken)

    async def scenario():
        communicator, _ = await connect(auction, buyer)
        try:
            reply = await send_and_receive(communicator, {"type": "place_bid", "amount": "1000"})
            assert (reply["type"], reply["code"]) == ("error", "server_error")
            assert "secret" not in reply["message"]
        finally:
            await communicator.disconnect()

    run(scenario)


def test_full_asgi_stack_lets_anyone_watch(auction):
    async def scenario():
        communicator = WebsocketCommunicator(
            application, f"/ws/auction/{auction.pk}/", headers=[(b"origin", b"http://127.0.0.1")]
        )
        connected, _ = await communicator.connect(timeout=TIMEOUT)
        try:
            assert connected
            status = await communicator.receive_json_from(timeout=TIMEOUT)
            assert status["type"] == "auction_status"
        finally:
            await communicator.disconnect()

    run(scenario)


def test_full_asgi_stack_bids_as_the_session_user(auction, buyer):
    from django.conf import settings
    from django.test import Client

    client = Client()
    client.force_login(buyer)
    cookie = f"{settings.SESSION_COOKIE_NAME}={client.cookies[settings.SESSION_COOKIE_NAME].value}"

    async def scenario():
        communicator = WebsocketCommunicator(
            application,
            f"/ws/auction/{auction.pk}/",
            headers=[(b"origin", b"http://127.0.0.1"), (b"cookie", cookie.encode())],
        )
        connected, _ = await communicator.connect(timeout=TIMEOUT)
        try:
            assert connected
            await communicator.receive_json_from(timeout=TIMEOUT)
            reply = await send_and_receive(communicator, {"type": "place_bid", "amount": "1000"})
            assert reply["type"] in {"bid_accepted", "new_bid"}
        finally:
            await communicator.disconnect()

    run(scenario)
    assert Bid.objects.get().bidder == buyer


def test_full_asgi_stack_refuses_foreign_origins(auction):
    async def scenario():
        communicator = WebsocketCommunicator(
            application, f"/ws/auction/{auction.pk}/", headers=[(b"origin", b"http://evil.example")]
        )
        connected, _ = await communicator.connect(timeout=TIMEOUT)
        assert not connected
        await communicator.disconnect()

    run(scenario)


def test_database_fault_says_the_bid_was_not_placed(auction, buyer, monkeypatch):
    from django.db import OperationalError

    def database_gone(*args, **kwargs):
        raise OperationalError("server closed the connection unexpectedly")

    async def scenario():
        communicator, _ = await connect(auction, buyer)
        try:
            # Fails inside place_bid's transaction, after the bid row was inserted.
            monkeypatch.setattr(
                "marketplace.services.bidding._save_with_display_price", database_gone
            )
            reply = await send_and_receive(communicator, {"type": "place_bid", "amount": "1000"})
            assert (reply["type"], reply["code"]) == ("error", "bid_not_placed")
            assert reply["message"].startswith("Your bid was not placed")
        finally:
            await communicator.disconnect()

    run(scenario)
    assert not Bid.objects.filter(auction=auction).exists()


def test_broadcast_fault_still_reports_the_bid_placed(auction, buyer, monkeypatch):
    from marketplace import realtime

    class BrokenLayer:
        async def group_send(self, group, message):
            raise ConnectionError("Redis is down")

    async def scenario():
        communicator, _ = await connect(auction, buyer)
        try:
            monkeypatch.setattr(realtime, "get_channel_layer", BrokenLayer)
            reply = await send_and_receive(communicator, {"type": "place_bid", "amount": "1000"})
            assert reply["type"] == "bid_accepted"
        finally:
            await communicator.disconnect()

    run(scenario)
    assert Bid.objects.filter(auction=auction, bidder=buyer).count() == 1
