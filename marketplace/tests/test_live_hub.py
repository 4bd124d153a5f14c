"""The process's live hub (marketplace/hub.py): one subscription per auction group per process,
each event's text written to that process's sockets, stalled sockets bounded."""

import asyncio
import json
import os
import threading

import pytest
from asgiref.sync import async_to_sync
from channels.db import database_sync_to_async
from channels.layers import InMemoryChannelLayer, channel_layers, get_channel_layer
from channels.testing import WebsocketCommunicator
from django.contrib.auth.models import AnonymousUser

from marketplace import hub, realtime
from marketplace.tests.auction_helpers import bid, make_auction
from marketplace.tests.conftest import fail_in_ci_else_skip
from marketplace.tests.test_auction_consumer import TIMEOUT, connect, router, run

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)


@pytest.fixture(autouse=True)
def _fresh_channel_layer():
    channel_layers.backends.clear()  # channels_redis's locks belong to one test's loop
    yield
    channel_layers.backends.clear()


@pytest.fixture
def auction(seller):
    return make_auction(seller, starting_price="1000")


def processes_subscribed(group: str) -> int:
    """How many channels (in-memory) or processes (Redis) the layer sends `group`'s events to."""
    layer = get_channel_layer()
    if isinstance(layer, InMemoryChannelLayer):
        return len(layer.groups.get(group, {}))
    return realtime._subscriber_counts(layer, [group])[0]


def event(group: str, seq: int, prev_seq: int | None = None) -> dict:
    """A group message as realtime sends it (its text cut down to what the tests read)."""
    text = json.dumps(
        {"type": "new_bid", "seq": seq, "prev_seq": seq - 1 if prev_seq is None else prev_seq}
    )
    return {"type": "new_bid", "group": group, "text": text}


async def publish(group: str, reader, *seqs: int) -> None:
    """Send events to `group`, each once the socket that reads has had the one before."""
    for seq in seqs:
        await get_channel_layer().group_send(group, event(group, seq))
        assert json.loads(await reader.receive_from(timeout=TIMEOUT))["seq"] == seq


def test_sockets_of_one_process_share_one_subscription_and_get_one_frame_each(auction, buyer):
    group = realtime.group_name(auction.pk, "en")
    subscribed = database_sync_to_async(processes_subscribed)

    async def scenario():
        watchers = [(await connect(auction))[0] for _ in range(3)]
        try:
            assert len(hub.hub().groups[group]) == 3
            assert await subscribed(group) == 1  # the hub's, not one per socket
            await database_sync_to_async(bid)(auction, buyer, "1000")
            for watcher in watchers:
                frame = await watcher.receive_json_from(timeout=TIMEOUT)
                assert (frame["type"], frame["prev_seq"], frame["seq"]) == ("new_bid", 0, 1)
                assert 'id="bid-panel"' in frame["html"]
            for watcher in watchers:
                assert await watcher.receive_nothing(timeout=0.2)
        finally:
            for watcher in watchers:
                await watcher.disconnect()

    run(scenario)


def test_a_disconnected_socket_is_removed_and_the_last_one_unsubscribes(auction, buyer):
    group = realtime.group_name(auction.pk, "en")
    subscribed = database_sync_to_async(processes_subscribed)

    async def scenario():
        leaving, _ = await connect(auction)
        staying, _ = await connect(auction)
        try:
            await leaving.disconnect()
            assert len(hub.hub().groups[group]) == 1
            await database_sync_to_async(bid)(auction, buyer, "1000")
            assert (await staying.receive_json_from(timeout=TIMEOUT))["seq"] == 1
        finally:
            await staying.disconnect()
        assert group not in hub.hub().groups
        assert await subscribed(group) == 0

    run(scenario)


