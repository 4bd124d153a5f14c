"""Soak test: the site as deployed, under load, through a Redis and a PostgreSQL restart.

Run by `make soak` (scripts/soak.sh starts PostgreSQL with a low max_connections and Redis,
migrates and collects static files, then runs this with DATABASE_URL and REDIS_URL set).
This script starts two Daphne processes and a qcluster from the Procfile's own `web` and
`worker` lines, drives a bounded mix of page views, HTMX fragments, form posts, WebSocket bids
from many sockets across both processes and a checkout, restarts Redis once and PostgreSQL
once, then closes the auctions and checks:

- no 5xx outside the fault windows, and inside them only the site's own error page
  ("Something went wrong on our side") or a WebSocket error that says what happened;
- PostgreSQL connections held never exceed the configured bound (pg_stat_activity sampled);
- every accepted bid is in the database and on every watcher's final panel;
- exactly one order per won auction.

Figures go to test-artifacts/soak.json and BENCHMARKS.md ("Soak").
"""

import json
import os
import random
import re
import shlex
import signal
import socket
import statistics
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from pathlib import Path

import psycopg
import requests
from websockets.sync.client import connect as ws_connect

BASE_DIR = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(BASE_DIR))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "madeinpk.settings")

LOAD_SECONDS = int(os.environ.get("SOAK_SECONDS", "45"))
REDIS_DOWN_AT, REDIS_DOWN_FOR = 10, 3
POSTGRES_DOWN_AT, POSTGRES_DOWN_FOR = 25, 3
# After a fault ends, requests already queued (and sockets reconnecting with backoff) may
# still see it for a moment.
FAULT_GRACE = 6
WEB_PROCESSES = 2
WEB_POOL = 8  # DB_POOL_MAX_SIZE of each Daphne
Q_WORKERS = 2
# Connections the bound allows: each Daphne's pool, one per qcluster process (no pool:
# sentinel, monitor, pusher and the workers), this script's own pool and its sampler.
QCLUSTER_PROCESSES = 3 + Q_WORKERS
OWN_POOL = 2
CONNECTION_BOUND = WEB_PROCESSES * WEB_POOL + QCLUSTER_PROCESSES + OWN_POOL + 1
AUCTIONS = 4
BIDDERS = 16
HTMX_BIDDERS = 2
PAGE_READERS = 3
ERROR_PAGE_TEXT = "Something went wrong on our side"
TIMEOUT = 20
# The bid form's own "accepted" note (the panel's "you are leading" is another alert-success).
ACCEPTED_NOTE = 'class="alert alert-success py-2" role="status"'

os.environ["DB_POOL_MAX_SIZE"] = str(OWN_POOL)
os.environ["DB_POOL_MIN_SIZE"] = "1"

import django  # noqa: E402

django.setup()

from django.conf import settings  # noqa: E402

# Users are made here with the test hasher (MD5): PBKDF2 would spend seconds on fixtures.
# The servers never check these passwords: the soak writes its sessions directly.
settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY  # noqa: E402
from django.contrib.sessions.backends.db import SessionStore  # noqa: E402
from django.db import close_old_connections  # noqa: E402
from django.utils import timezone  # noqa: E402

from marketplace.models import AuctionListing, Bid, Order  # noqa: E402
from marketplace.tests.auction_helpers import make_auction  # noqa: E402
from marketplace.tests.factories import SellerFactory, UserFactory  # noqa: E402
from marketplace.tests.factories_orders import address_of, listing_by  # noqa: E402

STARTED = time.monotonic()


def now() -> float:
    return time.monotonic() - STARTED


def log(message: str) -> None:
    print(f"[soak {now():6.1f}s] {message}", flush=True)


