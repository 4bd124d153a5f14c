"""Authentication helpers: log in by username or e-mail, and login throttling with a cool-off.

Throttling counts failed log-ins per account (or per typed name when no account matches) and per
client IP in Django's cache. After `LOGIN_FAILURE_LIMIT` failures inside the window, attempts for
that account or IP are refused for `LOGIN_COOLOFF_SECONDS`, then allowed again: a cool-off, never
a permanent lockout that anyone could trigger against someone else.
"""

import hashlib
import time
from dataclasses import dataclass
from datetime import UTC, datetime

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.backends import ModelBackend
from django.core.cache import cache
from django.http import HttpRequest


class UsernameOrEmailBackend(ModelBackend):
    """ModelBackend that also accepts the account's e-mail address (any case) as the username."""

    def authenticate(self, request, username=None, password=None, **kwargs):
        if username is None or password is None:
            return None
        user = find_user(username)
        if user is None:
            # Run the hasher anyway so a missing account takes as long as a wrong password.
            get_user_model()().set_password(password)
            return None
        if user.check_password(password) and self.user_can_authenticate(user):
            return user
        return None


def find_user(identifier: str):
    """The account a login name refers to: exact username, then e-mail, then unique iexact name."""
    User = get_user_model()
    identifier = (identifier or "").strip()
    if not identifier:
        return None
    user = User._default_manager.filter(username=identifier).first()
    if user is None and "@" in identifier:
        user = User._default_manager.filter(email__iexact=identifier).first()
    if user is None:
        # Phones capitalise the first letter; accept another case when it names one account.
        matches = list(User._default_manager.filter(username__iexact=identifier)[:2])
        if len(matches) == 1:
            user = matches[0]
    return user


def _now() -> float:
    return time.time()


def _limit() -> int:
    return settings.LOGIN_FAILURE_LIMIT


def _ip_limit() -> int:
    return settings.LOGIN_IP_FAILURE_LIMIT


def _cooloff() -> int:
    return settings.LOGIN_COOLOFF_SECONDS


def _window() -> int:
    return getattr(settings, "LOGIN_FAILURE_WINDOW_SECONDS", settings.LOGIN_COOLOFF_SECONDS)


def _digest(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()[:32]


def client_ip(request: HttpRequest | None) -> str:
    # REMOTE_ADDR only: X-Forwarded-For is set by the client unless a trusted proxy rewrites it.
    if request is None:
        return ""
    return request.META.get("REMOTE_ADDR", "") or ""


def account_key(identifier: str) -> str:
    """One throttle key per account, whichever name (username or e-mail) was typed."""
    user = find_user(identifier)
    if user is not None:
        return f"user:{user.pk}"
    return f"name:{_digest((identifier or '').strip().casefold())}"


@dataclass(frozen=True)
class Refusal:
    until: float

    @property
    def until_datetime(self) -> datetime:
        return datetime.fromtimestamp(self.until, tz=UTC)

    @property
    def seconds_left(self) -> int:
        return max(1, int(self.until - _now() + 0.999))


class LoginThrottle:
    """Counters for one login attempt: the account named and the client's IP."""

    prefix = "login-throttle"

    def __init__(self, *, identifier: str, ip: str) -> None:
        self.keys: list[tuple[str, int]] = [(account_key(identifier), _limit())]
        if ip:
            self.keys.append((f"ip:{_digest(ip)}", _ip_limit()))
        self.account = self.keys[0][0]

    def _lock_key(self, key: str) -> str:
        return f"{self.prefix}:lock:{key}"

    def _count_key(self, key: str) -> str:
        return f"{self.prefix}:count:{key}"

    def refusal(self) -> Refusal | None:
        """A Refusal while any of the keys is cooling off, else None."""
        now = _now()
        latest = None
        for key, _limit_value in self.keys:
            until = cache.get(self._lock_key(key))
            if until is not None and until > now:
                latest = until if latest is None else max(latest, until)
        return Refusal(until=latest) if latest is not None else None

    def record_failure(self) -> Refusal | None:
        """Count a failure on every key; start a cool-off on keys that reach their limit."""
        now = _now()
        window = _window()
        cooloff = _cooloff()
        locked_until = None
        for key, limit in self.keys:
            count_key = self._count_key(key)
            # (count, window start); stored whole because cache.incr resets the timeout on
            # some backends (database cache), which would stretch the window.
            count, started = cache.get(count_key) or (0, now)
            if now - started >= window:
                count, started = 0, now
            count += 1
            if count >= limit:
                locked_until = now + cooloff
                # The cache timeout only tidies up; the stored time decides.
                cache.set(self._lock_key(key), locked_until, timeout=cooloff + 60)
                cache.delete(count_key)
            else:
                cache.set(count_key, (count, started), timeout=int(window - (now - started)) + 60)
        return Refusal(until=locked_until) if locked_until is not None else None

    def record_success(self) -> None:
        """Clear the account's counter (not the IP's: one good password says nothing of others)."""
        cache.delete(self._count_key(self.account))
