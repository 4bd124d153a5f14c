"""Work that follows a write but must not delay its reply: done once per burst, soon after.

A bid's broadcast, its outbid e-mails and bell counts are queued here after commit instead of
being done on the bid's own path. Each piece of work has a key; work queued under a key that
is still waiting is merged into it (the latest auction state wins, e-mail ids add up), and
each key runs at most once per `LIVE_COALESCE_SECONDS` window. The first change after a quiet
window runs at once.

Where it runs: on the event loop behind the caller (Daphne's, when a consumer or an ASGI view
called the service through `sync_to_async`), as a task that hands the work to a sync thread in
a fresh context: on PostgreSQL a thread of its own, with its own pooled connection, so the
next bid does not wait behind a broadcast on the consumers' one sync thread; on SQLite that
same sync thread (`thread_sensitive`), so the work uses its connection and never a second one.
A plain sync caller (a management command, the qcluster, a test without an event loop) has no
loop to come back to: its work runs at once, as before.

The work's sends (a channel layer's `group_send`, through `on_loop`) are not made from its
thread: the thread hands each key's sends over to the loop without waiting, and the loop
awaits them, in order, while the thread goes on with the next key. A thread that waited on
its loop could wait forever: when the loop stops (Daphne shutting down, `async_to_sync`
returning) it cancels its tasks, and a task asgiref's `async_to_sync` had scheduled for the
thread, cancelled before it started, never answers it, so the loop waits on that thread while
it closes (seen as a test run that hung in CI).
"""

import asyncio
import contextlib
import contextvars
import logging
import os
import time
import weakref
from collections.abc import Awaitable, Callable, Hashable
from typing import Any

from asgiref.sync import SyncToAsync, async_to_sync
from channels.db import database_sync_to_async
from django.conf import settings
from django.db import connection

logger = logging.getLogger(__name__)

Merge = Callable[[Any, Any], Any]
Run = Callable[[Any], None]


def submit(key: Hashable, value: Any, *, run: Run, merge: Merge | None = None) -> None:
    """Run `run(value)` soon, off the caller's path; merge with work waiting under `key`.

    `merge(waiting, new)` returns the value to keep (default: the newer one). Call it from a
    sync thread (an on-commit callback). Never raises into the caller.
    """
    loop = _callers_loop()
    if loop is None:
        _run_one(key, value, run)
        return
    try:
        # A fresh context: the caller's (a request's ThreadSensitiveContext, an outer
        # async_to_sync's thread) may be gone, or busy, by the time the work runs.
        loop.call_soon_threadsafe(
            _add, loop, key, value, run, merge or _newer, context=contextvars.Context()
        )
    except RuntimeError:  # the loop closed meanwhile
        _run_one(key, value, run)


def _newer(_waiting: Any, new: Any) -> Any:
    return new


Send = tuple[Callable[..., Awaitable[Any]], tuple[Any, ...]]

# The sends of the work running now on a thread lent by its loop (None elsewhere).
_sends: contextvars.ContextVar[list[Send] | None] = contextvars.ContextVar(
    "background_sends", default=None
)


def on_loop(func: Callable[..., Awaitable[Any]], *args: Any) -> None:
    """Await `func(*args)` (a channel layer's `group_send`) for sync code.

    In background work the loop awaits it once that piece of work has run, in the order the
    work asked, while its thread goes on (a failure is logged there and ends that work's
    remaining sends). Elsewhere it is awaited here, through `async_to_sync`, and a failure
    raises.
    """
    sends = _sends.get()
    if sends is None:
        async_to_sync(func)(*args)
    else:
        sends.append((func, args))


def _callers_loop() -> asyncio.AbstractEventLoop | None:
    """The running event loop that called this sync thread through `sync_to_async`, if any.

    asgiref keeps it in `SyncToAsync.threadlocal` (how `async_to_sync` finds its way back);
    no public API says it. Check this when upgrading asgiref.
    """
    loop = getattr(SyncToAsync.threadlocal, "main_event_loop", None)
    same_process = getattr(SyncToAsync.threadlocal, "main_event_loop_pid", None) == os.getpid()
    if loop is None or not same_process or loop.is_closed() or not loop.is_running():
        return None
    return loop