class Record:
    """Everything observed, appended from many threads."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.http: list[tuple[float, str, int, str]] = []  # (t, kind, status, note)
        self.ws_errors: list[tuple[float, str, str]] = []  # (t, code, message)
        self.ws_connect_failures: list[tuple[float, str]] = []
        self.accepted: list[tuple[int, int, str]] = []  # (auction, bidder, amount)
        self.bid_latency: list[tuple[float, float]] = []  # (t, seconds)
        self.connections: list[tuple[float, int]] = []
        self.faults: list[tuple[str, float, float]] = []

    def add(self, name: str, item) -> None:
        with self.lock:
            getattr(self, name).append(item)


record = Record()
stop = threading.Event()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


# --- Servers ----------------------------------------------------------------------------------


def procfile_command(name: str) -> str:
    for line in (BASE_DIR / "Procfile").read_text().splitlines():
        if line.startswith(f"{name}:"):
            return line.split(":", 1)[1].strip()
    raise SystemExit(f"Procfile has no {name} line")


def start_process(name: str, command: str, env: dict[str, str]) -> subprocess.Popen:
    log_file = open(BASE_DIR / "test-artifacts" / f"soak-{name}.log", "w")
    return subprocess.Popen(
        ["bash", "-c", command],
        cwd=BASE_DIR,
        env=env,
        stdout=log_file,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )


def server_env(**extra: str) -> dict[str, str]:
    env = dict(os.environ)
    env.update(
        PATH=f"{BASE_DIR / '.venv' / 'bin'}:{env['PATH']}",
        DEBUG="0",
        SECURE_SSL_REDIRECT="0",
        SESSION_COOKIE_SECURE="0",
        CSRF_COOKIE_SECURE="0",
        SECURE_HSTS_SECONDS="0",
        ALLOWED_HOSTS="127.0.0.1,localhost",
        # Bids near the end must not push it back: the soak decides when auctions end.
        AUCTION_SOFT_CLOSE_WINDOW_SECONDS="0",
        Q_WORKERS=str(Q_WORKERS),
        LOG_LEVEL="WARNING",
    )
    env.pop("DB_POOL_MIN_SIZE", None)
    env["DB_POOL_MAX_SIZE"] = str(WEB_POOL)
    env.update(extra)
    return env


def wait_for_http(url: str, seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            if requests.get(url, timeout=2).status_code < 500:
                return
        except requests.RequestException:
            pass
        time.sleep(0.3)
    raise SystemExit(f"{url} did not answer")


def stop_process(process: subprocess.Popen) -> None:
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)


def as_postgres(*command: str) -> None:
    if os.getuid() == 0:
        command = ("su", "postgres", "-s", "/bin/sh", "-c", shlex.join(command))
    subprocess.run(command, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def restart_redis() -> None:
    port = settings.REDIS_URL.rsplit(":", 1)[1].split("/")[0]
    start = now()
    subprocess.run(["redis-cli", "-p", port, "shutdown", "nosave"], capture_output=True)
    log("Redis stopped")
    time.sleep(REDIS_DOWN_FOR)
    workdir = os.environ["SOAK_REDIS_DIR"]
    subprocess.run(
        [
            *("redis-server", "--bind", "127.0.0.1", "--port", port, "--daemonize", "yes"),
            *("--save", "", "--appendonly", "no", "--dir", workdir),
            *("--pidfile", f"{workdir}/redis.pid", "--logfile", f"{workdir}/redis.log"),
        ],
        check=True,
    )
    while subprocess.run(["redis-cli", "-p", port, "ping"], capture_output=True).returncode:
        time.sleep(0.05)
    record.add("faults", ("redis", start, now()))
    log("Redis back")


def restart_postgres() -> None:
    pg_bin, data = os.environ["PG_BIN"], os.environ["SOAK_PG_DATA"]
    start = now()
    as_postgres(f"{pg_bin}/pg_ctl", "-D", data, "-m", "fast", "-w", "stop")
    log("PostgreSQL stopped")
    time.sleep(POSTGRES_DOWN_FOR)
    # Started again with the options scripts/services.sh gave it (same port, same socket dir).
    options = os.environ["SOAK_PG_OPTS"]
    as_postgres(
        f"{pg_bin}/pg_ctl", "-D", data, "-l", f"{data}/../log", "-w", "-o", options, "start"
    )
    record.add("faults", ("postgres", start, now()))
    log("PostgreSQL back")


def faults() -> None:
    plan = [(REDIS_DOWN_AT, restart_redis), (POSTGRES_DOWN_AT, restart_postgres)]
    for at, action in plan:
        while now() - LOAD_STARTED < at:
            if stop.wait(0.1):
                return
        action()


def sample_connections() -> None:
    """Client connections to the soak database, every 0.2 s, through one connection of its own."""
    conn = None
    while not stop.is_set():
        try:
            if conn is None or conn.closed:
                conn = psycopg.connect(
                    os.environ["DATABASE_URL"], autocommit=True, connect_timeout=2
                )
            count = conn.execute(
                "SELECT count(*) FROM pg_stat_activity"
                " WHERE backend_type = 'client backend' AND datname = current_database()"
            ).fetchone()[0]
            record.add("connections", (now(), count))
        except psycopg.Error:
            conn = None
        stop.wait(0.2)


# --- Clients ------------------------------------------------------------------------------------


def session_for(user) -> str:
    """A logged-in session for `user`, as the login view writes it."""
    store = SessionStore()
    store[SESSION_KEY] = str(user.pk)
    store[BACKEND_SESSION_KEY] = settings.AUTHENTICATION_BACKENDS[0]
    store[HASH_SESSION_KEY] = user.get_session_auth_hash()
    store.create()
    return store.session_key


def http(session: requests.Session, method: str, url: str, kind: str, **kwargs):
    try:
        response = session.request(method, url, timeout=TIMEOUT, allow_redirects=False, **kwargs)
    except requests.RequestException as error:
        record.add("http", (now(), kind, 0, type(error).__name__))
        return None
    note = ""
    if response.status_code >= 500:
        note = "styled" if ERROR_PAGE_TEXT in response.text else response.text[:200]
    record.add("http", (now(), kind, response.status_code, note))
    return response


def csrf_token(session: requests.Session, base: str) -> str | None:
    http(session, "GET", f"{base}/", "page")
    return session.cookies.get("csrftoken")


def page_reader(base: str, auction_ids: list[int], product_url: str) -> None:
    session = requests.Session()
    urls = [
        ("/", "page", {}),
        ("/auctions/", "page", {}),
        (product_url, "page", {}),
        ("/products/", "page", {}),
    ]
    urls += [(f"/auctions/{pk}/", "page", {}) for pk in auction_ids]
    urls += [(f"/auctions/{pk}/panel/", "htmx", {"HX-Request": "true"}) for pk in auction_ids]
    while not stop.is_set():
        path, kind, headers = random.choice(urls)
        http(session, "GET", base + path, kind, headers=headers)
        stop.wait(random.uniform(0.05, 0.2))


def htmx_bidder(base: str, session_key: str, user_id: int, auction_ids: list[int]) -> None:
    """Bids through the page's form (HTMX post), like a visitor without the socket."""
    session = requests.Session()
    session.cookies.set("sessionid", session_key)
    token = None
    while not stop.is_set():
        token = token or csrf_token(session, base)
        pk = random.choice(auction_ids)
        panel = http(
            session, "GET", f"{base}/auctions/{pk}/panel/", "htmx", headers={"HX-Request": "true"}
        )
        match = panel is not None and re.search(r'data-minimum="([0-9.]+)"', panel.text)
        if match and token:
            amount = match.group(1)
            response = http(
                session,
                "POST",
                f"{base}/auctions/{pk}/bid/",
                "form",
                data={"amount": amount, "csrfmiddlewaretoken": token},
                headers={"HX-Request": "true", "X-CSRFToken": token, "Referer": base + "/"},
            )
            if response is not None and ACCEPTED_NOTE in response.text:
                record.add("accepted", (pk, user_id, amount))
        stop.wait(random.uniform(0.3, 0.8))