def test_an_event_during_a_sockets_status_read_follows_the_status(auction, monkeypatch):
    group = realtime.group_name(auction.pk, "en")
    status_message = realtime.status_message

    def status_with_an_event_meanwhile(auction_id):
        message = status_message(auction_id)
        async_to_sync(get_channel_layer().group_send)(group, event(group, 1))
        return message

    monkeypatch.setattr(realtime, "status_message", status_with_an_event_meanwhile)

    async def scenario():
        watcher = WebsocketCommunicator(router, f"/ws/auction/{auction.pk}/")
        watcher.scope["user"] = AnonymousUser()
        assert (await watcher.connect(timeout=TIMEOUT))[0]
        try:
            first = await watcher.receive_json_from(timeout=TIMEOUT)
            second = await watcher.receive_json_from(timeout=TIMEOUT)
        finally:
            await watcher.disconnect()
        assert (first["type"], second["type"], second["seq"]) == ("auction_status", "new_bid", 1)

    run(scenario)


@pytest.fixture
def strict_group(auction, settings) -> str:
    """The auction's group, in a process where any unread event puts a socket behind."""
    settings.LIVE_SOCKET_BACKLOG_BYTES = 1
    return realtime.group_name(auction.pk, "en")


def test_a_socket_that_does_not_read_holds_at_most_one_event_past_the_limit(
    auction, strict_group, settings
):
    settings.LIVE_SLOW_SOCKET_SECONDS = 60

    async def scenario():
        reader, _ = await connect(auction)
        stalled, _ = await connect(auction)
        try:
            await publish(strict_group, reader, 1, 2, 3)
            unread = stalled.output_queue
            assert [json.loads(m["text"])["seq"] for m in unread._queue] == [1]
            # It reads again: the next event reaches it, with the gap its page resyncs on.
            assert json.loads(await stalled.receive_from(timeout=TIMEOUT))["seq"] == 1
            await publish(strict_group, reader, 4)
            late = json.loads(await stalled.receive_from(timeout=TIMEOUT))
            assert (late["prev_seq"], late["seq"]) == (3, 4)
        finally:
            await reader.disconnect()
            await stalled.disconnect()

    run(scenario)


def test_a_socket_stalled_for_too_long_is_closed_to_reconnect(auction, strict_group, settings):
    settings.LIVE_SLOW_SOCKET_SECONDS = 0

    async def scenario():
        reader, _ = await connect(auction)
        stalled, _ = await connect(auction)
        try:
            await publish(
                strict_group, reader, 1, 2, 3
            )  # 1 unread; skipped at 2; behind at 3: closed
            assert len(hub.hub().groups[strict_group]) == 1
            assert json.loads(await stalled.receive_from(timeout=TIMEOUT))["seq"] == 1
            closing = await stalled.receive_output(timeout=TIMEOUT)
            assert closing == {"type": "websocket.close", "code": hub.CLOSE_TRY_AGAIN_LATER}
        finally:
            await reader.disconnect()
            await stalled.disconnect()

    run(scenario)


def test_two_processes_on_redis_each_get_an_event_once_for_all_their_sockets():
    """Two event loops, each with its own Redis connections and hub, stand for two Daphnes."""
    if not os.environ.get("REDIS_URL"):
        fail_in_ci_else_skip("needs Redis (REDIS_URL)")
    group = realtime.group_name(987654, "en")
    received: dict[str, list[str]] = {}

    class Process:
        def __init__(self, name: str) -> None:
            self.loop = asyncio.new_event_loop()
            self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
            self.thread.start()
            self.sockets = [f"{name}-{n}" for n in range(2)]

        def run(self, coroutine):
            return asyncio.run_coroutine_threadsafe(coroutine, self.loop).result(TIMEOUT)

        async def watch(self) -> None:
            for name in self.sockets:
                received[name] = []

                async def send(message, name=name):
                    received[name].append(message["text"])

                await hub.hub().join(group, name, send)
                await hub.hub().ready(group, name)

        async def stop(self) -> None:
            for name in self.sockets:
                await hub.hub().leave(group, name)
            hub.hub()._task.cancel()
            await get_channel_layer().flush()

    processes = [Process("a"), Process("b")]
    try:
        for process in processes:
            process.run(process.watch())
        assert processes_subscribed(group) == 2  # one subscription per process
        async_to_sync(get_channel_layer().group_send)(group, event(group, 1))
        deadline = threading.Event()
        for _ in range(int(TIMEOUT / 0.05)):
            if all(received.values()):
                break
            deadline.wait(0.05)
        deadline.wait(0.2)  # a duplicate would have arrived by now
        assert {
            name: [json.loads(t)["seq"] for t in texts] for name, texts in received.items()
        } == {
            "a-0": [1],
            "a-1": [1],
            "b-0": [1],
            "b-1": [1],
        }
    finally:
        for process in processes:
            process.run(process.stop())
            process.loop.call_soon_threadsafe(process.loop.stop)
            process.thread.join(TIMEOUT)
            process.loop.close()


