"""The process's hub: one channel-layer subscription per auction group, whatever the number of
sockets watching in this process, and each event's text written to those sockets directly.

`realtime` sends an event to a group once per language, already serialised. Channels' own path
would then hand it to every watching consumer through the channel layer: a message in each
consumer's queue, decoded, a task woken, dispatched, forwarded (about 0.15 ms of CPU per socket
per event, most of a Daphne's time with a thousand sockets on one auction; BENCHMARKS.md,
fan-out). Here the auction consumers of a process register with its hub instead; the hub joins
each group with one channel of its own and, for each event, hands the one text to each socket's
send in turn. Under Daphne it goes one step further: the WebSocket frame is built once per event
and written to each socket's transport (see "Daphne" below).

Bounded memory: what a socket's server holds unsent (Daphne: the transport's write buffer,
which never pushes back) is checked before each event. Past `LIVE_SOCKET_BACKLOG_BYTES` the
socket is skipped, so a stalled reader holds at most that plus one event; the next event it
does get shows a gap in `seq` and its page refetches #bid-panel over HTTP, as after any lost
event. One still stalled `LIVE_SLOW_SOCKET_SECONDS` after it was first skipped is closed
(1013, "try again later"): the page reconnects and reads the state afresh.

Events that arrive between a socket's joining and its `auction_status` are held (a few at
most) and sent after it, so `auction_status` stays the first message on the wire.

One hub per event loop (Daphne has one): realtime's layer is made per loop too.
"""

import asyncio
import functools
import logging
import time
import weakref
from collections.abc import Awaitable, Callable, Hashable
from typing import Any

from autobahn.twisted.websocket import WebSocketServerProtocol
from channels.layers import get_channel_layer
from channels.sessions import InstanceSessionWrapper
from django.conf import settings

logger = logging.getLogger(__name__)

Send = Callable[[dict[str, Any]], Awaitable[None]]

# Events kept for a socket that has not had its `auction_status` yet (a database read): more
# than this and the oldest go (the page sees a gap and resyncs).
MAX_HELD = 8
CLOSE_TRY_AGAIN_LATER = 1013  # RFC 6455


class _Socket:
    __slots__ = ("held", "protocol", "send", "stalled_since")

    def __init__(self, send: Send) -> None:
        self.send = server_send(send)
        self.protocol = daphne_protocol(self.send)
        self.held: list[_Event] | None = []  # None once its status has gone
        self.stalled_since: float | None = None

    def unsent_bytes(self) -> int:
        if self.protocol is not None:
            return _transport_buffer(self.protocol.transport)
        return unsent_bytes(self.send)

    def write_now(self, event: "_Event") -> bool:
        """Write the event's frame to a Daphne socket's transport if Autobahn would have sent
        that same frame at once (see `_writable`); False when `write` must send it."""
        protocol = self.protocol
        if protocol is not None and _writable(protocol, event):
            write_frame(protocol.transport, event.frame)
            return True
        return False

    async def write(self, event: "_Event") -> None:
        if not self.write_now(event):
            await self.send(event.message)


class _Event:
    """One event's text, as an ASGI message and as a finished WebSocket frame (built once)."""

    __slots__ = ("frame", "message", "size")

    def __init__(self, text: str) -> None:
        self.message = {"type": "websocket.send", "text": text}
        payload = text.encode()
        self.size = len(payload)
        self.frame = _text_frame_header(self.size) + payload


class Hub:
    """The auction groups this process's sockets watch, and those sockets."""

    def __init__(self, layer) -> None:
        self.layer = layer
        self.channel: str | None = None
        self.groups: dict[str, dict[Hashable, _Socket]] = {}
        self._started = asyncio.Lock()
        self._task: asyncio.Task | None = None

    async def join(self, group: str, key: Hashable, send: Send) -> None:
        """Have the group's events written to `send` (a consumer's ASGI send), once `ready`."""
        await self._start()
        self.groups.setdefault(group, {})[key] = _Socket(send)
        # Asked for every socket: idempotent (channels-redis subscribes a process to a group
        # once), and it renews the in-memory layer's membership, which expires a day after
        # it was last added.
        await self.layer.group_add(group, self.channel)

    async def ready(self, group: str, key: Hashable) -> None:
        """The socket has its `auction_status`: send what came meanwhile, then every event."""
        socket = self.groups.get(group, {}).get(key)
        if socket is None or socket.held is None:
            return
        held, socket.held = socket.held, None
        for event in held:
            await socket.write(event)

    async def leave(self, group: str, key: Hashable) -> None:
        sockets = self.groups.get(group)
        if sockets is None or sockets.pop(key, None) is None:
            return
        if not sockets:
            del self.groups[group]
            await self.layer.group_discard(group, self.channel)

    async def _start(self) -> None:
        async with self._started:
            if self.channel is None:
                self.channel = await self.layer.new_channel()
                self._task = asyncio.get_running_loop().create_task(self._receive())

    async def _receive(self) -> None:
        while True:
            try:
                event = await self.layer.receive(self.channel)
                await self.deliver(event["group"], event["text"])
            except asyncio.CancelledError:
                raise
            except Exception:
                # A malformed event, or the layer failing: pages resync on the next one.
                logger.exception("the live hub could not deliver an event")
                await asyncio.sleep(0.1)

    async def deliver(self, group: str, text: str) -> None:
        """Write `text` to every socket of `group` in this process, skipping stalled ones."""
        sockets = self.groups.get(group)
        if not sockets:
            return
        event = _Event(text)
        limit = settings.LIVE_SOCKET_BACKLOG_BYTES
        now = time.monotonic()
        # A copy: a socket may leave while a send is awaited.
        for key, socket in list(sockets.items()):
            if socket.held is not None:
                socket.held = [*socket.held[-(MAX_HELD - 1) :], event]
                continue
            if socket.unsent_bytes() > limit:
                await self._stalled(group, key, socket, now)
                continue
            socket.stalled_since = None
            try:
                # Without a coroutine per socket where Daphne's transport takes the frame.
                if not socket.write_now(event):
                    await socket.send(event.message)
            except Exception:
                logger.exception("a live socket refused an event")

    async def _stalled(self, group: str, key: Hashable, socket: _Socket, now: float) -> None:
        if socket.stalled_since is None:
            socket.stalled_since = now
        elif now - socket.stalled_since >= settings.LIVE_SLOW_SOCKET_SECONDS:
            await self.leave(group, key)
            try:
                await socket.send({"type": "websocket.close", "code": CLOSE_TRY_AGAIN_LATER})
            except Exception:
                logger.exception("could not close a stalled live socket")


