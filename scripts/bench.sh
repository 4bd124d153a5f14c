#!/usr/bin/env bash
# `make bench`: run the benchmarks (`python -m benchmarks`) on PostgreSQL.
# With DATABASE_URL set (PostgreSQL), use that database: point it at a scratch one, the
# benchmarks add many rows. Without it, start a throwaway PostgreSQL 15 and Redis on free
# loopback ports (scripts/services.sh, as .ci/run does), migrate, benchmark, stop them.
# Extra arguments go to `python -m benchmarks` (e.g. BENCH_ARGS="browse --size 10000").
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PY:-.venv/bin/python}
# DEBUG stays off (figures as in production); a throwaway key, since DEBUG=0 refuses the
# development one.
export SECRET_KEY="${SECRET_KEY:-bench-$(od -An -N24 -tx1 /dev/urandom | tr -d ' \n')}"

if [[ -z ${DATABASE_URL:-} ]]; then
    # shellcheck source=scripts/services.sh
    PG_EXTRA_OPTS=""  # stock PostgreSQL settings (fsync on): figures worth comparing
    source scripts/services.sh
    trap 'services_stop' EXIT
    trap 'exit 130' INT TERM
    services_install postgresql redis-server
    services_start_postgres madeinpk_bench
    services_start_redis
    export DATABASE_URL REDIS_URL
fi
"$PY" manage.py migrate --noinput -v0
"$PY" -m benchmarks "$@"
