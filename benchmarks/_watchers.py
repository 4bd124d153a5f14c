"""Watcher process for the fan-out benchmark: N WebSocket clients on one asyncio event loop.

Run by benchmarks/fanout.py as a separate process (never imports Django):

    python -m benchmarks._watchers URL ORIGIN COUNT

Connects COUNT clients to URL, prints "ready" once every one has its `auction_status`,
records the wall-clock arrival time of every `new_bid` (by its seq), and when a line "stop"
arrives on stdin (or stdin closes) prints one JSON line {"connected": n, "arrivals":
{seq: [unix times]}} and exits.
"""

import asyncio
import json
import re
import resource
import sys
import time
from collections import defaultdict

CONNECT_CONCURRENCY = 50
# Events are json.dumps'd dicts starting with type and seq: read those without parsing the
# whole message, so the clock is read and the loop moves on to the next socket at once.
NEW_BID = re.compile(r'\{"type": "new_bid", "seq": (\d+)')


async def watch(url: str, origin: str, count: int) -> dict:
    from websockets.asyncio.client import connect

    arrivals: dict[int, list[float]] = defaultdict(list)
    sockets = []
    greeted = 0
    gate = asyncio.Semaphore(CONNECT_CONCURRENCY)

    async def one() -> None:
        nonlocal greeted
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
                arrivals[int(match[1])].append(now)
            else:
                message = json.loads(raw)
                if message.get("type") == "new_bid":
                    arrivals[message["seq"]].append(now)

    tasks = [asyncio.create_task(one()) for _ in range(count)]
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
    for task in tasks:
        task.cancel()
    return {"connected": len(sockets), "arrivals": arrivals}


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
