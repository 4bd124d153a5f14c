"""Flood counters per user, shared by every process (issue 12: many sockets, many Daphnes).

Kept in the cache: Redis in production (INCR is atomic), the database cache otherwise (its
increment is a read and a write, so simultaneous messages can be undercounted there). A cache
that cannot be reached lets everything through: the per-connection limit still holds, and an
outage of the cache must not stop bidding.
"""

import logging
import time

from django.core.cache import cache

logger = logging.getLogger(__name__)


def over_limit(key: str, *, limit: int, window: int) -> bool:
    """Count one event for `key`; True when more than `limit` fell in this `window` seconds."""
    name = f"flood:{key}:{int(time.time() // window)}"
    try:
        if hasattr(cache, "count"):  # Redis: one round trip
            count = cache.count(name, timeout=window * 2)
        else:
            cache.add(name, 0, timeout=window * 2)
            count = cache.incr(name)
    except Exception:  # any cache failure: fail open, see above
        logger.warning("flood counter %s unavailable; letting the message through", key)
        return False
    return count > limit
