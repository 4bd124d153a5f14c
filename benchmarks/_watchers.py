"""Watcher process for the fan-out benchmark: N WebSocket clients on one asyncio event loop.

Run by benchmarks/fanout.py as a separate process (never imports Django):

    python -m benchmarks._watchers URLS ORIGIN COUNT

URLS is one ws:// URL or several joined by commas (one per Daphne): client i connects to
URL i mod their number. Prints "ready" once every client has its `auction_status`, records,
for each client, the wall-clock arrival time of every `new_bid` with its seq and prev_seq,
and when a line "stop" arrives on stdin (or stdin closes, or, after a line "until N", once
every client has seen seq N or a minute has passed) prints one JSON line {"connected": n,
"arrivals": [[[seq, prev_seq, unix time], ...] per client], "final": [[seq, current_price] of
each client's last event]} and exits.

The clients are as cheap as a client can be, so that the benchmark measures the server: a
thousand clients of the `websockets` library on one loop spent about as much CPU per message
as the Daphne serving them (parsing each frame through its stream reader, its message
assembler, a task woken per message). Here each socket is an asyncio protocol that does the
opening handshake, then reads the server's frames out of its buffer (a server never masks),
takes seq and prev_seq from the start of each text message without decoding the rest, keeps
only the last message whole, and answers pings.
"""

import asyncio
import base64
import json
import os
import re
import resource
import sys
import time
from urllib.parse import urlsplit

CONNECT_CONCURRENCY = 50
# Events are json.dumps'd dicts starting with type and seq: read those without parsing the
# whole message.
NEW_BID = re.compile(rb'\{"type": "new_bid", "seq": (\d+), "prev_seq": (\d+)')
OP_TEXT, OP_CLOSE, OP_PING = 0x1, 0x8, 0x9


class Watcher(asyncio.Protocol):
    def __init__(self, url: str, origin: str, greeted: asyncio.Future) -> None:
        parts = urlsplit(url)
        self.request = (
            f"GET {parts.path} HTTP/1.1\r\nHost: {parts.netloc}\r\nUpgrade: websocket\r\n"
            "Connection: Upgrade\r\nSec-WebSocket-Version: 13\r\n"
            f"Sec-WebSocket-Key: {base64.b64encode(os.urandom(16)).decode()}\r\n"
            f"Origin: {origin}\r\n\r\n"
        ).encode()
        self.greeted = greeted
        self.buffer = bytearray()
        self.open = False
        self.arrivals: list[tuple[int, int, float]] = []
        self.last: bytes | None = None
        self.transport: asyncio.Transport | None = None

    def connection_made(self, transport) -> None:
        self.transport = transport
        transport.write(self.request)

    def connection_lost(self, exc) -> None:
        if not self.greeted.done():
            self.greeted.set_exception(exc or ConnectionError("closed before auction_status"))

    def data_received(self, data: bytes) -> None:
        now = time.time()
        buffer = self.buffer
        buffer += data
        if not self.open:
            end = buffer.find(b"\r\n\r\n")
            if end < 0:
                return
            if b" 101 " not in buffer[: buffer.find(b"\r\n")]:
                self._fail(f"handshake refused: {bytes(buffer[:200])!r}")
                return
            del buffer[: end + 4]
            self.open = True
        start, size = 0, len(buffer)
        while size - start >= 2:
            first, length = buffer[start], buffer[start + 1] & 0x7F
            head = 2
            if length == 126:
                if size - start < 4:
                    break
                length, head = int.from_bytes(buffer[start + 2 : start + 4], "big"), 4
            elif length == 127:
                if size - start < 10:
                    break
                length, head = int.from_bytes(buffer[start + 2 : start + 10], "big"), 10
            end = start + head + length
            if end > size:
                break
            self._frame(first, buffer, start + head, end, now)
            start = end
        del buffer[:start]

    def _frame(self, first: int, buffer: bytearray, start: int, end: int, now: float) -> None:
        opcode = first & 0x0F
        if opcode == OP_TEXT:
            if not first & 0x80:
                self._fail("fragmented message (the server never fragments)")
                return
            match = NEW_BID.match(buffer, start, min(end, start + 80))
            if match:
                self.arrivals.append((int(match[1]), int(match[2]), now))
                self.last = bytes(buffer[start:end])
            elif not self.greeted.done():
                message = json.loads(bytes(buffer[start:end]))
                if message.get("type") == "auction_status":
                    self.greeted.set_result(True)
                else:
                    self._fail(f"first message not auction_status: {message}")
        elif opcode == OP_PING:
            self._send(0xA, bytes(buffer[start:end]))  # pong, or Daphne drops the socket
        elif opcode == OP_CLOSE:
            self.transport.close()

    def _send(self, opcode: int, payload: bytes) -> None:
        # A client masks every frame it sends (RFC 6455); control payloads are <= 125 bytes.
        mask = os.urandom(4)
        masked = bytes(byte ^ mask[i % 4] for i, byte in enumerate(payload))
        self.transport.write(bytes((0x80 | opcode, 0x80 | len(payload))) + mask + masked)

    def _fail(self, reason: str) -> None:
        if not self.greeted.done():
            self.greeted.set_exception(RuntimeError(reason))
        self.transport.close()


async def watch(urls: list[str], origin: str, count: int) -> dict:
    loop = asyncio.get_running_loop()
    gate = asyncio.Semaphore(CONNECT_CONCURRENCY)
    watchers: list[Watcher] = []

    async def one(index: int) -> None:
        url = urls[index % len(urls)]
        parts = urlsplit(url)
        greeted = loop.create_future()
        async with gate:
            _transport, watcher = await loop.create_connection(
                lambda: Watcher(url, origin, greeted), parts.hostname, parts.port
            )
            watchers.append(watcher)
            await asyncio.wait_for(greeted, 120)

    await asyncio.gather(*(one(index) for index in range(count)))
    print("ready", flush=True)
    while True:
        line = await loop.run_in_executor(None, sys.stdin.readline)
        if not line or line.strip() == "stop":
            break
        if line.startswith("until "):
            # Wait (up to a minute) for every client to show seq N, then report.
            wanted, deadline = int(line.split()[1]), time.monotonic() + 60
            while time.monotonic() < deadline and any(
                not w.arrivals or max(seq for seq, _prev, _at in w.arrivals) < wanted
                for w in watchers
            ):
                await asyncio.sleep(0.1)
            break
    final = []
    for watcher in watchers:
        message = (
            json.loads(watcher.last)
            if watcher.last
            else {"seq": 0, "data": {"current_price": None}}
        )
        final.append((message["seq"], message["data"]["current_price"]))
        watcher.transport.abort()
    return {
        "connected": len(watchers),
        "arrivals": [w.arrivals for w in watchers],
        "final": final,
    }


def main() -> None:
    urls, origin, count = sys.argv[1].split(","), sys.argv[2], int(sys.argv[3])
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    wanted = count + 256
    if soft < wanted:
        resource.setrlimit(resource.RLIMIT_NOFILE, (min(wanted, hard), hard))
    result = asyncio.run(watch(urls, origin, count))
    print(json.dumps(result), flush=True)


if __name__ == "__main__":
    main()
