"""Issue 12, item 15: one bid rate limit per user on every path (form, HTMX, socket, API)."""

import pytest
from asgiref.sync import async_to_sync
from channels.db import database_sync_to_async
from channels.layers import channel_layers
from channels.routing import URLRouter
from channels.testing import WebsocketCommunicator
from django.test import Client
from django.urls import reverse

from marketplace.models import Bid
from marketplace.routing import websocket_urlpatterns
from marketplace.tests.auction_helpers import logged_in_session, make_auction

TIMEOUT = 3


@pytest.fixture
def auction(seller):
    return make_auction(seller, starting_price="1000")


def _bid(client, auction, amount: int, **headers):
    return client.post(reverse("auction_bid", args=[auction.pk]), {"amount": amount}, **headers)


@pytest.mark.django_db
def test_form_bids_are_rate_limited_with_a_clear_message(auction, buyer_client, settings):
    settings.BID_RATE_LIMIT = 2
    settings.BID_RATE_WINDOW_SECONDS = 3600

    for amount in (1000, 1100):
        _bid(buyer_client, auction, amount)
    response = _bid(buyer_client, auction, 5000)

    assert response.status_code == 200
    assert "You are bidding too fast" in response.content.decode()
    assert Bid.objects.filter(auction=auction).count() == 1  # the second was "already leading"


@pytest.mark.django_db
def test_htmx_bids_share_the_limit(auction, buyer_client, rival, settings):
    settings.BID_RATE_LIMIT = 1
    settings.BID_RATE_WINDOW_SECONDS = 3600

    _bid(buyer_client, auction, 1000, HTTP_HX_REQUEST="true")
    refused = _bid(buyer_client, auction, 9000, HTTP_HX_REQUEST="true")
    rival_client = Client()
    rival_client.force_login(rival)
    other = _bid(rival_client, auction, 2000, HTTP_HX_REQUEST="true")

    assert "You are bidding too fast" in refused.content.decode()
    assert "You are bidding too fast" not in other.content.decode()  # per user, not per auction
    assert sorted(Bid.objects.values_list("amount", flat=True)) == [1000, 2000]


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_form_bids_and_socket_bids_count_together(auction, buyer, buyer_client, settings):
    settings.BID_RATE_LIMIT = 1
    settings.BID_RATE_WINDOW_SECONDS = 3600
    channel_layers.backends.clear()
    _bid(buyer_client, auction, 1000)

    async def scenario():
        socket = WebsocketCommunicator(
            URLRouter(websocket_urlpatterns), f"/ws/auction/{auction.pk}/"
        )
        socket.scope["user"] = buyer
        socket.scope["session"] = await database_sync_to_async(logged_in_session)(buyer)
        assert (await socket.connect(timeout=TIMEOUT))[0]
        await socket.receive_json_from(timeout=TIMEOUT)  # auction_status
        await socket.send_json_to({"type": "place_bid", "amount": "9000"})
        reply = await socket.receive_json_from(timeout=TIMEOUT)
        await socket.disconnect()
        return reply

    reply = async_to_sync(scenario)()
    channel_layers.backends.clear()

    assert reply["code"] == "rate_limited"
    assert list(Bid.objects.values_list("amount", flat=True)) == [1000]
