"""Work after a write (marketplace.background): its sends are made by its loop, not its thread.

A background batch runs on a sync thread lent by the event loop behind the caller. If that
thread waited on the loop for each `group_send` (asgiref's `async_to_sync`), a loop that stops
meanwhile could cancel the send's task before it started, and the thread, and the loop's
shutdown that joins it, would wait forever: a CI run hung so in test_auction_consumer.py.
"""

import asyncio
import logging
import threading

import pytest
from asgiref.sync import async_to_sync, sync_to_async

from marketplace import background, realtime

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(autouse=True)
def _no_window(settings):
    settings.LIVE_COALESCE_SECONDS = 0


def test_a_works_sends_are_made_by_its_loop_after_the_work_without_its_thread_waiting():
    happened = []

    async def send(name):
        happened.append(("sent", name, threading.get_ident()))

    def work(name):
        background.on_loop(send, name)
        background.on_loop(send, name + "-2")
        happened.append(("returned", name, threading.get_ident()))

    async def caller():
        # As a consumer calls a service: from a sync thread of this loop.
        await sync_to_async(background.submit)("key", "event", run=work)
        await background.idle()
        return threading.get_ident()

    loop_thread = async_to_sync(caller)()

    assert [entry[:2] for entry in happened] == [
        ("returned", "event"),
        ("sent", "event"),
        ("sent", "event-2"),
    ]
    assert happened[0][2] != loop_thread
    assert happened[1][2] == happened[2][2] == loop_thread


def test_a_pieces_sends_go_out_while_the_thread_runs_the_next_piece():
    """A bid's broadcast (submitted first) does not wait for the bell counts after it."""
    broadcast_sent = threading.Event()
    seen_by_next = []

    async def send(_name):
        broadcast_sent.set()

    def broadcast(_value):
        background.on_loop(send, "new_bid")

    def bell(_value):
        seen_by_next.append(broadcast_sent.wait(5))

    async def caller():
        def submit_both():
            background.submit("auction", None, run=broadcast)
            background.submit("bell", None, run=bell)

        await sync_to_async(submit_both)()
        await background.idle()

    async_to_sync(caller)()

    assert seen_by_next == [True]


def test_a_failed_send_is_logged_and_drops_only_that_works_later_sends(caplog):
    sent = []

    async def send(name):
        if name == "bad":
            raise ConnectionError("channel layer down")
        sent.append(name)

    def work(names):
        for name in names:
            background.on_loop(send, name)

    async def caller():
        def submit_both():
            background.submit("first", ["bad", "after bad"], run=work)
            background.submit("second", ["fine"], run=work)

        await sync_to_async(submit_both)()
        await background.idle()

    with caplog.at_level(logging.ERROR, logger="marketplace.background"):
        async_to_sync(caller)()

    assert sent == ["fine"]
    assert [record.getMessage() for record in caplog.records] == [
        "background work 'first': sending failed"
    ]


def test_outside_background_work_a_send_is_made_at_once_and_raises():
    async def send(name):
        raise ConnectionError(name)

    with pytest.raises(ConnectionError, match="now"):
        background.on_loop(send, "now")


def test_a_loop_ending_while_work_runs_in_its_thread_still_ends():
    """The shape of the CI hang (asgiref's race itself cannot be timed from a test): the loop
    closes with the work in its thread, and the work's send, asked for while the loop closes or
    after, neither blocks the thread nor raises into the work."""
    started, released, finished = threading.Event(), threading.Event(), threading.Event()

    async def send(_name):
        pass

    def slow_work(name):
        started.set()
        released.wait(5)
        background.on_loop(send, name)
        finished.set()

    async def caller():
        await sync_to_async(background.submit)("slow", "event", run=slow_work)
        while not started.is_set():
            await asyncio.sleep(0.01)
        # Return while the work is in its thread: the loop cancels its tasks and closes.

    def run_and_release():
        threading.Timer(0.2, released.set).start()
        async_to_sync(caller)()

    runner = threading.Thread(target=run_and_release, daemon=True)
    runner.start()
    runner.join(timeout=20)

    assert started.is_set()
    assert not runner.is_alive(), "the loop never finished closing"
    assert finished.is_set()


def test_one_event_loop_runs_what_its_function_left_to_background_work(settings):
    """The closing sweep's loop: work queued by its last changes is done, not cancelled."""
    settings.LIVE_COALESCE_SECONDS = 0.3
    done = []

    def sweep():
        background.submit("bell", 1, run=done.append)
        # Within the window: this one waits for it, after the sweep has returned.
        background.submit("bell", 2, run=done.append)
        return "swept"

    assert realtime.in_one_event_loop(sweep) == "swept"
    assert done[-1] == 2
