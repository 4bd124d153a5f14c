"""`python -m soak` (run by `make soak` through scripts/soak.sh): see soak/__init__.py."""

import os
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

from soak.config import (
    AUCTIONS,
    BIDDERS,
    CONNECTION_BOUND,
    HTMX_BIDDERS,
    LOAD_SECONDS,
    OWN_POOL,
    PAGE_READERS,
    POSTGRES_DOWN_AT,
    POSTGRES_DOWN_FOR,
    WEB_PROCESSES,
)
from soak.state import free_port, log, now, stop

# This process's own Django (fixtures, closing, checks) keeps a small pool of its own.
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "madeinpk.settings")
os.environ["DB_POOL_MAX_SIZE"] = str(OWN_POOL)
os.environ["DB_POOL_MIN_SIZE"] = "1"

import django

django.setup()

from django.conf import settings  # noqa: E402
from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY  # noqa: E402
from django.contrib.sessions.backends.db import SessionStore  # noqa: E402
from django.db import close_old_connections  # noqa: E402
from django.utils import timezone  # noqa: E402

from marketplace.models import AuctionListing  # noqa: E402
from marketplace.tests.auction_helpers import make_auction  # noqa: E402
from marketplace.tests.factories.accounts import SellerFactory, UserFactory  # noqa: E402
from marketplace.tests.factories.orders import address_of, listing_by  # noqa: E402
from soak.checks import check  # noqa: E402
from soak.clients import Watcher, checkout, htmx_bidder, page_reader, ws_bidder  # noqa: E402
from soak.servers import (  # noqa: E402
    BASE_DIR,
    faults,
    procfile_command,
    sample_connections,
    server_env,
    start_process,
    stop_process,
    wait_for_http,
)

# Users are made here with the test hasher (MD5): PBKDF2 would spend seconds on fixtures.
# The servers never check these passwords: the soak writes its sessions directly.
settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


def main() -> int:
    (BASE_DIR / "test-artifacts").mkdir(exist_ok=True)
    log(
        f"connection bound {CONNECTION_BOUND} (max_connections {os.environ['SOAK_MAX_CONNECTIONS']})"
    )
    log("making users, auctions, sessions")
    seller = SellerFactory()
    bidders = [UserFactory() for _ in range(BIDDERS + HTMX_BIDDERS)]
    shopper = UserFactory()
    address_of(shopper)
    fixed = listing_by(seller, quantity=5, title="Soak test khussa")
    auctions = [
        make_auction(
            seller, starting_price="1000", ends_in=timedelta(hours=1), title=f"Soak lot {i}"
        )
        for i in range(AUCTIONS)
    ]
    auction_ids = [a.pk for a in auctions]
    sessions = {user.pk: session_for(user) for user in [*bidders, shopper]}
    product_url = fixed.product.get_absolute_url()
    close_old_connections()

    ports = [free_port() for _ in range(WEB_PROCESSES)]
    bases = [f"http://127.0.0.1:{port}" for port in ports]
    processes = [
        start_process(f"web{i}", procfile_command("web"), server_env(PORT=str(port)))
        for i, port in enumerate(ports)
    ]
    processes.append(start_process("worker", procfile_command("worker"), server_env()))
    try:
        for base in bases:
            wait_for_http(base + "/")
        log(f"Daphne on {', '.join(bases)}; qcluster started")
        return run_load(
            bases, auctions, auction_ids, bidders, sessions, shopper, fixed, product_url
        )
    finally:
        stop.set()
        for process in processes:
            stop_process(process)


def run_load(bases, auctions, auction_ids, bidders, sessions, shopper, fixed, product_url) -> int:
    load_started = now()
    watchers = [Watcher(base, pk) for base in bases for pk in auction_ids]
    threads = [
        threading.Thread(target=sample_connections),
        threading.Thread(target=faults, args=(load_started,)),
    ]
    threads += [threading.Thread(target=w.run) for w in watchers]
    for i, user in enumerate(bidders[:BIDDERS]):
        args = (bases[i % len(bases)], sessions[user.pk], user.pk, auction_ids[i % AUCTIONS])
        threads.append(threading.Thread(target=ws_bidder, args=args))
    for i, user in enumerate(bidders[BIDDERS:]):
        args = (bases[i % len(bases)], sessions[user.pk], user.pk, auction_ids)
        threads.append(threading.Thread(target=htmx_bidder, args=args))
    for i in range(PAGE_READERS):
        threads.append(
            threading.Thread(
                target=page_reader, args=(bases[i % len(bases)], auction_ids, product_url)
            )
        )
    for thread in threads:
        thread.daemon = True
        thread.start()

    # A checkout between the faults, retried until it goes through (one order whatever).
    while now() - load_started < POSTGRES_DOWN_AT + POSTGRES_DOWN_FOR + 5:
        time.sleep(0.2)
    bought = False
    for _ in range(10):
        if checkout(bases[1], sessions[shopper.pk], fixed.pk):
            bought = True
            break
        time.sleep(1)
    while now() - load_started < LOAD_SECONDS:
        time.sleep(0.2)

    # Bidding stops; the auctions end now and close: the qcluster's job (queued through the
    # broker) and this process race to close them, as two workers would.
    stop.set()
    load_ended = now()
    for w in watchers:
        w.give_up = time.monotonic() + 20
    time.sleep(2)  # bids in flight land first
    close_old_connections()
    AuctionListing.objects.filter(pk__in=auction_ids).update(ends_at=timezone.now())
    from django_q.tasks import async_task

    from marketplace import tasks

    async_task("marketplace.tasks.check_auction_endings")
    with ThreadPoolExecutor(1) as executor:
        executor.submit(tasks.check_auction_endings).result()
    deadline = time.monotonic() + 20
    while AuctionListing.objects.filter(pk__in=auction_ids, status="live").exists():
        if time.monotonic() > deadline:
            break
        time.sleep(0.5)
    for w in watchers:
        # As auction.js does after the end: fetch the final panel if no event brought it.
        if not w.ended_event:
            w.refetch()
    for thread in threads:
        thread.join(timeout=25)
    return check(auction_ids, watchers, shopper, bought, load_ended)


def session_for(user) -> str:
    """A logged-in session for `user`, as the login view writes it."""
    store = SessionStore()
    store[SESSION_KEY] = str(user.pk)
    store[BACKEND_SESSION_KEY] = settings.AUTHENTICATION_BACKENDS[0]
    store[HASH_SESSION_KEY] = user.get_session_auth_hash()
    store.create()
    return store.session_key


if __name__ == "__main__":
    sys.exit(main())
