"""Sessions read from the cache, written to the database (`SESSION_ENGINE` when Redis is set).

Django's `cached_db` store: a signed-in page reads its session with one Redis GET instead of a
query, and every write goes to the database first, which stays the record (the WebSocket's
re-check on each bid reads it there, `consumers.session_is_valid`). One change: a session is
kept in the cache `SESSION_CACHE_SECONDS` at most, not until it expires. The cache fails open
(madeinpk/cache.py), so a logout while Redis cannot be reached deletes the database row but
may leave the cached copy; bounding the copy's life bounds how long such a session could
still be used.
"""

from typing import Any

from django.conf import settings
from django.contrib.sessions.backends import cached_db


class _Capped:
    """The session cache, with every entry's timeout capped at `seconds`."""

    def __init__(self, cache: Any, seconds: int) -> None:
        self._cache = cache
        self._seconds = seconds

    def __getattr__(self, name: str) -> Any:
        return getattr(self._cache, name)

    def __contains__(self, key: str) -> bool:
        return key in self._cache

    def _cap(self, timeout: Any) -> int:
        return self._seconds if timeout is None else max(0, min(int(timeout), self._seconds))

    def set(self, key: str, value: Any, timeout: Any = None, **kwargs: Any) -> Any:
        return self._cache.set(key, value, self._cap(timeout), **kwargs)

    async def aset(self, key: str, value: Any, timeout: Any = None, **kwargs: Any) -> Any:
        return await self._cache.aset(key, value, self._cap(timeout), **kwargs)


class SessionStore(cached_db.SessionStore):
    def __init__(self, session_key: str | None = None) -> None:
        super().__init__(session_key)
        self._cache = _Capped(self._cache, settings.SESSION_CACHE_SECONDS)