def ws_url(base: str, auction_id: int) -> str:
    return base.replace("http://", "ws://") + f"/ws/auction/{auction_id}/"


def open_socket(base: str, auction_id: int, session_key: str | None):
    headers = {"Origin": base}
    if session_key:
        headers["Cookie"] = f"sessionid={session_key}"
    return ws_connect(ws_url(base, auction_id), additional_headers=headers, open_timeout=10)


def ws_bidder(base: str, session_key: str, user_id: int, auction_id: int) -> None:
    """One socket per bidder: bid the minimum every ~0.6 s, reconnecting after any drop."""
    minimum = None
    attempts = 0
    while not stop.is_set():
        try:
            with open_socket(base, auction_id, session_key) as ws:
                attempts = 0
                status = json.loads(ws.recv(timeout=10))
                minimum = status["data"]["minimum_next_bid"]
                while not stop.is_set():
                    sent = time.monotonic()
                    ws.send(json.dumps({"type": "place_bid", "amount": minimum}))
                    while True:
                        message = json.loads(ws.recv(timeout=TIMEOUT))
                        data = message.get("data", {})
                        if message["type"] in ("new_bid", "auction_status", "auction_extended"):
                            minimum = data.get("minimum_next_bid", minimum)
                            continue
                        break
                    if message["type"] == "bid_accepted":
                        record.add("accepted", (auction_id, user_id, minimum))
                        record.add("bid_latency", (now(), time.monotonic() - sent))
                        minimum = data["minimum_next_bid"]
                    elif message["type"] == "error":
                        if message["code"] not in ("too_low", "already_leading"):
                            record.add("ws_errors", (now(), message["code"], message["message"]))
                        if message["code"] == "too_low":  # "Bid at least Rs 12,500."
                            found = re.search(r"[\d,]+(?:\.\d+)?", message["message"])
                            minimum = found.group(0).replace(",", "") if found else minimum
                    stop.wait(random.uniform(0.4, 0.8))
        except Exception as error:  # any drop: note it, back off, reconnect
            if stop.is_set():
                return
            record.add("ws_connect_failures", (now(), type(error).__name__))
            attempts += 1
            stop.wait(min(4, 0.5 * 2**attempts) * random.uniform(0.5, 1))


