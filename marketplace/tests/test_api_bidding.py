"""Bidding over the API: the same place_bid, broadcast to WebSocket watchers, rate limited."""

import pytest
from asgiref.sync import async_to_sync
from channels.db import database_sync_to_async
from channels.layers import channel_layers
from channels.testing import WebsocketCommunicator

from madeinpk.asgi import application
from marketplace.models import ApiToken, Bid
from marketplace.tests.api_support import token_client
from marketplace.tests.auction_helpers import bid, make_auction

TIMEOUT = 3
ORIGIN = (b"origin", b"http://127.0.0.1")


@pytest.fixture(autouse=True)
def _fresh_channel_layer():
    channel_layers.backends.clear()
    yield
    channel_layers.backends.clear()


@pytest.fixture
def auction(seller):
    return make_auction(seller, starting_price="1000")


def run(coroutine_function) -> None:
    async_to_sync(coroutine_function)()


def socket(auction, *headers) -> WebsocketCommunicator:
    return WebsocketCommunicator(
        application, f"/ws/auction/{auction.pk}/", headers=[ORIGIN, *headers]
    )


@pytest.mark.django_db(transaction=True)
def test_the_bidding_flow_over_the_api_reaches_a_websocket_watcher(auction):
    client = token_client()
    registered = client.post(
        "/api/auth/register/",
        {
            "username": "zoya",
            "email": "zoya@example.pk",
            "password": "tez-barish-2026",
            "first_name": "Zoya",
        },
        format="json",
    )
    assert registered.status_code == 201
    client.credentials(HTTP_AUTHORIZATION=f"Token {registered.json()['token']}")
    listed = client.get("/api/auctions/").json()["results"]
    assert [a["id"] for a in listed] == [auction.pk]

    async def scenario():
        watcher = socket(auction)
        connected, _ = await watcher.connect(timeout=TIMEOUT)
        try:
            assert connected
            assert (await watcher.receive_json_from(timeout=TIMEOUT))["type"] == "auction_status"
            response = await database_sync_to_async(client.post)(
                f"/api/auctions/{auction.pk}/place_bid/", {"amount": "1000.00"}, format="json"
            )
            assert response.status_code == 201, response.json()
            assert response.json()["leading"] is True
            event = await watcher.receive_json_from(timeout=TIMEOUT)
            assert event["type"] == "new_bid"
            assert (event["data"]["amount"], event["data"]["bidder"]) == ("1000.00", "z***a")
            assert event["seq"] == 1
        finally:
            await watcher.disconnect()

    run(scenario)
    bids = client.get(f"/api/auctions/{auction.pk}/bids/").json()
    assert [(b["bidder"], b["amount"], b["is_winning"]) for b in bids] == [
        ("z***a", "1000.00", True)
    ]


def test_the_bid_list_is_newest_first_with_the_winning_bid_marked(auction, buyer, rival):
    bid(auction, buyer, "1000")
    bid(auction, rival, "1100")
    bids = token_client().get(f"/api/auctions/{auction.pk}/bids/").json()
    assert [(b["amount"], b["is_winning"]) for b in bids] == [
        ("1100.00", True),
        ("1000.00", False),
    ]
    assert bids[0]["time"].endswith("+05:00")
    assert "max_amount" not in bids[0]


def test_a_bid_below_the_minimum_has_the_sockets_code(auction, buyer):
    bid(auction, buyer, "1000")
    response = token_client(buyer).post(
        f"/api/auctions/{auction.pk}/bids/", {"amount": "1050"}, format="json"
    )
    assert response.status_code == 400
    assert response.json()["code"] == "already_leading" or response.json()["code"] == "too_low"
    assert Bid.objects.count() == 1


def test_proxy_bidding_answers_at_once(auction, buyer, rival):
    token_client(buyer).post(
        f"/api/auctions/{auction.pk}/bids/",
        {"amount": "1000", "max_amount": "5000"},
        format="json",
    )
    response = token_client(rival).post(
        f"/api/auctions/{auction.pk}/bids/", {"amount": "1500"}, format="json"
    )
    assert response.status_code == 201
    assert response.json()["leading"] is False  # the proxy answered: outbid at once


def test_a_leader_bidding_again_only_raises_their_maximum(auction, buyer):
    client = token_client(buyer)
    client.post(f"/api/auctions/{auction.pk}/bids/", {"amount": "1000"}, format="json")
    response = client.post(f"/api/auctions/{auction.pk}/bids/", {"amount": "2500"}, format="json")
    assert response.status_code == 201
    body = response.json()
    assert (body["leading"], body["bid_placed"], body["your_maximum"]) == (True, False, "2500.00")
    assert body["current_price"] == "1000.00"