class _Batcher:
    """The work waiting on one event loop, drained by one task."""

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self.loop = loop
        self.waiting: dict[Hashable, tuple[Any, Run]] = {}
        self.task: asyncio.Task | None = None
        self.last_run = 0.0

    def add(self, key: Hashable, value: Any, run: Run, merge: Merge) -> None:
        if key in self.waiting:
            value = merge(self.waiting[key][0], value)
        self.waiting[key] = (value, run)
        if self.task is None or self.task.done():
            self.task = self.loop.create_task(self.drain())

    async def drain(self) -> None:
        window = settings.LIVE_COALESCE_SECONDS
        while self.waiting:
            pause = self.last_run + window - time.monotonic()
            if pause > 0:
                await asyncio.sleep(pause)  # changes arriving meanwhile join this batch
            batch, self.waiting = self.waiting, {}
            self.last_run = time.monotonic()
            await _run_and_send(self.loop, batch)


async def _run_and_send(loop: asyncio.AbstractEventLoop, batch: dict) -> None:
    """Run `batch` on a sync thread, and make each key's sends as soon as its work has run
    (a bid's broadcast, submitted first, does not wait for the bell counts after it)."""
    ready: asyncio.Queue[tuple[Hashable, list[Send]] | None] = asyncio.Queue()

    def hand_over(key: Hashable, sends: list[Send]) -> None:  # on the thread: never waits
        with contextlib.suppress(RuntimeError):  # the loop has closed: nobody to send to
            loop.call_soon_threadsafe(ready.put_nowait, (key, sends))

    work = asyncio.ensure_future(_in_sync_thread(_run_batch)(batch, hand_over))
    # After every hand-over: the thread's calls reach the loop in the order they were made.
    work.add_done_callback(lambda _work: ready.put_nowait(None))
    while (handed := await ready.get()) is not None:
        await _send_all(*handed)
    await work


def _in_sync_thread(func: Callable) -> Callable:
    """`func` as a coroutine that closes stale database connections around it.

    On PostgreSQL it runs on a thread of its own (with a connection from the pool), so a
    broadcast never queues in front of the next bid on the consumers' one sync thread. SQLite
    keeps it on that thread: one connection, never a second writer.
    """
    own_thread = connection.vendor != "sqlite"
    return database_sync_to_async(func, thread_sensitive=not own_thread)


_batchers: "weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, _Batcher]" = (
    weakref.WeakKeyDictionary()
)


def _add(loop: asyncio.AbstractEventLoop, key: Hashable, value: Any, run: Run, merge: Merge):
    # On the loop's own thread: only that thread touches its batcher.
    batcher = _batchers.get(loop)
    if batcher is None:
        batcher = _batchers[loop] = _Batcher(loop)
    batcher.add(key, value, run, merge)


async def idle() -> None:
    """Return once the running loop has no work waiting or running (benchmarks, before they
    stop a loop whose last broadcast would otherwise be cancelled)."""
    batcher = _batchers.get(asyncio.get_running_loop())
    while batcher is not None and (batcher.waiting or (batcher.task and not batcher.task.done())):
        await asyncio.sleep(0.01)


def _run_batch(
    batch: dict[Hashable, tuple[Any, Run]], hand_over: Callable[[Hashable, list[Send]], None]
) -> None:
    """Run a batch's work (on a sync thread), handing each key's sends to the loop."""
    for key, (value, run) in batch.items():
        sends: list[Send] = []
        token = _sends.set(sends)
        try:
            _run_one(key, value, run)
        finally:
            _sends.reset(token)
        if sends:
            hand_over(key, sends)


async def _send_all(key: Hashable, sends: list[Send]) -> None:
    try:
        for func, args in sends:
            await func(*args)
    except Exception:
        # As a failed send inside the work: logged, and the work's later sends are dropped.
        logger.exception("background work %r: sending failed", key)


def _run_one(key: Hashable, value: Any, run: Run) -> None:
    try:
        run(value)
    except Exception:
        # The write it follows has committed: log, never fail it (pages resync over HTTP).
        logger.exception("background work %r failed", key)