class Watcher:
    """An anonymous page on one auction: applies events like auction.js, resyncs on gaps."""

    def __init__(self, base: str, auction_id: int) -> None:
        self.base, self.auction_id = base, auction_id
        self.seq = -1
        self.html = ""
        self.ended_event = False
        self.events = 0  # live events received (not counting refetches)
        self.events_after_redis_restart = 0
        self.session = requests.Session()

    def refetch(self) -> None:
        response = http(
            self.session,
            "GET",
            f"{self.base}/auctions/{self.auction_id}/panel/",
            "htmx",
            headers={"HX-Request": "true"},
        )
        if response is not None and response.status_code == 200:
            self.html = response.text
            self.seq = int(re.search(r'data-seq="(\d+)"', response.text).group(1))

    def run(self) -> None:
        attempts = 0
        while not stop.is_set() or not self.ended_event:
            if stop.is_set() and time.monotonic() > self.give_up:
                return
            try:
                with open_socket(self.base, self.auction_id, None) as ws:
                    attempts = 0
                    while True:
                        message = json.loads(ws.recv(timeout=1 if stop.is_set() else 30))
                        kind = message["type"]
                        if kind != "auction_status":
                            self.events += 1
                            if any(name == "redis" for name, _s, _e in record.faults):
                                self.events_after_redis_restart += 1
                        if kind == "auction_status":
                            self.refetch()  # first contact or a reconnect
                        elif message["prev_seq"] > self.seq:
                            self.refetch()  # a gap
                        elif message["seq"] >= self.seq:
                            self.html, self.seq = message["html"], message["seq"]
                        if kind == "auction_ended":
                            self.ended_event = True
                            return
            except Exception:  # a drop: reconnect, and resync on the status message
                attempts += 1
                time.sleep(min(4, 0.5 * 2**attempts) * random.uniform(0.5, 1))

    give_up = float("inf")


