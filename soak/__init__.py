"""Soak test: the site as deployed, under load, through a Redis and a PostgreSQL restart.

Run by `make soak` (scripts/soak.sh starts PostgreSQL with a low max_connections and Redis,
migrates and collects static files, then runs `python -m soak` with DATABASE_URL and REDIS_URL set).
It starts two Daphne processes and a qcluster from the Procfile's own `web` and
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
