"""The ASGI application the benchmarks' Daphne serves: the site's own, flood control lifted.

The consumer refuses more than a few messages a second per socket (against a flooding
client). A throughput benchmark drives each socket as fast as the server answers, so here,
and only here, that limit is lifted: everything else is the real stack.
"""

from madeinpk.asgi import application
from marketplace import consumers

consumers.RATE_LIMIT = 1_000_000

__all__ = ["application"]