def test_bids_are_rate_limited_like_the_socket(auction, buyer, settings):
    settings.BID_RATE_LIMIT = 5  # the default (conftest lifts it for tests that grow data)
    settings.BID_RATE_WINDOW_SECONDS = 3600  # no window boundary in the middle of the test
    client = token_client(buyer)
    codes = [
        client.post(f"/api/auctions/{auction.pk}/bids/", {"amount": "1"}, format="json")
        for _ in range(settings.BID_RATE_LIMIT + 1)
    ]
    assert [r.status_code for r in codes] == [400] * settings.BID_RATE_LIMIT + [429]
    assert codes[-1].json()["code"] == "rate_limited"
    assert int(codes[-1]["Retry-After"]) >= 1


def test_an_anonymous_bid_is_401_and_a_hidden_auction_404(auction):
    response = token_client().post(
        f"/api/auctions/{auction.pk}/bids/", {"amount": "1000"}, format="json"
    )
    assert response.status_code == 401
    auction.status = auction.Status.CANCELLED
    auction.save(update_fields=["status"])
    assert token_client().get(f"/api/auctions/{auction.pk}/").status_code == 404


def test_my_bids_say_where_i_stand(auction, seller, buyer, rival):
    bid(auction, buyer, "1000")
    other = make_auction(seller, title="Phulkari")
    bid(other, buyer, "1000")
    bid(other, rival, "1100")
    rows = token_client(buyer).get("/api/my-bids/").json()["results"]
    assert sorted((r["auction"]["id"], r["state"]) for r in rows) == [
        (auction.pk, "leading"),
        (other.pk, "outbid"),
    ]


# --- WebSocket handshakes with a token ------------------------------------------------------


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("header", ["Token revoked-or-made-up", "Token", "Token a b"])
def test_a_bad_token_in_the_handshake_is_refused(auction, header):
    async def scenario():
        communicator = socket(auction, (b"authorization", header.encode()))
        connected, code = await communicator.connect(timeout=TIMEOUT)
        try:
            assert not connected
            assert code == 4401
        finally:
            await communicator.disconnect()

    run(scenario)


@pytest.mark.django_db(transaction=True)
def test_a_token_in_the_url_is_ignored(auction, buyer):
    _token, key = ApiToken.issue(user=buyer, name="app")

    async def scenario():
        communicator = WebsocketCommunicator(
            application, f"/ws/auction/{auction.pk}/?token={key}", headers=[ORIGIN]
        )
        connected, _ = await communicator.connect(timeout=TIMEOUT)
        try:
            assert connected
            await communicator.receive_json_from(timeout=TIMEOUT)
            await communicator.send_json_to({"type": "place_bid", "amount": "1000"})
            reply = await communicator.receive_json_from(timeout=TIMEOUT)
            assert reply["code"] == "login_required"
        finally:
            await communicator.disconnect()

    run(scenario)


@pytest.mark.django_db(transaction=True)
def test_the_personal_socket_accepts_a_token_too(buyer):
    _token, key = ApiToken.issue(user=buyer, name="app")

    async def scenario():
        communicator = WebsocketCommunicator(
            application, "/ws/me/", headers=[ORIGIN, (b"authorization", f"Token {key}".encode())]
        )
        connected, _ = await communicator.connect(timeout=TIMEOUT)
        try:
            assert connected
        finally:
            await communicator.disconnect()

    run(scenario)


def _revoke_by_delete(token, key) -> None:
    other = token_client(token.user)  # another of the user's tokens, e.g. from the web page
    assert other.delete(f"/api/tokens/{token.pk}/").status_code == 204


def _revoke_by_logout(token, key) -> None:
    client = token_client()
    client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    assert client.post("/api/logout/").status_code in {200, 204}


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("revoke", [_revoke_by_delete, _revoke_by_logout])
def test_a_websocket_bids_as_its_tokens_user_until_the_token_is_revoked(auction, buyer, revoke):
    token, key = ApiToken.issue(user=buyer, name="app")

    async def scenario():
        communicator = socket(auction, (b"authorization", f"Token {key}".encode()))
        connected, _ = await communicator.connect(timeout=TIMEOUT)
        try:
            assert connected
            await communicator.receive_json_from(timeout=TIMEOUT)
            await communicator.send_json_to({"type": "place_bid", "amount": "1000"})
            replies = [await communicator.receive_json_from(timeout=TIMEOUT) for _ in range(2)]
            assert {r["type"] for r in replies} == {"bid_accepted", "new_bid"}

            await database_sync_to_async(revoke)(token, key)
            assert not await database_sync_to_async(ApiToken.objects.filter(pk=token.pk).exists)()

            await communicator.send_json_to({"type": "place_bid", "amount": "5000"})
            reply = await communicator.receive_json_from(timeout=TIMEOUT)
            assert reply["type"] == "error"
            assert reply["code"] == "session_ended"
            closed = await communicator.receive_output(timeout=TIMEOUT)
            assert closed == {"type": "websocket.close", "code": 4001}
        finally:
            await communicator.disconnect()

    run(scenario)
    assert [(b.bidder, b.amount) for b in Bid.objects.all()] == [(buyer, 1000)]