def checkout(base: str, session_key: str, listing_pk: int) -> bool:
    """Buy now with the saved address: one order, whatever is retried."""
    session = requests.Session()
    session.cookies.set("sessionid", session_key)
    url = f"{base}/checkout/?listing={listing_pk}&quantity=1"
    page = http(session, "GET", url, "page")
    if page is None or page.status_code != 200:
        return False
    fields = dict(
        re.findall(r'name="(csrfmiddlewaretoken|checkout_key)" value="([^"]+)"', page.text)
    )
    address = re.search(r'name="address"[^>]*value="(\d+)"|<option value="(\d+)"', page.text)
    if address:
        fields["address"] = address.group(1) or address.group(2)
    response = http(session, "POST", url, "form", data=fields, headers={"Referer": base + "/"})
    return response is not None and response.status_code == 302


# --- The run --------------------------------------------------------------------------------------


def main() -> int:
    global LOAD_STARTED
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


LOAD_STARTED = 0.0


def run_load(bases, auctions, auction_ids, bidders, sessions, shopper, fixed, product_url) -> int:
    global LOAD_STARTED
    LOAD_STARTED = now()
    watchers = [Watcher(base, pk) for base in bases for pk in auction_ids]
    threads = [threading.Thread(target=sample_connections), threading.Thread(target=faults)]
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
    while now() - LOAD_STARTED < POSTGRES_DOWN_AT + POSTGRES_DOWN_FOR + 5:
        time.sleep(0.2)
    bought = False
    for _ in range(10):
        if checkout(bases[1], sessions[shopper.pk], fixed.pk):
            bought = True
            break
        time.sleep(1)
    while now() - LOAD_STARTED < LOAD_SECONDS:
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


def in_fault_window(t: float) -> bool:
    return any(start - 0.5 <= t <= end + FAULT_GRACE for _name, start, end in record.faults)


