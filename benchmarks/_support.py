"""Helpers shared by the benchmarks: checks, bench users and auctions, a Daphne subprocess."""

import contextlib
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from datetime import timedelta
from decimal import Decimal
from importlib import import_module
from pathlib import Path
from typing import TextIO

from django.conf import settings
from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
from django.contrib.auth.hashers import make_password
from django.core.management.base import CommandError
from django.db import connection
from django.utils import timezone

from marketplace.checks import INSECURE_PREFIX

BASE_DIR = Path(__file__).resolve().parents[1]
USER_PREFIX = "bench-user-"


def require_postgresql(name: str) -> None:
    """Refuse SQLite (and any other database) with a clear message."""
    if connection.vendor != "postgresql":
        raise CommandError(
            f"The {name} benchmark needs PostgreSQL (row locks, concurrency); this database "
            f"is {connection.vendor}. Run `make bench`, or set DATABASE_URL=postgres://... "
            "to a scratch database."
        )


def require_redis(name: str) -> str:
    """The Redis URL of the channel layer: WebSocket benchmarks need Redis between processes."""
    url = os.environ.get("REDIS_URL", "")
    backend = settings.CHANNEL_LAYERS["default"]["BACKEND"]
    if not url or "Redis" not in backend:
        raise CommandError(
            f"The {name} benchmark needs the Redis channel layer (set REDIS_URL=redis://...; "
            "`make bench` starts a throwaway Redis)."
        )
    return url


@contextlib.contextmanager
def watching(auction_id: int):
    """Listen to an auction's events as a watching Daphne process would, for the duration.

    Nothing is rendered or sent for an auction nobody watches, and a hot auction has
    watchers: without one, a benchmark would skip the broadcast work. With the Redis layer
    this subscribes to the auction group's channel and drains it in a thread; with another
    layer (the in-memory one) every auction counts as watched anyway. Yields a dict whose
    "events" is the number of events heard.
    """
    from channels.layers import get_channel_layer
    from channels_redis.pubsub import RedisPubSubChannelLayer

    from marketplace import realtime

    heard = {"events": 0}
    url = os.environ.get("REDIS_URL", "")
    layer = get_channel_layer()
    if not url or not isinstance(layer, RedisPubSubChannelLayer):
        yield heard
        return
    import redis

    client = redis.Redis.from_url(url)
    pubsub = client.pubsub(ignore_subscribe_messages=True)

    def count(message) -> None:
        heard["events"] += 1

    # A watcher reading the site's default language: events are rendered in that one.
    group = realtime.group_name(auction_id, settings.LANGUAGE_CODE)
    pubsub.subscribe(**{realtime.redis_channel_of(layer, group): count})
    thread = pubsub.run_in_thread(sleep_time=0.01, daemon=True)
    try:
        yield heard
    finally:
        time.sleep(0.2)  # the last events
        thread.stop()
        thread.join(5)
        pubsub.close()
        client.close()


def load() -> str:
    one, five, fifteen = os.getloadavg()
    return f"{one:.2f} / {five:.2f} / {fifteen:.2f}"


def percentile(values: list[float], fraction: float) -> float:
    """Nearest-rank percentile (fraction 0.5 = median, 0.99 = p99)."""
    if not values:
        return float("nan")
    ordered = sorted(values)
    rank = max(1, min(len(ordered), round(fraction * len(ordered) + 0.4999)))
    return ordered[rank - 1]


def table(out: TextIO, header: list[str], rows: list[list[object]]) -> None:
    out.write("| " + " | ".join(header) + " |")
    out.write("|" + "|".join("---:" if i else "---" for i in range(len(header))) + "|")
    for row in rows:
        out.write("| " + " | ".join(str(cell) for cell in row) + " |")


def bench_users(count: int, *, prefix: str = USER_PREFIX) -> list:
    """`count` active buyer accounts named `<prefix>N` (created once, reused)."""
    from marketplace.models import User

    names = [f"{prefix}{n}" for n in range(count)]
    have = set(User.objects.filter(username__in=names).values_list("username", flat=True))
    User.objects.bulk_create(
        [
            User(
                username=name,
                email=f"{name}@bench.madeinpk.local",
                password=make_password(None),
            )
            for name in names
            if name not in have
        ]
    )
    by_name = {u.username: u for u in User.objects.filter(username__in=names)}
    return [by_name[name] for name in names]


