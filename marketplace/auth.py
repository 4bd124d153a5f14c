"""Authentication: log in by username or e-mail, the client's address, and the login throttle.

The throttle is django-axes with its database handler (no cache: a Redis outage or a missing
cache table cannot break the login), configured in settings (`AXES_*`) and the hooks below:

- failures count per (account, address) pair, so nobody can lock someone else's account out
  from another address, and per address with its own, higher limit, so one address cannot try
  many names;
- reaching a limit starts a cool-off, never a permanent lockout; it doubles with each earlier
  lockout of the same pair within a day, up to `LOGIN_COOLOFF_MAX_SECONDS`;
- a successful log-in clears only its own pair's failures.

Password-reset e-mails are throttled apart (`reset_email_refusal`): per client address and per
e-mail address typed, counted in the cache; when the cache fails the request is allowed.
"""

import hashlib
import logging
import time
from datetime import datetime, timedelta

from axes.backends import AxesStandaloneBackend
from axes.handlers.database import AxesDatabaseHandler
from axes.helpers import get_client_username, get_cool_off
from axes.models import AccessAttempt, AccessFailureLog
from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.backends import ModelBackend
from django.core.cache import cache
from django.db.models import Max, Sum
from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import ngettext

from marketplace.queries.prepared import first_object

logger = logging.getLogger(__name__)

# Escalation looks back this far for earlier lockouts of the same pair.
ESCALATION_WINDOW = timedelta(days=1)


class UsernameOrEmailBackend(AxesStandaloneBackend, ModelBackend):
    """ModelBackend that also accepts the account's e-mail address (any case) as the username.

    django-axes' check comes first: while the pair or the address cools off it raises
    PermissionDenied, which ends authenticate() as a failure without trying the password.
    """

    def authenticate(self, request, username=None, password=None, **kwargs):
        if username is None or password is None:
            return None
        if request is not None:
            # Without a request (a command, a test) there is no client to throttle.
            AxesStandaloneBackend.authenticate(self, request, username, password, **kwargs)
        user = find_user(username)
        if user is None:
            # Run the hasher anyway so a missing account takes as long as a wrong password.
            get_user_model()().set_password(password)
            return None
        if user.check_password(password) and self.user_can_authenticate(user):
            return user
        return None

    def get_user(self, user_id):
        """The signed-in user with their shop, if any, in one query: the navigation of every
        page shows `public_name`, which reads it (a second query, even for a buyer)."""
        User = get_user_model()
        try:
            user_id = int(user_id)
        except (TypeError, ValueError):
            return None
        # On every signed-in request: the statement and its row's objects are planned once.
        user = first_object(
            "signed-in-user",
            User,
            lambda pk: User._default_manager.select_related("seller_profile").filter(pk=pk),
            user_id,
        )
        if user is None:
            return None
        return user if self.user_can_authenticate(user) else None


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