def check(auction_ids, watchers, shopper, bought, load_ended) -> int:
    close_old_connections()
    problems = []
    outside_5xx = [
        r for r in record.http if (r[2] >= 500 or r[2] == 0) and not in_fault_window(r[0])
    ]
    inside_5xx = [r for r in record.http if (r[2] >= 500 or r[2] == 0) and in_fault_window(r[0])]
    unclear = [r for r in inside_5xx if r[2] >= 500 and r[3] != "styled"]
    if outside_5xx:
        problems.append(
            f"{len(outside_5xx)} failed requests outside the fault windows: {outside_5xx[:5]}"
        )
    if unclear:
        problems.append(f"{len(unclear)} 5xx without the site's error page: {unclear[:3]}")
    ws_outside = [e for e in record.ws_errors if not in_fault_window(e[0])]
    if ws_outside:
        problems.append(f"WebSocket errors outside the fault windows: {ws_outside[:5]}")
    unclear_ws = [e for e in record.ws_errors if not e[2]]
    if unclear_ws:
        problems.append(f"WebSocket errors without a message: {unclear_ws[:3]}")
    late_drops = [
        f for f in record.ws_connect_failures if not in_fault_window(f[0]) and f[0] < load_ended
    ]
    if late_drops:
        problems.append(f"sockets failed outside the fault windows: {late_drops[:5]}")

    peak = max(count for _t, count in record.connections)
    if peak > CONNECTION_BOUND:
        problems.append(f"PostgreSQL connections peaked at {peak} > bound {CONNECTION_BOUND}")

    missing = [
        bid
        for bid in record.accepted
        if not Bid.objects.filter(auction_id=bid[0], bidder_id=bid[1], amount=bid[2]).exists()
    ]
    if missing:
        problems.append(f"{len(missing)} accepted bids not in the database: {missing[:5]}")
    for pk in auction_ids:
        auction = AuctionListing.objects.get(pk=pk)
        if auction.status != AuctionListing.Status.ENDED_SOLD:
            problems.append(f"auction {pk} is {auction.status}, not sold")
        orders = Order.objects.filter(auction_id=pk).count()
        if orders != 1:
            problems.append(f"auction {pk} has {orders} orders")
    for w in watchers:
        auction = AuctionListing.objects.get(pk=w.auction_id)
        status = re.search(r'data-status="(\w+)"', w.html)
        if w.seq != auction.bid_count or not status or status.group(1) != auction.status:
            problems.append(
                f"watcher of {w.auction_id} on {w.base} ends at seq {w.seq}"
                f" ({status and status.group(1)}), database {auction.bid_count} ({auction.status})"
            )
    shopper_orders = Order.objects.filter(buyer=shopper).count()
    if not bought or shopper_orders != 1:
        problems.append(f"the checkout went through: {bought}, orders: {shopper_orders} (want 1)")

    latencies = [s for _t, s in record.bid_latency]
    windows = {name: (start, end) for name, start, end in record.faults}
    if set(windows) != {"redis", "postgres"}:
        problems.append(f"the faults did not both happen: {sorted(windows)}")
    first_fault = min((start for start, _end in windows.values()), default=0.0)
    redis_start, redis_end = windows.get("redis", (0.0, 0.0))

    def median_ms(low: float, high: float) -> float | None:
        found = [s for t, s in record.bid_latency if low <= t < high]
        return round(statistics.median(found) * 1000, 1) if found else None

    during_redis = [s for t, s in record.bid_latency if redis_start <= t <= redis_end]
    figures = {
        "load_seconds": LOAD_SECONDS,
        "web_processes": WEB_PROCESSES,
        "db_pool_max_size": WEB_POOL,
        "connection_bound": CONNECTION_BOUND,
        "max_connections": int(os.environ["SOAK_MAX_CONNECTIONS"]),
        "peak_connections": peak,
        "http_requests": len(record.http),
        "http_failed_in_fault_windows": len(inside_5xx),
        "http_failed_outside": len(outside_5xx),
        "ws_bids_accepted": len(latencies),
        "all_bids_accepted": len(record.accepted),
        "bids_in_database": Bid.objects.filter(auction_id__in=auction_ids).count(),
        "ws_errors_in_fault_windows": len(record.ws_errors) - len(ws_outside),
        "ws_error_codes": sorted({e[1] for e in record.ws_errors}),
        "socket_reconnects": len(record.ws_connect_failures),
        "bid_ms_median": round(statistics.median(latencies) * 1000, 1) if latencies else None,
        "bid_ms_p95": round(sorted(latencies)[int(len(latencies) * 0.95)] * 1000, 1)
        if latencies
        else None,
        "bid_ms_max_during_redis_outage": round(max(during_redis) * 1000, 1)
        if during_redis
        else None,
        "bids_during_redis_outage": len(during_redis),
        "bid_ms_median_before_faults": median_ms(0, first_fault),
        "bid_ms_median_during_redis_outage": median_ms(redis_start, redis_end),
        "bid_ms_median_10s_after_redis": median_ms(redis_end, redis_end + 10),
        "faults": record.faults,
        "watchers": len(watchers),
        "watchers_with_auction_ended_event": sum(w.ended_event for w in watchers),
        "watcher_events_after_redis_restart_by_process": {
            base: sum(w.events_after_redis_restart for w in watchers if w.base == base)
            for base in sorted({w.base for w in watchers})
        },
        "problems": problems,
    }
    (BASE_DIR / "test-artifacts" / "soak.json").write_text(json.dumps(figures, indent=2))
    print(json.dumps(figures, indent=2))
    if problems:
        log("FAILED:\n  " + "\n  ".join(problems))
        return 1
    log("passed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