def bench_seller():
    from marketplace.models import City, SellerProfile, User

    seller, _ = User.objects.get_or_create(
        username="bench-auctioneer",
        defaults={
            "email": "bench-auctioneer@bench.madeinpk.local",
            "role": User.Role.SELLER,
            "password": make_password(None),
        },
    )
    SellerProfile.objects.get_or_create(
        user=seller,
        defaults={
            "shop_name": "Bench auctions",
            "slug": "bench-auctioneer",
            "city": City.objects.order_by("pk").first(),
        },
    )
    return seller


def hot_auction(title: str = "Bench hot auction", starting_price: str = "1000"):
    """A fresh live auction (14 days long, no reserve) through the real service."""
    from marketplace.models import Category, City
    from marketplace.services.auctions import create_auction

    return create_auction(
        seller=bench_seller(),
        title=title,
        description="Created by the benchmarks.",
        category=Category.objects.exclude(parent=None).order_by("pk").first(),
        condition="new",
        city=City.objects.order_by("pk").first(),
        starting_price=Decimal(starting_price),
        duration_days=14,
        starts_at=timezone.now() - timedelta(minutes=1),
    )


def session_cookie(user) -> str:
    """A `name=value` session cookie logging `user` in, as the login view would make."""
    engine = import_module(settings.SESSION_ENGINE)
    session = engine.SessionStore()
    session[SESSION_KEY] = str(user.pk)
    session[BACKEND_SESSION_KEY] = settings.AUTHENTICATION_BACKENDS[0]
    session[HASH_SESSION_KEY] = user.get_session_auth_hash()
    session.create()
    return f"{settings.SESSION_COOKIE_NAME}={session.session_key}"


def database_url() -> str:
    """This process's database connection, as a DATABASE_URL another process can use."""
    from urllib.parse import quote

    db = connection.settings_dict
    credentials = quote(db["USER"] or "")
    if db["PASSWORD"]:
        credentials += ":" + quote(db["PASSWORD"])
    host = db["HOST"] or "localhost"
    port = f":{db['PORT']}" if db["PORT"] else ""
    return f"postgres://{credentials}@{host}{port}/{quote(db['NAME'])}"


def cpu_seconds(pid: int) -> float:
    """CPU time (user and system) a process has used so far (Linux /proc)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def raise_fd_limit(wanted: int) -> int:
    """Raise this process's soft open-file limit towards `wanted` (capped by the hard one)."""
    import resource

    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    target = wanted if hard == resource.RLIM_INFINITY else min(wanted, hard)
    if soft < target:
        resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
        soft = target
    return soft


