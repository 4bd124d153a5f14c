# Throwaway PostgreSQL 15 and Redis on loopback, for .ci/run and `make bench`.
#
# Source this file, then call:
#   services_install            apt-get install what is missing (postgresql, redis-server, ...)
#   services_start_postgres DB  start a temporary cluster, create DB, export DATABASE_URL
#   services_start_redis        start a temporary Redis, export REDIS_URL
#   services_stop               stop both and delete their files (safe to call twice)
# Every server listens on 127.0.0.1 on a free port and lives in one temp dir, so servers
# already running on this machine (development ones included) are never touched.
# PostgreSQL refuses to run as root: when root, the cluster belongs to the `postgres` user.

PG_BIN="${PG_BIN:-/usr/lib/postgresql/15/bin}"
# Durability off by default: a throwaway test cluster never needs to survive a crash, and CI
# is faster without fsync. scripts/bench.sh sets PG_EXTRA_OPTS="" to measure stock settings.
PG_EXTRA_OPTS="${PG_EXTRA_OPTS--c fsync=off -c synchronous_commit=off -c full_page_writes=off}"
SERVICES_DIR=""
_PG_STARTED=""
_REDIS_STARTED=""

services_log() { printf '==> %s\n' "$*" >&2; }

# A TCP port nothing listens on now (the kernel picks it; tiny race accepted).
services_free_port() {
    python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()'
}

services_install() {
    local wanted=("$@") missing=() pkg
    for pkg in "${wanted[@]}"; do
        dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" \
            || missing+=("$pkg")
    done
    if ((${#missing[@]} == 0)); then
        services_log "apt packages already installed: ${wanted[*]}"
        return 0
    fi
    if [[ $(id -u) -ne 0 ]]; then
        services_log "missing apt packages (${missing[*]}); install them as root"
        return 1
    fi
    services_log "apt-get install ${missing[*]}"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    # policy-rc.d 101: do not start the distribution's own services while installing.
    local policy=/usr/sbin/policy-rc.d created_policy=""
    if [[ ! -e $policy ]]; then
        printf '#!/bin/sh\nexit 101\n' >"$policy" && chmod +x "$policy" && created_policy=1
    fi
    apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
    [[ -n $created_policy ]] && rm -f "$policy"
    return 0
}

_services_dir() {
    if [[ -z $SERVICES_DIR ]]; then
        SERVICES_DIR=$(mktemp -d /tmp/madeinpk-services.XXXXXX)
        chmod 755 "$SERVICES_DIR"
    fi
}

# Run a PostgreSQL binary as the cluster owner (postgres when we are root).
_pg() {
    if [[ $(id -u) -eq 0 ]]; then
        local cmd
        printf -v cmd '%q ' "$@"
        su postgres -s /bin/sh -c "$cmd"
    else
        "$@"
    fi
}

services_start_postgres() {
    local db="${1:-madeinpk}" port
    _services_dir
    port=$(services_free_port)
    local dir="$SERVICES_DIR/pg"
    mkdir -p "$dir"
    [[ $(id -u) -eq 0 ]] && chown postgres:postgres "$dir"
    services_log "PostgreSQL 15: initdb in $dir, port $port"
    _pg "$PG_BIN/initdb" -D "$dir/data" -A trust -U postgres -E UTF8 --locale=C.UTF-8 >/dev/null
    _pg "$PG_BIN/pg_ctl" -D "$dir/data" -l "$dir/log" -w \
        -o "-c listen_addresses=127.0.0.1 -p $port -k $dir $PG_EXTRA_OPTS" \
        start >/dev/null
    _PG_STARTED="$dir"
    _pg "$PG_BIN/createdb" -h 127.0.0.1 -p "$port" -U postgres "$db"
    export DATABASE_URL="postgres://postgres@127.0.0.1:$port/$db"
    services_log "DATABASE_URL=$DATABASE_URL"
}

services_start_redis() {
    local port
    _services_dir
    port=$(services_free_port)
    local dir="$SERVICES_DIR/redis"
    mkdir -p "$dir"
    services_log "Redis on port $port"
    redis-server --bind 127.0.0.1 --port "$port" --daemonize yes --save "" --appendonly no \
        --dir "$dir" --pidfile "$dir/redis.pid" --logfile "$dir/redis.log"
    _REDIS_STARTED="$port"
    local i
    for i in $(seq 50); do
        redis-cli -h 127.0.0.1 -p "$port" ping >/dev/null 2>&1 && break
        sleep 0.1
    done
    export REDIS_URL="redis://127.0.0.1:$port/0"
    services_log "REDIS_URL=$REDIS_URL"
}

services_stop() {
    if [[ -n $_REDIS_STARTED ]]; then
        redis-cli -h 127.0.0.1 -p "$_REDIS_STARTED" shutdown nosave >/dev/null 2>&1 || true
        _REDIS_STARTED=""
        services_log "Redis stopped"
    fi
    if [[ -n $_PG_STARTED ]]; then
        _pg "$PG_BIN/pg_ctl" -D "$_PG_STARTED/data" -m immediate -w stop >/dev/null 2>&1 || true
        _PG_STARTED=""
        services_log "PostgreSQL stopped"
    fi
    if [[ -n $SERVICES_DIR && -d $SERVICES_DIR ]]; then
        rm -rf "$SERVICES_DIR"
        SERVICES_DIR=""
    fi
}
