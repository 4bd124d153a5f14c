#!/usr/bin/env bash
# `make soak`: the site as deployed (PostgreSQL with a low max_connections, Redis, two Daphne
# processes and a qcluster from the Procfile) under load, through a Redis and a PostgreSQL
# restart. The soak package (python -m soak) drives it and checks the outcome; figures in
# BENCHMARKS.md.
set -euo pipefail
cd "$(dirname "$0")/.."
PY="${PY:-.venv/bin/python}"
SOAK_MAX_CONNECTIONS="${SOAK_MAX_CONNECTIONS:-40}"

# shellcheck source=scripts/services.sh
source scripts/services.sh
trap 'services_stop' EXIT
trap 'exit 130' INT TERM
services_install postgresql redis-server
PG_EXTRA_OPTS="$PG_EXTRA_OPTS -c max_connections=$SOAK_MAX_CONNECTIONS"
services_start_postgres madeinpk_soak
services_start_redis
port="${DATABASE_URL##*:}"; port="${port%%/*}"
export DATABASE_URL REDIS_URL PG_BIN SOAK_MAX_CONNECTIONS
export SOAK_PG_DATA="$SERVICES_DIR/pg/data" SOAK_REDIS_DIR="$SERVICES_DIR/redis"
export SOAK_PG_OPTS="-c listen_addresses=127.0.0.1 -p $port -k $SERVICES_DIR/pg $PG_EXTRA_OPTS"
export STATIC_ROOT="$SERVICES_DIR/static" MEDIA_ROOT="$SERVICES_DIR/media"
# Production refuses the development key with DEBUG off: a throwaway one, as a deployment sets.
export SECRET_KEY="${SECRET_KEY:-$("$PY" -c "import secrets; print(secrets.token_urlsafe(50))")}"
export PRIVATE_MEDIA_ROOT="$SERVICES_DIR/private_media"
"$PY" manage.py migrate --noinput -v0
"$PY" manage.py collectstatic --noinput -v0
mkdir -p test-artifacts
started=$(date +%s)
status=0
"$PY" -m soak || status=$?
services_log "soak exited with $status after $(($(date +%s) - started)) s"
exit "$status"