_hubs: "weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, Hub]" = weakref.WeakKeyDictionary()


def hub() -> Hub:
    """The running loop's hub (made on first use, and again for a new channel layer)."""
    loop = asyncio.get_running_loop()
    layer = get_channel_layer()
    found = _hubs.get(loop)
    if found is None or found.layer is not layer:
        found = _hubs[loop] = Hub(layer)
    return found


def server_send(send: Send) -> Send:
    """The server's own send under Channels' session middleware, which acts only on
    `http.response.start` and adds a step to every socket's every event."""
    while isinstance(getattr(send, "__self__", None), InstanceSessionWrapper):
        send = send.__self__.real_send
    return send


def unsent_bytes(send: Send) -> int:
    """How much a socket's server holds that its client has not taken yet.

    Daphne: its protocol's Twisted transport buffer, which grows while the client does not
    read. The tests' server (asgiref's ApplicationCommunicator, whose send is its output
    queue's `put`) queues sent messages until the test receives them.
    """
    protocol = daphne_protocol(send)
    if protocol is not None:
        return _transport_buffer(protocol.transport)
    queue = getattr(send, "__self__", None)
    if isinstance(queue, asyncio.Queue):
        return sum(len(m.get("text") or "") for m in queue._queue)
    return 0


# --- Daphne ------------------------------------------------------------------------------------
# Daphne's send frames each message for each socket again (Autobahn's sendMessage: the text
# encoded, a header built, the payload copied into the frame), about half of what a socket
# cost per event. An event's frame is the same for every socket, so the hub builds it once and
# writes it to each socket's transport itself, when Autobahn would have sent exactly that
# frame at once: the socket is open, nothing waits in Autobahn's own send queue, no
# compression or fragmentation was agreed, and the payload is within the size limit. Anything
# else goes through Daphne's send as before. This reads Daphne's, Autobahn's and Twisted's
# internals (the send's bound protocol, its state and options, the transport's buffer):
# check it when upgrading them (marketplace/tests/test_live_hub.py runs a real Daphne).


def daphne_protocol(send: Send):
    """The Autobahn protocol of a socket whose send is Daphne's, else None."""
    if not (isinstance(send, functools.partial) and send.args):
        return None
    protocol = send.args[0]
    if isinstance(protocol, WebSocketServerProtocol) and protocol.transport is not None:
        return protocol
    return None


def _writable(protocol, event: _Event) -> bool:
    return (
        protocol.state == protocol.STATE_OPEN
        and not protocol.send_queue
        and protocol._perMessageCompress is None
        and not protocol.autoFragmentSize
        and not 0 < protocol.maxMessagePayloadSize < event.size
    )


def write_frame(transport, frame: bytes) -> None:
    """Write `frame` to a Twisted TCP transport, into the kernel at once when nothing is
    waiting before it (what asyncio's own transports do).

    Twisted's `write` only buffers, registers the socket with the selector and sends on the
    next turn of the loop, then unregisters it: two selector changes and a callback per socket
    per event, a third of a Daphne's time with many sockets (py-spy). What the kernel does not
    take now (a slow reader) goes to Twisted's buffer, which sends it in order as before."""
    if (
        getattr(transport, "TLS", True)
        or not transport.connected
        or transport.disconnecting
        or transport._writeDisconnected
        or _transport_buffer(transport)
    ):
        transport.write(frame)
        return
    try:
        sent = transport.socket.send(frame)
    except (BlockingIOError, InterruptedError):
        sent = 0
    except OSError:
        transport.write(frame)  # Twisted meets the error on its own send and closes
        return
    if sent < len(frame):
        transport.write(frame[sent:])


def _transport_buffer(transport) -> int:
    """Bytes written to a Twisted transport and not yet taken by the kernel."""
    buffered = getattr(transport, "dataBuffer", b"")
    offset = getattr(transport, "offset", 0)
    return len(buffered) - offset + getattr(transport, "_tempDataLen", 0)


def _text_frame_header(size: int) -> bytes:
    """RFC 6455: FIN and opcode 1 (text), then the payload length (a server never masks)."""
    if size <= 125:
        return bytes((0x81, size))
    if size <= 0xFFFF:
        return bytes((0x81, 126)) + size.to_bytes(2, "big")
    return bytes((0x81, 127)) + size.to_bytes(8, "big")