def client_ip(request: HttpRequest | None) -> str:
    """The client's address: REMOTE_ADDR, or the one the outermost trusted proxy appended.

    With `TRUSTED_PROXY_COUNT` = N proxies in front of the site, each appends the address it
    received from to X-Forwarded-For, so the N-th entry from the right is the one the outermost
    proxy saw. Entries left of it are whatever the client sent and are never trusted.
    """
    if request is None:
        return ""
    remote_addr = request.META.get("REMOTE_ADDR", "") or ""
    proxies = settings.TRUSTED_PROXY_COUNT
    if proxies <= 0:
        return remote_addr
    forwarded = [entry.strip() for entry in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")]
    forwarded = [entry for entry in forwarded if entry]
    if len(forwarded) < proxies:
        # Fewer entries than proxies: a request that bypassed them; its peer is all we know.
        return remote_addr
    return forwarded[-proxies]


def throttle_username(request: HttpRequest | None, credentials: dict | None) -> str | None:
    """One throttle name per account, whichever of its names (username or e-mail) was typed."""
    field = settings.AXES_USERNAME_FORM_FIELD
    if credentials:
        typed = credentials.get(field)
    else:
        typed = getattr(request, "POST", {}).get(field)
    if typed is None:
        return None
    user = find_user(typed)
    if user is not None:
        return user.get_username()
    return typed.strip().casefold()[:150]


def failure_limit(request: HttpRequest | None, credentials: dict | None) -> int:
    return settings.LOGIN_FAILURE_LIMIT


def cool_off(request: HttpRequest | None) -> timedelta:
    """The base cool-off, doubled for each earlier lockout of this pair within a day."""
    base = timedelta(seconds=settings.LOGIN_COOLOFF_SECONDS)
    longest = timedelta(seconds=max(settings.LOGIN_COOLOFF_MAX_SECONDS, base.total_seconds()))
    ip = getattr(request, "axes_ip_address", None)
    if request is None or ip is None:
        return base
    username = get_client_username(request)
    pair = {"username": username, "ip_address": ip}
    # Lockouts before the pair's latest failure: while a lockout lasts no failure is recorded
    # (AXES_RESET_COOL_OFF_ON_FAILURE_DURING_LOCKOUT is off), so this count, and with it the
    # cool-off, stays the same from the failure that started it to its end.
    latest = AccessAttempt.objects.filter(**pair).aggregate(at=Max("attempt_time"))["at"]
    if latest is None:
        return base
    earlier = AccessFailureLog.objects.filter(
        **pair,
        locked_out=True,
        attempt_time__lt=latest,
        attempt_time__gte=latest - ESCALATION_WINDOW,
    ).count()
    return min(base * 2 ** min(earlier, 16), longest)


def cool_off_ends(request: HttpRequest) -> datetime:
    """When the cool-off that refused this request ends."""
    attempts = LoginThrottleHandler().get_user_attempts(request)
    last = max(
        (at for qs in attempts if (at := qs.aggregate(at=Max("attempt_time"))["at"])),
        default=timezone.now(),
    )
    return last + get_cool_off(request)


class LoginThrottleHandler(AxesDatabaseHandler):
    """Axes' database handler with a separate per-address limit and a pair-only reset."""

    def get_failures(self, request, credentials: dict | None = None) -> int:
        # Axes compares the largest count of its parameter sets with one limit. The sets are
        # [(username, ip_address), ip_address]: the pair's count is compared as it is, and the
        # address's counts only once it reaches its own limit.
        pair, address = (
            attempts.aggregate(n=Sum("failures_since_start"))["n"] or 0
            for attempts in self.get_user_attempts(request, credentials)
        )
        if address >= settings.LOGIN_IP_FAILURE_LIMIT:
            return max(pair, failure_limit(request, credentials))
        return pair

    def reset_user_attempts(self, request, credentials: dict | None = None) -> int:
        # One good password clears its own pair, not the address's failures on other names.
        pair = self.filter_user_attempts(request, credentials)[0]
        count, _ = pair.delete()
        return count


def reset_email_refusal(request: HttpRequest, email: str) -> str | None:
    """Why a password-reset e-mail is refused now, or None (and the request is counted).

    Counted whether or not an account has the address, so the answer tells nothing about
    which addresses have accounts.
    """
    window = settings.PASSWORD_RESET_WINDOW_SECONDS
    keys = [
        (f"reset-throttle:ip:{_digest(client_ip(request))}", settings.PASSWORD_RESET_ADDRESS_LIMIT),
        (
            f"reset-throttle:email:{_digest(email.strip().casefold())}",
            settings.PASSWORD_RESET_EMAIL_LIMIT,
        ),
    ]
    now = time.time()
    try:
        counts = [_window_count(key, now, window) for key, _limit in keys]
        full = [
            started
            for (key, limit), (count, started) in zip(keys, counts, strict=True)
            if count >= limit
        ]
        if full:
            minutes = max(1, int((max(full) + window - now + 59) // 60))
            return ngettext(
                "Too many password-reset requests. Please try again in %(minutes)d minute.",
                "Too many password-reset requests. Please try again in %(minutes)d minutes.",
                minutes,
            ) % {"minutes": minutes}
        for (key, _limit), (count, started) in zip(keys, counts, strict=True):
            # (count, window start) stored whole: cache.incr resets the timeout on some
            # backends (the database cache), which would stretch or shorten the window.
            cache.set(key, (count + 1, started), timeout=int(started + window - now) + 1)
    except Exception:
        logger.warning("password-reset throttle skipped: the cache failed", exc_info=True)
    return None


def _window_count(key: str, now: float, window: int) -> tuple[int, float]:
    count, started = cache.get(key) or (0, now)
    if now - started >= window:
        return 0, now
    return count, started


def _digest(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()[:32]
