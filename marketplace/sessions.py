"""Sessions read from the cache, written to the database (`SESSION_ENGINE` when Redis is set).

Django's `cached_db` store: a signed-in page reads its session with one Redis GET instead of a
query, and every write goes to the database first, which stays the record (the WebSocket's
re-check on each bid reads it there, `consumers.session_is_valid`). One change: a session is
kept in the cache `SESSION_CACHE_SECONDS` at most, not until it expires. The cache fails open
(madeinpk/cache.py), so a logout while Redis cannot be reached deletes the database row but
may leave the cached copy; bounding the copy's life bounds how long such a session could
still be used.
"""

import logging
from typing import Any

from django.conf import settings
from django.contrib.sessions.backends import cached_db

logger = logging.getLogger(__name__)


class _Capped:
    """The session cache, every entry's timeout capped at `seconds`, every failure answered
    as a miss (the database has the session): with any cache backend, not only ours that fail
    open, a cache outage never fails a request."""

    def __init__(self, cache: Any, seconds: int) -> None:
        self._cache = cache
        self._seconds = seconds

    def _cap(self, timeout: Any) -> int:
        return self._seconds if timeout is None else max(0, min(int(timeout), self._seconds))

    def _safely(self, operation: str, default: Any, call: Any, *args: Any) -> Any:
        try:
            return call(*args)
        except Exception as error:
            logger.warning("session cache %s failed, using the database: %r", operation, error)
            return default

    async def _asafely(self, operation: str, default: Any, call: Any, *args: Any) -> Any:
        try:
            return await call(*args)
        except Exception as error:
            logger.warning("session cache %s failed, using the database: %r", operation, error)
            return default

    def get(self, key: str) -> Any:
        return self._safely("get", None, self._cache.get, key)

    async def aget(self, key: str) -> Any:
        return await self._asafely("get", None, self._cache.aget, key)

    def set(self, key: str, value: Any, timeout: Any = None) -> None:
        self._safely("set", None, self._cache.set, key, value, self._cap(timeout))

    async def aset(self, key: str, value: Any, timeout: Any = None) -> None:
        await self._asafely("set", None, self._cache.aset, key, value, self._cap(timeout))

    def delete(self, key: str) -> None:
        self._safely("delete", None, self._cache.delete, key)

    async def adelete(self, key: str) -> None:
        await self._asafely("delete", None, self._cache.adelete, key)

    def __contains__(self, key: str) -> bool:
        return self._safely("has_key", False, self._cache.has_key, key)


class SessionStore(cached_db.SessionStore):
    def __init__(self, session_key: str | None = None) -> None:
        super().__init__(session_key)
        self._cache = _Capped(self._cache, settings.SESSION_CACHE_SECONDS)
