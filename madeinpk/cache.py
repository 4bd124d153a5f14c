"""Cache backends that fail open: a cache outage costs a logged warning, never an error page.

Nothing the site keeps in its cache is needed to answer a request (a miss is always a valid
answer), so while Redis is down, or before the cache table exists, reads miss and writes are
dropped. Each failure is logged as a warning without its traceback (an outage would otherwise
fill the log with one stack per request).
"""

import logging
import threading
from typing import Any

from django.core.cache.backends.base import DEFAULT_TIMEOUT
from django.core.cache.backends.db import DatabaseCache
from django.core.cache.backends.redis import RedisCache, RedisCacheClient

logger = logging.getLogger(__name__)


class FailOpenMixin:
    """Every cache operation answers its "nothing cached" value when the backend fails."""

    def _fail_open(self, operation: str, default: Any, call, *args: Any, **kwargs: Any) -> Any:
        try:
            return call(*args, **kwargs)
        except Exception as error:
            logger.warning("cache %s failed, carrying on without it: %r", operation, error)
            return default

    def get(self, key, default=None, version=None):
        return self._fail_open("get", default, super().get, key, default, version)

    def get_many(self, keys, version=None):
        return self._fail_open("get_many", {}, super().get_many, keys, version)

    def has_key(self, key, version=None):
        return self._fail_open("has_key", False, super().has_key, key, version)

    def add(self, key, value, timeout=DEFAULT_TIMEOUT, version=None):
        return self._fail_open("add", False, super().add, key, value, timeout, version)

    def set(self, key, value, timeout=DEFAULT_TIMEOUT, version=None):
        return self._fail_open("set", None, super().set, key, value, timeout, version)

    def set_many(self, data, timeout=DEFAULT_TIMEOUT, version=None):
        return self._fail_open("set_many", list(data), super().set_many, data, timeout, version)

    def touch(self, key, timeout=DEFAULT_TIMEOUT, version=None):
        return self._fail_open("touch", False, super().touch, key, timeout, version)

    def delete(self, key, version=None):
        return self._fail_open("delete", False, super().delete, key, version)

    def delete_many(self, keys, version=None):
        return self._fail_open("delete_many", None, super().delete_many, keys, version)

    def clear(self):
        return self._fail_open("clear", None, super().clear)


# Connection pools and clients by server and options, shared by every backend instance of the
# process (see ReusedRedisClients).
_SHARED: dict[tuple, tuple[dict, dict]] = {}
_SHARED_LOCK = threading.Lock()


class ReusedRedisClients(RedisCacheClient):
    """One connection pool and one redis-py client per server and options in the process.

    Django keeps a cache backend per thread and per async context (`caches` is an asgiref
    `Local`), so under Daphne every request builds its own backend, whose client built its
    own connection pool: a new TCP connection to Redis, with its handshake, for every request
    that touched the cache. In a profile of Daphne serving cached pages, connecting took a
    fifth of its time. Pools are safe to share between threads (each command takes a
    connection and gives it back) and start afresh in a forked child (redis-py checks the
    pid). Django also built a new `redis.Redis` for every operation, with about 170 reply
    callbacks each (0.4 ms of a shared page's 3 ms in one process): one per pool here.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        options = tuple(sorted((name, repr(value)) for name, value in self._pool_options.items()))
        key = (tuple(self._servers), self._pool_class, options)
        with _SHARED_LOCK:
            self._pools, self._clients = _SHARED.setdefault(key, ({}, {}))

    def _get_connection_pool(self, write):
        with _SHARED_LOCK:  # one pool per server even when two requests ask at once
            return super()._get_connection_pool(write)

    def get_client(self, key=None, *, write=False):
        pool = self._get_connection_pool(write)
        client = self._clients.get(id(pool))
        if client is None:
            client = self._clients.setdefault(id(pool), self._client(connection_pool=pool))
        return client


class FailOpenRedisCache(FailOpenMixin, RedisCache):
    def __init__(self, server: str, params: dict) -> None:
        super().__init__(server, params)
        self._class = ReusedRedisClients

    def count(self, key: str, timeout: int) -> int:
        """Add one to the counter `key` (created at 0 to expire in `timeout` seconds) and
        return it: one round trip (SET NX and INCR pipelined), where `add` then `incr` takes
        three. Raises on a Redis failure, like `incr`."""
        key = self.make_and_validate_key(key)
        pipe = self._cache.get_client(key, write=True).pipeline(transaction=False)
        pipe.set(key, 0, ex=timeout, nx=True)
        pipe.incr(key)
        return pipe.execute()[1]


class FailOpenDatabaseCache(FailOpenMixin, DatabaseCache):
    pass
