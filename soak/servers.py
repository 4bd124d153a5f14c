"""The servers: Daphne and qcluster from the Procfile, the faults, the connection sampler."""

import os
import shlex
import signal
import subprocess
import time
from pathlib import Path

import psycopg
import requests

from soak.config import (
    POSTGRES_DOWN_AT,
    POSTGRES_DOWN_FOR,
    Q_WORKERS,
    REDIS_DOWN_AT,
    REDIS_DOWN_FOR,
    WEB_POOL,
)
from soak.state import log, now, record, stop

BASE_DIR = Path(__file__).resolve().parent.parent


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
    port = os.environ["REDIS_URL"].rsplit(":", 1)[1].split("/")[0]
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


def faults(load_started: float) -> None:
    plan = [(REDIS_DOWN_AT, restart_redis), (POSTGRES_DOWN_AT, restart_postgres)]
    for at, action in plan:
        while now() - load_started < at:
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