@pytest.mark.parametrize("size", [0, 125, 126, 65535, 65536, 200_000])
def test_the_prebuilt_frame_is_one_unmasked_text_frame_a_client_reads(size):
    from websockets.frames import Frame, Opcode
    from websockets.streams import StreamReader

    text = "ب" * (size // 2) + "x" * (size % 2)  # multi-byte characters: length in bytes
    reader = StreamReader()
    reader.feed_data(hub._Event(text).frame)
    reader.feed_eof()
    parser = Frame.parse(reader.read_exact, mask=False)
    with pytest.raises(StopIteration) as done:
        next(parser)
    frame = done.value.value
    assert (frame.opcode, frame.fin, frame.data.decode()) == (Opcode.TEXT, True, text)
    assert reader.at_eof()


@pytest.mark.postgres
def test_a_real_daphne_writes_events_that_a_standard_client_reads(seller, buyer, rival):
    """Through Daphne (the hub writes the frames itself) to the `websockets` library."""
    from websockets.asyncio.client import connect as ws_connect

    from benchmarks import _support

    if not os.environ.get("REDIS_URL"):
        fail_in_ci_else_skip("needs Redis (REDIS_URL): the bid is broadcast to another process")
    auction = make_auction(seller, starting_price="1000")

    class Out(list):
        write = list.append

    async def scenario(port: int):
        url = f"ws://127.0.0.1:{port}/ws/auction/{auction.pk}/"
        clients = [await ws_connect(url, origin=f"http://127.0.0.1:{port}") for _ in range(3)]
        try:
            for client in clients:
                assert json.loads(await client.recv())["type"] == "auction_status"
            for bidder, amount, seq in ((buyer, "1000", 1), (rival, "1100", 2)):
                await database_sync_to_async(bid)(auction, bidder, amount)
                for client in clients:
                    frame = json.loads(await asyncio.wait_for(client.recv(), 10))
                    while frame["seq"] < seq:  # the two bids may go out as one event
                        frame = json.loads(await asyncio.wait_for(client.recv(), 10))
                    assert frame["type"] == "new_bid"
                    assert 'id="bid-panel"' in frame["html"]
                assert frame["data"]["current_price"] == f"{amount}.00"
        finally:
            for client in clients:
                await client.close()

    with _support.daphne(Out()) as port:
        async_to_sync(scenario)(port)


def test_a_frame_the_kernel_takes_only_in_part_is_finished_by_twisted_in_order():
    import socket

    class Transport:
        """What write_frame reads of a Twisted TCP transport; `write` is its buffer."""

        TLS = False
        connected, disconnecting, _writeDisconnected = 1, 0, False
        dataBuffer, offset, _tempDataLen = b"", 0, 0

        def __init__(self, sock):
            self.socket = sock
            self.buffered = []

        def write(self, data):
            self.buffered.append(data)
            self._tempDataLen += len(data)

    server, client = socket.socketpair()
    server.setblocking(False)
    try:
        transport = Transport(server)
        small, large = hub._Event("a" * 100).frame, hub._Event("b" * 20_000_000).frame
        hub.write_frame(transport, small)
        assert transport.buffered == []  # straight into the kernel
        hub.write_frame(transport, large)
        assert 0 < sum(map(len, transport.buffered)) < len(large)  # the kernel took a part
        hub.write_frame(transport, small)  # behind the rest, never before it
        assert transport.buffered[-1] == small
        received = bytearray()
        client.settimeout(5)
        while len(received) < len(small) + len(large) - sum(map(len, transport.buffered)):
            received += client.recv(1 << 20)
        assert bytes(received) + b"".join(transport.buffered) == small + large + small
    finally:
        server.close()
        client.close()
