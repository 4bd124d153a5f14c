"""Watcher process for the fan-out benchmark: N WebSocket clients on one asyncio event loop.

Run by benchmarks/fanout.py as a separate process (never imports Django):

    python -m benchmarks._watchers URL ORIGIN COUNT

Connects COUNT clients to URL, prints "ready" once every one has its `auction_status`,
records, for each client, the wall-clock arrival time of every `new_bid` with its seq and
prev_seq, and when a line "stop" arrives on stdin (or stdin closes, or, after a line
"until N", once every client has seen seq N or a minute has passed) prints one JSON line
{"connected": n, "arrivals": [[[seq, prev_seq, unix time], ...] per client], "final":
[[seq, current_price] of each client's last event]} and exits.
"""

import asyncio
import json
import re
import resource
import sys
import time

CONNECT_CONCURRENCY = 50
# Events are json.dumps'd dicts starting with type and seq: read those without parsing the
# whole message, so the clock is read and the loop moves on to the next socket at once.
NEW_BID = re.compile(r'\{"type": "new_bid", "seq": (\d+), "prev_seq": (\d+)')


async def watch(url: str, origin: str, count: int) -> dict:
    from websockets.asyncio.client import connect

    arrivals: list[list[tuple[int, int, float]]] = [[] for _ in range(count)]
    last: list[str | None] = [None] * count
    sockets = []
    greeted = 0
    gate = asyncio.Semaphore(CONNECT_CONCURRENCY)

    async def one(index: int) -> None:
        nonlocal greeted
        mine = arrivals[index]
        async with gate:
            ws = await connect(
                url, origin=origin, ping_interval=None, open_timeout=120, compression=None
            )
            sockets.append(ws)
            first = json.loads(await ws.recv())
            assert first["type"] == "auction_status", first
            greeted += 1
        async for raw in ws:
            now = time.time()
            match = NEW_BID.match(raw)
            if match:
                mine.append((int(match[1]), int(match[2]), now))
                last[index] = raw
            else:
                message = json.loads(raw)
                if message.get("type") == "new_bid":
                    mine.append((message["seq"], message["prev_seq"], now))
                    last[index] = raw

    tasks = [asyncio.create_task(one(index)) for index in range(count)]
    while greeted < count:
        failed = [t for t in tasks if t.done() and t.exception()]
        if failed:
            raise failed[0].exception()
        await asyncio.sleep(0.05)
    print("ready", flush=True)
    loop = asyncio.get_running_loop()
    while True:
        line = await loop.run_in_executor(None, sys.stdin.readline)
        if not line or line.strip() == "stop":
            break
        if line.startswith("until "):
            # Wait (up to a minute) for every client to show seq N, then report.
            wanted, deadline = int(line.split()[1]), time.monotonic() + 60
            while time.monotonic() < deadline and any(
                not mine or max(seq for seq, _prev, _at in mine) < wanted for mine in arrivals
            ):
                await asyncio.sleep(0.1)
            break
    for task in tasks:
        task.cancel()
    final = []
    for raw in last:
        message = json.loads(raw) if raw else {"seq": 0, "data": {"current_price": None}}
        final.append((message["seq"], message["data"]["current_price"]))
    return {"connected": len(sockets), "arrivals": arrivals, "final": final}


def main() -> None:
    url, origin, count = sys.argv[1], sys.argv[2], int(sys.argv[3])
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    wanted = count + 256
    if soft < wanted:
        resource.setrlimit(resource.RLIMIT_NOFILE, (min(wanted, hard), hard))
    result = asyncio.run(watch(url, origin, count))
    print(json.dumps(result), flush=True)


if __name__ == "__main__":
    main()