@contextlib.contextmanager
def daphne(
    out: TextIO,
    port: int | None = None,
    base_dir: str | Path | None = None,
    pids: list[int] | None = None,
):
    """Run Daphne (the site's ASGI app, Redis channel layer) in a subprocess; yield its port.

    `base_dir`: serve another checkout of the site (a baseline) instead of this one. `pids`:
    a list to append the process id to (to read its CPU time, `cpu_seconds`)."""
    port = port or free_port()
    # The same database as this process (under pytest, the test database).
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "madeinpk.settings",
        "DATABASE_URL": database_url(),
        # The per-user flood limits (bids and socket messages a second) lifted, as
        # benchmarks._asgi lifts the per-socket one: a throughput benchmark drives one user
        # as fast as the server answers. Environment variables, so a baseline checkout's
        # settings read them too.
        "BID_RATE_LIMIT": "1000000",
        "WS_USER_RATE_LIMIT": "1000000",
    }
    if settings.SECRET_KEY.startswith(INSECURE_PREFIX):
        # Under pytest (the development key, which Daphne refuses with DEBUG off): both
        # processes must share the key that signs sessions, so the server runs with DEBUG on.
        # `make bench` (scripts/bench.sh) sets a throwaway key and measures with DEBUG off.
        env["DEBUG"] = "1"
    log = tempfile.NamedTemporaryFile(prefix="bench-daphne-", suffix=".log", delete=False)
    process = subprocess.Popen(  # noqa: S603  (our own interpreter and module)
        [
            sys.executable,
            "-m",
            "daphne",
            "-b",
            "127.0.0.1",
            "-p",
            str(port),
            "benchmarks._asgi:application",
        ],
        cwd=base_dir or BASE_DIR,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        preexec_fn=lambda: (raise_fd_limit(65536), stop_with_parent()),
    )
    try:
        deadline = time.monotonic() + 30
        while True:
            if process.poll() is not None:
                raise CommandError(f"Daphne exited: {Path(log.name).read_text()[-2000:]}")
            with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), 0.2):
                break
            if time.monotonic() > deadline:
                raise CommandError(f"Daphne did not listen on {port} within 30 s")
            time.sleep(0.1)
        out.write(f"(Daphne pid {process.pid} on 127.0.0.1:{port}, from {base_dir or BASE_DIR})")
        if pids is not None:
            pids.append(process.pid)
        yield port
    except BaseException:
        out.write(f"Daphne's log ends with:\n{Path(log.name).read_text()[-3000:]}")
        raise
    finally:
        process.terminate()
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        log.close()
        os.unlink(log.name)


def stop_with_parent() -> None:
    """In a child before it runs (`preexec_fn`): Linux sends it SIGTERM when the thread that
    started it ends without stopping it (a test worker that pytest-timeout ended), instead of
    leaving it behind, serving a queue or a port that the next run uses."""
    import ctypes

    pr_set_pdeathsig = 1
    ctypes.CDLL(None, use_errno=True).prctl(pr_set_pdeathsig, signal.SIGTERM)


@contextlib.contextmanager
def qcluster(out: TextIO, workers: int):
    """Run `manage.py qcluster` (this checkout, this database and Redis) with `workers` worker
    processes and no scheduler, as a site's extra cluster would; stopped on the way out."""
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "madeinpk.settings",
        "DATABASE_URL": database_url(),
        "Q_WORKERS": str(workers),
        "Q_SCHEDULER": "0",
        "DB_POOL_MAX_SIZE": "0",  # as the Procfile's worker: the cluster forks
    }
    if settings.SECRET_KEY.startswith(INSECURE_PREFIX):
        env["DEBUG"] = "1"  # under pytest, as `daphne` above
    broker = _broker_redis_url()
    if broker:  # the queue this process sends to (under pytest-xdist, not REDIS_URL's)
        env["REDIS_URL"] = broker
    log = tempfile.NamedTemporaryFile(prefix="bench-qcluster-", suffix=".log", delete=False)
    process = subprocess.Popen(
        [sys.executable, "manage.py", "qcluster"],
        cwd=BASE_DIR,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
        preexec_fn=stop_with_parent,
    )
    out.write(f"(qcluster pid {process.pid}, {workers} workers, no scheduler)")
    try:
        yield process
    except BaseException:
        out.write(f"The qcluster's log ends with:\n{Path(log.name).read_text()[-3000:]}")
        raise
    finally:
        # Its work is done (or failed): a cluster's orderly stop waits out its guard's cycle.
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(5)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
        log.close()
        os.unlink(log.name)


def _broker_redis_url() -> str | None:
    """The Redis database django-q2 queues to in this process, as a URL (None: the ORM)."""
    from urllib.parse import quote

    from django_q.conf import Conf

    redis = Conf.REDIS if isinstance(Conf.REDIS, dict) else None
    if not redis or Conf.ORM:
        return None
    credentials = ""
    if redis.get("password"):
        credentials = f"{quote(redis.get('username') or '')}:{quote(redis['password'])}@"
    host, port, db = redis.get("host", "127.0.0.1"), redis.get("port", 6379), redis.get("db", 0)
    return f"redis://{credentials}{host}:{port}/{db}"
