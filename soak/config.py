"""What the soak runs: sizes, timings and the connection bound."""

import os

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
# The bid form's note for a bid placed and leading (the panel's "you are leading" is another
# alert-success; a leader's second bid only raises their maximum and gets an alert-info).
ACCEPTED_NOTE = 'class="alert alert-success py-2" role="status"'
