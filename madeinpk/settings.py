"""Settings for MadeInPK: one module, read from the environment, safe defaults.

With nothing set, the site runs on embedded services (SQLite, in-memory channel layer,
django-q2's ORM broker, console e-mail). Setting DATABASE_URL, REDIS_URL, the Stripe keys and
the SMTP variables switches to real services; README.md has the table.
"""

import os
from decimal import Decimal
from pathlib import Path

import dj_database_url
from csp.constants import NONCE, NONE, SELF, UNSAFE_INLINE
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _
from redis.backoff import NoBackoff
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.retry import Retry

BASE_DIR = Path(__file__).resolve().parent.parent


def env_bool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def env_list(name: str, default: str = "") -> list[str]:
    return [item.strip() for item in os.environ.get(name, default).split(",") if item.strip()]


def env_int(name: str, default: int) -> int:
    value = os.environ.get(name)
    return int(value) if value else default


DEBUG = env_bool("DEBUG", False)
# The fallback is prefixed "django-insecure-" so `check --deploy` flags a production
# deployment that forgot SECRET_KEY.
_DEV_SECRET = "django-insecure-dev-only-set-SECRET_KEY-in-production-0123456789abcdef"  # noqa: S105
SECRET_KEY = os.environ.get("SECRET_KEY") or _DEV_SECRET
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", "localhost,127.0.0.1,[::1]")


def machine_names() -> list[str]:
    """This machine's host names and addresses, to reach a development server on 0.0.0.0."""
    import socket

    names = {socket.gethostname(), socket.getfqdn(), f"{socket.gethostname()}.local"}
    try:
        names.update(socket.gethostbyname_ex(socket.gethostname())[2])
    except OSError:
        pass
    try:
        # The address of the default route's interface (a UDP "connect" sends nothing).
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
            probe.connect(("10.255.255.255", 1))
            names.add(probe.getsockname()[0])
    except OSError:
        pass
    return sorted(name for name in names if name)


# `HOST=0.0.0.0 make run` serves other devices (a phone on the same Wi-Fi): in development,
# without ALLOWED_HOSTS set, their requests to this machine's names and addresses are allowed.
ALL_INTERFACES = {"0.0.0.0", "::"}  # noqa: S104 (compared with HOST, never bound here)
if DEBUG and "ALLOWED_HOSTS" not in os.environ and os.environ.get("HOST") in ALL_INTERFACES:
    ALLOWED_HOSTS += machine_names()
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS")
SITE_URL = os.environ.get("SITE_URL", "http://127.0.0.1:8000").rstrip("/")

INSTALLED_APPS = [
    "daphne",
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "django.contrib.postgres",
    "channels",
    "django_htmx",
    "template_partials",
    "crispy_forms",
    "crispy_bootstrap5",
    "django_q",
    "csp",
    "axes",
    "rest_framework",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "marketplace",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "marketplace.i18n.UserLanguageMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "csp.middleware.CSPMiddleware",
    "marketplace.middleware.PrivateCacheControlMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "marketplace.images.DecodeBudgetMiddleware",
]

ROOT_URLCONF = "madeinpk.urls"
ASGI_APPLICATION = "madeinpk.asgi.application"
WSGI_APPLICATION = "madeinpk.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "marketplace.context_processors.navigation",
                "csp.context_processors.nonce",
                "marketplace.personal.shared_copy_context",
            ],
            "builtins": ["template_partials.templatetags.partials"],
            # The cached loader inside the partials loader: without it every request (and
            # every {% include "...#partial" %}) re-reads and re-parses the template files.
            # runserver's autoreloader still resets it when a template changes.
            "loaders": [
                (
                    "template_partials.loader.Loader",
                    [
                        (
                            "django.template.loaders.cached.Loader",
                            [
                                "django.template.loaders.filesystem.Loader",
                                "django.template.loaders.app_directories.Loader",
                            ],
                        )
                    ],
                )
            ],
        },
    }
]

# --- Database -------------------------------------------------------------------------------
# SQLite by default: WAL lets the web server read while the worker writes, IMMEDIATE
# transactions take the write lock up front so two writers queue instead of failing with
# "database is locked" half-way through.
_SQLITE_OPTIONS = {
    "transaction_mode": "IMMEDIATE",
    "timeout": 20,
    "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA busy_timeout=20000;",
}
DATABASE_URL = os.environ.get("DATABASE_URL", "")
# PostgreSQL connections per process: a pool of at most DB_POOL_MAX_SIZE, shared by every
# thread. Persistent per-thread connections (CONN_MAX_AGE) leak under Daphne, whose sync
# threads come and go; Django requires CONN_MAX_AGE=0 with a pool. Size it so that
# (web processes + worker processes) x DB_POOL_MAX_SIZE stays below max_connections
# (README "Switching to real services"). A request that finds the pool empty waits up to
# DB_POOL_TIMEOUT seconds for a connection, then fails. DB_POOL_MAX_SIZE=0 turns the pool off
# (one connection per request or task, closed after it): the Procfile's worker runs so,
# because django-q2 forks its workers and a forked child must not inherit the parent's pool.
DB_POOL_MIN_SIZE = env_int("DB_POOL_MIN_SIZE", 2)
DB_POOL_MAX_SIZE = env_int("DB_POOL_MAX_SIZE", 10)
DB_POOL_TIMEOUT = env_int("DB_POOL_TIMEOUT", 10)
if DATABASE_URL:
    DATABASES = {"default": dj_database_url.parse(DATABASE_URL, conn_max_age=0)}
    if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql" and DB_POOL_MAX_SIZE:
        DATABASES["default"].setdefault("OPTIONS", {})["pool"] = {
            "min_size": min(DB_POOL_MIN_SIZE, DB_POOL_MAX_SIZE),
            "max_size": DB_POOL_MAX_SIZE,
            "timeout": DB_POOL_TIMEOUT,
        }
        # With a pool this makes Django pass ConnectionPool.check_connection: a connection
        # broken by a database restart is replaced when taken, not handed to a request.
        DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
else:
    DATABASES = {
        "default": {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": os.environ.get("SQLITE_PATH", str(BASE_DIR / "db.sqlite3")),
            "OPTIONS": _SQLITE_OPTIONS,
            "TEST": {"NAME": os.environ.get("SQLITE_TEST_PATH") or None},
        }
    }
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    DATABASES["default"].setdefault("OPTIONS", {}).update(_SQLITE_OPTIONS)
# PostgreSQL plans each statement it is sent: a product page's few statements took longer to
# plan than to run (~6 ms against under 1 ms at 100,000 products). So parameters are bound on
# the server and a statement a connection has run DB_PREPARE_THRESHOLD times is prepared,
# planned no more (DB_PREPARED_STATEMENTS=0 turns this off). A search is the exception: its
# statements are planned for its own words (queries.prepared.planned_for_their_values), since
# a generic plan cannot know how common they are (measured: p95 263 ms against 93 planned each
# time; BENCHMARKS.md, issue 17). A statement then takes at most 65,535 parameters. Not behind
# a PgBouncer in transaction mode older than 1.21.
if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql" and env_bool(
    "DB_PREPARED_STATEMENTS", True
):
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        server_side_binding=True, prepare_threshold=env_int("DB_PREPARE_THRESHOLD", 5)
    )
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Redis: channel layer and task broker ---------------------------------------------------
REDIS_URL = os.environ.get("REDIS_URL", "")
# Every Redis call on a request's or a bid's path (broadcast, task enqueue, cache) gives up
# after these many seconds, with no backoff (redis-py's own client retries ten times with
# backoff): while Redis is down a committed bid pays about a millisecond per call (connection
# refused), at worst these timeouts if Redis hangs; what must not be lost is in the database
# already (notification outbox, swept by the worker). The one retry is immediate and only on
# a connection error: the first command on a connection Redis closed (a restart) reconnects
# instead of failing. A timeout is never retried. The socket timeout stays above the
# broker's 1 s blocking pop.
REDIS_CONNECT_TIMEOUT = float(os.environ.get("REDIS_CONNECT_TIMEOUT", "1"))
REDIS_SOCKET_TIMEOUT = float(os.environ.get("REDIS_SOCKET_TIMEOUT", "2"))


def redis_options(asynchronous: bool = False) -> dict:
    """Connection options for a redis-py client or pool (sync, or asyncio for the layer)."""
    if asynchronous:
        from redis.asyncio.retry import Retry as AsyncRetry

        retry = AsyncRetry(NoBackoff(), 1, supported_errors=(RedisConnectionError,))
    else:
        retry = Retry(NoBackoff(), 1, supported_errors=(RedisConnectionError,))
    return {
        "socket_connect_timeout": REDIS_CONNECT_TIMEOUT,
        "socket_timeout": REDIS_SOCKET_TIMEOUT,
        "retry": retry,
    }


def channel_prefix(redis_url: str) -> str:
    """The channel layer's prefix for Redis channels: pub/sub ignores the database number, so
    sites (or test workers) sharing one Redis server on different databases would hear each
    other's events; the number goes into the channel names instead ("asgi" on database 0)."""
    from redis.connection import parse_url

    database = int(parse_url(redis_url).get("db") or 0)
    return "asgi" if database == 0 else f"asgi{database}"


if REDIS_URL:
    CHANNEL_LAYERS = {
        "default": {
            # Pub/sub: a group event is published once and each Daphne process, subscribed
            # once per group, hands it to its own sockets' queues. The list-based layer
            # (channels_redis.core) has every waiting socket of a process queue on one receive
            # lock, so each event cost time per waiting socket. Delivery is at
            # most once: a page that misses an event notices the gap in `seq` and resyncs.
            "BACKEND": "channels_redis.pubsub.RedisPubSubChannelLayer",
            "CONFIG": {
                # redis-py 8 caps a pool at 100 connections and fails past that at once.
                "hosts": [{"address": REDIS_URL, "max_connections": 1000, **redis_options(True)}],
                "prefix": channel_prefix(REDIS_URL),
            },
        }
    }
else:
    CHANNEL_LAYERS = {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}}

Q_CLUSTER = {
    "name": "madeinpk",
    "workers": env_int("Q_WORKERS", 2),
    "timeout": 60,
    "retry": 120,
    "max_attempts": 3,
    "catch_up": False,
    "save_limit": 500,
    "label": _("Scheduled tasks"),
    "orm": "default",
    "sync": env_bool("Q_SYNC", False),
    # 0: this cluster only works the queue (a second cluster on another machine, or the
    # closing benchmark's); exactly one cluster of a site runs the schedules.
    "scheduler": env_bool("Q_SCHEDULER", True),
}
if REDIS_URL:
    Q_CLUSTER.pop("orm")
    # django-q2 passes a dict to redis.Redis(**...): the URL's parts plus the timeouts.
    from redis.connection import parse_url

    Q_CLUSTER["redis"] = {**parse_url(REDIS_URL), **redis_options()}

# --- Auth -----------------------------------------------------------------------------------
AUTH_USER_MODEL = "marketplace.User"
# ModelBackend that also takes the e-mail address as the login name, behind django-axes' check.
AUTHENTICATION_BACKENDS = ["marketplace.auth.UsernameOrEmailBackend"]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "home"
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
# Login throttling (django-axes, see marketplace/auth.py): this many failures of one account from
# one address start a cool-off, doubled for each earlier lockout of that pair within a day.
LOGIN_FAILURE_LIMIT = env_int("LOGIN_FAILURE_LIMIT", 5)
LOGIN_COOLOFF_SECONDS = env_int("LOGIN_COOLOFF_SECONDS", 15 * 60)
LOGIN_COOLOFF_MAX_SECONDS = env_int("LOGIN_COOLOFF_MAX_SECONDS", 4 * 60 * 60)
# Failures from one address on any names before the address cools off; above the per-account
# limit so people sharing a public address (mobile carrier NAT) do not lock each other out.
LOGIN_IP_FAILURE_LIMIT = env_int("LOGIN_IP_FAILURE_LIMIT", 4 * LOGIN_FAILURE_LIMIT)
# Reverse proxies in front of the site that append to X-Forwarded-For (0: REMOTE_ADDR is the
# client). marketplace.auth.client_ip is the one place that reads the client's address.
TRUSTED_PROXY_COUNT = env_int("TRUSTED_PROXY_COUNT", 0)
AXES_HANDLER = "marketplace.auth.LoginThrottleHandler"
# LoginThrottleHandler.get_failures relies on this order: the pair, then the address.
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"], "ip_address"]
AXES_FAILURE_LIMIT = "marketplace.auth.failure_limit"
AXES_COOLOFF_TIME = "marketplace.auth.cool_off"
AXES_CLIENT_IP_CALLABLE = "marketplace.auth.client_ip"
AXES_USERNAME_CALLABLE = "marketplace.auth.throttle_username"
AXES_RESET_ON_SUCCESS = True
# Attempts during a cool-off neither extend it nor count: its end, once shown, holds.
AXES_RESET_COOL_OFF_ON_FAILURE_DURING_LOCKOUT = False
# Each pair's failures expire at their own cool-off's end (cool-offs differ per pair).
AXES_USE_ATTEMPT_EXPIRATION = True
# The failure log records lockouts, which lengthen the next cool-off.
AXES_ENABLE_ACCESS_FAILURE_LOG = True
AXES_DISABLE_ACCESS_LOG = True  # no row per successful log-in
AXES_VERBOSE = False  # no banner on every manage.py command
# The log-in forms explain a cool-off in place (ThrottledLoginMixin, status 429), so axes'
# middleware, which would replace the page, is left out on purpose.
SILENCED_SYSTEM_CHECKS = ["axes.W002"]
# Password-reset e-mails: requests per client address and per e-mail address typed, per window.
PASSWORD_RESET_ADDRESS_LIMIT = env_int("PASSWORD_RESET_ADDRESS_LIMIT", 10)
PASSWORD_RESET_EMAIL_LIMIT = env_int("PASSWORD_RESET_EMAIL_LIMIT", 3)
PASSWORD_RESET_WINDOW_SECONDS = env_int("PASSWORD_RESET_WINDOW_SECONDS", 60 * 60)

# --- Cache (password-reset throttling, small counters; nothing a request needs) ---------------
# Both backends fail open (madeinpk/cache.py): Redis down is a logged warning, not a 500.
# The database cache's table is created by a migration (marketplace 0017), so `migrate`
# alone gives a working site.
if REDIS_URL:
    CACHES = {
        "default": {
            "BACKEND": "madeinpk.cache.FailOpenRedisCache",
            "LOCATION": REDIS_URL,
            "OPTIONS": redis_options(),
        }
    }
else:
    CACHES = {
        "default": {
            "BACKEND": "madeinpk.cache.FailOpenDatabaseCache",
            "LOCATION": "madeinpk_cache",
        }
    }

# Shared catalogue pages (marketplace/page_cache.py) are served as they are for this long: the
# backstop behind the generations the services bump; 0 turns the shared pages off. After it, a
# copy is served again only if the prices, stock and auction state of the products it shows
# are unchanged (one query), and for PAGE_CACHE_MAX_SECONDS after it was rendered at most.
PAGE_CACHE_SECONDS = env_int("PAGE_CACHE_SECONDS", 5)
PAGE_CACHE_MAX_SECONDS = env_int("PAGE_CACHE_MAX_SECONDS", 60)

# --- Locale ---------------------------------------------------------------------------------
LANGUAGE_CODE = "en"
LANGUAGES = [("en", _("English")), ("ur", _("Urdu"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
# Visitors keep their choice for a year (Django's default is a browser-session cookie).
LANGUAGE_COOKIE_AGE = 60 * 60 * 24 * 365
LANGUAGE_COOKIE_SAMESITE = "Lax"
TIME_ZONE = "Asia/Karachi"
USE_I18N = True
USE_TZ = True
CURRENCY = os.environ.get("CURRENCY", "PKR")

# --- Static and media -----------------------------------------------------------------------
STATIC_URL = "/static/"
STATIC_ROOT = Path(os.environ.get("STATIC_ROOT", str(BASE_DIR / "staticfiles")))
STATICFILES_DIRS = [BASE_DIR / "static"]
MEDIA_URL = "/media/"
MEDIA_ROOT = Path(os.environ.get("MEDIA_ROOT", str(BASE_DIR / "media")))
# Files only their owner and staff may see (complaint photos): outside MEDIA_ROOT, served by
# views that check permissions, never by the /media/ route or a proxy.
PRIVATE_MEDIA_ROOT = Path(os.environ.get("PRIVATE_MEDIA_ROOT", str(BASE_DIR / "private_media")))
# Static files straight from static/ (edits show at once) or, as in production, collected
# with hashed names and gzip/brotli copies that whitenoise serves. `make run` collects them
# and sets STATIC_FROM_SOURCE=0, so pages weigh in development what they weigh in production.
STATIC_FROM_SOURCE = env_bool("STATIC_FROM_SOURCE", DEBUG)
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"
        if STATIC_FROM_SOURCE
        else "whitenoise.storage.CompressedManifestStaticFilesStorage"
    },
}
# Media files are our own re-encoded images; Django serves them unless a proxy does.
SERVE_MEDIA = env_bool("SERVE_MEDIA", True)
WHITENOISE_USE_FINDERS = STATIC_FROM_SOURCE
IMAGE_MAX_UPLOAD_BYTES = env_int("IMAGE_MAX_UPLOAD_BYTES", 8 * 1024 * 1024)
IMAGE_MAX_PIXELS = env_int("IMAGE_MAX_PIXELS", 40_000_000)
# Decoded pixels one request may cost (8 phone photos of 12 MP in RGB), photos decoded at once
# per process, and how long an upload waits for its turn before "busy, try again".
IMAGE_MAX_DECODED_BYTES = env_int("IMAGE_MAX_DECODED_BYTES", 8 * 12_000_000 * 3)
IMAGE_MAX_CONCURRENT_DECODES = env_int("IMAGE_MAX_CONCURRENT_DECODES", 2)
IMAGE_DECODE_WAIT_SECONDS = env_int("IMAGE_DECODE_WAIT_SECONDS", 20)
# New listings (fixed price and auction) and complaint photos per user in a window.
LISTING_RATE_LIMIT = env_int("LISTING_RATE_LIMIT", 20)
LISTING_RATE_WINDOW_SECONDS = env_int("LISTING_RATE_WINDOW_SECONDS", 60 * 60)
COMPLAINT_PHOTO_RATE_LIMIT = env_int("COMPLAINT_PHOTO_RATE_LIMIT", 5)
COMPLAINT_PHOTO_RATE_WINDOW_SECONDS = env_int("COMPLAINT_PHOTO_RATE_WINDOW_SECONDS", 60 * 60)
DATA_UPLOAD_MAX_MEMORY_SIZE = 10 * 1024 * 1024
FILE_UPLOAD_MAX_MEMORY_SIZE = 10 * 1024 * 1024

# --- E-mail ---------------------------------------------------------------------------------
EMAIL_HOST = os.environ.get("EMAIL_HOST", "")
if EMAIL_HOST:
    EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    EMAIL_PORT = env_int("EMAIL_PORT", 587)
    EMAIL_HOST_USER = os.environ.get("EMAIL_HOST_USER", "")
    EMAIL_HOST_PASSWORD = os.environ.get("EMAIL_HOST_PASSWORD", "")
    EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", EMAIL_PORT == 587)
    EMAIL_USE_SSL = env_bool("EMAIL_USE_SSL", False)
else:
    EMAIL_BACKEND = "django.core.mail.backends.console.EmailBackend"
DEFAULT_FROM_EMAIL = os.environ.get("DEFAULT_FROM_EMAIL", "MadeInPK <no-reply@madeinpk.local>")
SERVER_EMAIL = DEFAULT_FROM_EMAIL

# --- Marketplace rules ----------------------------------------------------------------------
PLATFORM_FEE_RATE = Decimal(os.environ.get("PLATFORM_FEE_RATE", "0.02"))
# A fixed-price checkout holds its stock this long; unpaid by then, the payment deadline job
# cancels it and the stock goes back on sale (issue 12: stock hoarding).
CHECKOUT_HOLD_MINUTES = env_int("CHECKOUT_HOLD_MINUTES", 30)
# E-mail change (issue 12): the link to the new address lasts this long; the undo link sent
# to the old address this many days.
EMAIL_CHANGE_HOURS = env_int("EMAIL_CHANGE_HOURS", 24)
EMAIL_CHANGE_UNDO_DAYS = env_int("EMAIL_CHANGE_UNDO_DAYS", 7)
# A buyer's fixed-price checkouts waiting for payment at once.
MAX_OPEN_UNPAID_CHECKOUTS = env_int("MAX_OPEN_UNPAID_CHECKOUTS", 3)
AUCTION_PAYMENT_DEADLINE_HOURS = env_int("AUCTION_PAYMENT_DEADLINE_HOURS", 24)
AUCTION_SOFT_CLOSE_WINDOW_SECONDS = env_int("AUCTION_SOFT_CLOSE_WINDOW_SECONDS", 120)
AUCTION_SOFT_CLOSE_EXTENSION_SECONDS = env_int("AUCTION_SOFT_CLOSE_EXTENSION_SECONDS", 120)
# Live auction events (marketplace/background.py): a bid's broadcast, outbid e-mails and bell
# counts are sent at most once per this window per auction (or reader), the latest state winning.
LIVE_COALESCE_SECONDS = float(os.environ.get("LIVE_COALESCE_SECONDS", "0.05"))
# A watching socket whose client has not taken this many bytes yet is skipped (its page resyncs
# on the next event it gets), and closed if still behind this many seconds later
# (marketplace/hub.py).
LIVE_SOCKET_BACKLOG_BYTES = env_int("LIVE_SOCKET_BACKLOG_BYTES", 1_000_000)
LIVE_SLOW_SOCKET_SECONDS = float(os.environ.get("LIVE_SLOW_SOCKET_SECONDS", "30"))
PAYMENT_VIOLATIONS_BEFORE_BLOCK = env_int("PAYMENT_VIOLATIONS_BEFORE_BLOCK", 3)
# Cash on delivery (issue 15): offered only for checkouts below COD_LIMIT rupees; the buyer
# confirms a COD order within COD_CONFIRM_HOURS or the deadline job cancels it; a buyer whose
# COD parcels were refused (or unreachable) COD_REFUSAL_LIMIT times can no longer choose COD.
COD_LIMIT = Decimal(os.environ.get("COD_LIMIT", "50000"))
COD_CONFIRM_HOURS = env_int("COD_CONFIRM_HOURS", 24)
COD_REFUSAL_LIMIT = env_int("COD_REFUSAL_LIMIT", 2)
# A shipped order the buyer has not confirmed counts as delivered this many days after shipping.
AUTO_CONFIRM_DELIVERY_DAYS = env_int("AUTO_CONFIRM_DELIVERY_DAYS", 14)
# Seller ledger (issue 14): a delivered order's money becomes available this many days after
# delivery (the buyer's return window), unless a return or complaint on it is open.
LEDGER_RELEASE_DAYS = env_int("LEDGER_RELEASE_DAYS", 7)
# Payout batches: sellers whose available balance is at least this much are paid, on this
# schedule ("weekly" or "daily"); a new or changed payout method holds payouts this long.
PAYOUT_MINIMUM = Decimal(os.environ.get("PAYOUT_MINIMUM", "1000"))
PAYOUT_SCHEDULE = os.environ.get("PAYOUT_SCHEDULE", "weekly")
PAYOUT_METHOD_HOLD_HOURS = env_int("PAYOUT_METHOD_HOLD_HOURS", 48)
# Flood control for buyer-seller messages: at most this many per user in the window.
MESSAGE_RATE_LIMIT = env_int("MESSAGE_RATE_LIMIT", 10)
MESSAGE_RATE_WINDOW_SECONDS = env_int("MESSAGE_RATE_WINDOW_SECONDS", 60)
# WebSocket messages one user may send over all their sockets (every process) in the window.
WS_USER_RATE_LIMIT = env_int("WS_USER_RATE_LIMIT", 5)
WS_USER_RATE_WINDOW_SECONDS = env_int("WS_USER_RATE_WINDOW_SECONDS", 1)
# Bids per user, counted by services.bidding.place_bid: the same limit for the socket, the bid
# form (HTML and HTMX) and the REST API (issue 12, item 15).
BID_RATE_LIMIT = env_int("BID_RATE_LIMIT", 5)
BID_RATE_WINDOW_SECONDS = env_int("BID_RATE_WINDOW_SECONDS", 1)

# --- Payments (marketplace/payments.py reads these at call time) -----------------------------
# One provider today; cash on delivery and mobile wallets will be other entries of
# payments.PROVIDERS.
PAYMENT_PROVIDER = os.environ.get("PAYMENT_PROVIDER", "stripe")
# Any sk_test_ key works against the local emulator (stripe_emulator/); real test or live keys
# come from the Stripe dashboard.
STRIPE_SECRET_KEY = os.environ.get("STRIPE_SECRET_KEY") or "sk_test_emulator"
# "" talks to Stripe itself; `make run` sets http://127.0.0.1:12111 (the emulator).
STRIPE_API_BASE = os.environ.get("STRIPE_API_BASE", "").rstrip("/")
# Signing secret(s) of the webhook endpoint(s), comma-separated (the platform endpoint and the
# Connect endpoint have one each). Empty refuses every webhook.
STRIPE_WEBHOOK_SECRET = os.environ.get("STRIPE_WEBHOOK_SECRET", "")
STRIPE_CONNECT_COUNTRY = os.environ.get("STRIPE_CONNECT_COUNTRY", "PK")
# JazzCash hosted checkout (issue 16; marketplace/payments/jazzcash_provider.py). Offered at
# checkout only when the merchant id and integrity salt are set. The base URL serves both the
# merchant form and the APIs: JAZZCASH_ENVIRONMENT picks JazzCash's sandbox or live host, and
# JAZZCASH_BASE_URL overrides it (`make run` points it at jazzcash_emulator/).
JAZZCASH_MERCHANT_ID = os.environ.get("JAZZCASH_MERCHANT_ID", "")
JAZZCASH_PASSWORD = os.environ.get("JAZZCASH_PASSWORD", "")
JAZZCASH_INTEGRITY_SALT = os.environ.get("JAZZCASH_INTEGRITY_SALT", "")
# The merchant MPIN the wallet refund API asks for (empty: sent without it).
JAZZCASH_MPIN = os.environ.get("JAZZCASH_MPIN", "")
JAZZCASH_ENVIRONMENT = os.environ.get("JAZZCASH_ENVIRONMENT", "sandbox")
if JAZZCASH_ENVIRONMENT not in {"sandbox", "live"}:
    raise ImproperlyConfigured("JAZZCASH_ENVIRONMENT is 'sandbox' or 'live'.")
JAZZCASH_BASE_URL = (
    os.environ.get("JAZZCASH_BASE_URL")
    or {
        "sandbox": "https://sandbox.jazzcash.com.pk",
        "live": "https://payments.jazzcash.com.pk",
    }[JAZZCASH_ENVIRONMENT]
).rstrip("/")
# MWALLET (pay from a JazzCash account) or MPAY (card through JazzCash).
JAZZCASH_TXN_TYPE = os.environ.get("JAZZCASH_TXN_TYPE", "MWALLET")
# --- Courier (marketplace/couriers/ reads these at call time; issue 15) -----------------------
# Which adapter of marketplace/couriers/ books parcels; its API base ("" turns booking through
# the site off: sellers still enter courier and tracking number by hand) and merchant token.
# `make run` points it at the local emulator (courier_emulator/, http://127.0.0.1:12131).
COURIER_PROVIDER = os.environ.get("COURIER_PROVIDER", "postex")
COURIER_API_BASE = os.environ.get("COURIER_API_BASE", "").rstrip("/")
COURIER_API_TOKEN = os.environ.get("COURIER_API_TOKEN", "")
# "sandbox" (labels say TEST, nothing is really collected) or "live".
COURIER_MODE = os.environ.get("COURIER_MODE", "sandbox")
# Shared secret the courier signs its status callbacks with (empty refuses every callback).
COURIER_WEBHOOK_SECRET = os.environ.get("COURIER_WEBHOOK_SECRET", "")
COURIER_PICKUP_ADDRESS_CODE = os.environ.get("COURIER_PICKUP_ADDRESS_CODE", "")
# The buyer's tracking link; "{tracking}" is replaced by the tracking number.
COURIER_TRACKING_URL = os.environ.get("COURIER_TRACKING_URL") or (
    COURIER_API_BASE + "/track/{tracking}"
    if COURIER_API_BASE
    else "https://postex.pk/tracking?cn={tracking}"
)
MAX_PRICE = Decimal("100000000.00")  # Rs 10 crore: anything above is a typo, not a listing.
MAX_QUANTITY = 10_000
PAGE_SIZE = 24

# --- REST API (marketplace/api/) ------------------------------------------------------------
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "marketplace.api.auth.ApiTokenAuthentication",
        # The site's own pages (JavaScript on our origin) with their session and CSRF token.
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticatedOrReadOnly"],
    "DEFAULT_PARSER_CLASSES": [
        "marketplace.api.parsers.DecimalJSONParser",
        "rest_framework.parsers.FormParser",
        "rest_framework.parsers.MultiPartParser",
    ],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_PAGINATION_CLASS": "marketplace.api.pagination.PagePagination",
    "DEFAULT_SCHEMA_CLASS": "marketplace.api.schema.MarketplaceAutoSchema",
    "EXCEPTION_HANDLER": "marketplace.api.errors.exception_handler",
    "COERCE_DECIMAL_TO_STRING": True,
    "DATETIME_FORMAT": "iso-8601",
}
SPECTACULAR_SETTINGS = {
    "TITLE": "MadeInPK API",
    "DESCRIPTION": (
        "The marketplace's JSON API: the same rules and services as the site. Authenticate "
        "with `Authorization: Token <key>` (POST /api/login/). Money is a string in rupees "
        "with two decimals, times are ISO 8601 in Asia/Karachi (+05:00), errors are "
        '`{"message": ..., "code": ...}`.'
    ),
    "VERSION": "1",
    "SERVE_INCLUDE_SCHEMA": False,
    "SCHEMA_PATH_PREFIX": "/api/",
    # Swagger UI from drf-spectacular-sidecar's static files: nothing from a CDN.
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    "ENUM_NAME_OVERRIDES": {
        "AuctionStatusEnum": "marketplace.models.AuctionListing.Status",
    },
}

# --- Crispy forms ---------------------------------------------------------------------------
CRISPY_ALLOWED_TEMPLATE_PACKS = "bootstrap5"
CRISPY_TEMPLATE_PACK = "bootstrap5"

# --- Security -------------------------------------------------------------------------------
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
# A styled "form expired" page in the visitor's language instead of Django's English one.
CSRF_FAILURE_VIEW = "marketplace.views.errors.csrf_failure"
SESSION_COOKIE_HTTPONLY = True
# With Redis, a signed-in page reads its session from the cache, one GET instead of a query;
# writes go to the database first (marketplace/sessions.py). A session stays cached this many
# seconds at most: a logout while Redis is unreachable cannot leave it usable for longer.
# 0 keeps sessions in the database only (as without Redis).
SESSION_CACHE_SECONDS = env_int("SESSION_CACHE_SECONDS", 300)
if REDIS_URL and SESSION_CACHE_SECONDS > 0:
    SESSION_ENGINE = "marketplace.sessions"
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
if not DEBUG:
    SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", True)
    SESSION_COOKIE_SECURE = env_bool("SESSION_COOKIE_SECURE", True)
    CSRF_COOKIE_SECURE = env_bool("CSRF_COOKIE_SECURE", True)
    SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 60 * 60 * 24 * 365)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", True)
    SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", True)

# Content-Security-Policy (django-csp): scripts only from our own files (or a tag carrying the
# request's nonce, {{ CSP_NONCE }}); no <style> element but ours (htmx's is turned off in
# base.html); style="" attributes stay allowed (they cannot run script); images from us and
# data: URLs (Bootstrap's icons in CSS); sockets and fetches to this origin; forms post here or
# to Stripe's hosted pages (a redirect after a POST counts as the form's target).
_STRIPE_PAGES = ["https://checkout.stripe.com", "https://connect.stripe.com"]
if STRIPE_API_BASE:
    _STRIPE_PAGES.append(STRIPE_API_BASE)  # the local emulator serves its pages itself
_STRIPE_PAGES.append(JAZZCASH_BASE_URL)  # the JazzCash merchant form (or its emulator)
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF, NONCE],
        "style-src": [SELF],
        # The hash: the one <style> of Django's admin/change_list.html (a list without actions).
        "style-src-elem": [SELF, NONCE, "'sha256-blvLUW3UscWqsXGByNOqdBboM+ShWAuugp2mC/wbafU='"],
        "style-src-attr": [UNSAFE_INLINE],
        "img-src": [SELF, "data:"],
        "font-src": [SELF],
        "connect-src": [SELF],
        "object-src": [NONE],
        "base-uri": [SELF],
        "frame-ancestors": [NONE],
        "form-action": [SELF, *_STRIPE_PAGES],
    }
}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "INFO")},
    "loggers": {
        "django.db.backends": {"level": "WARNING"},
        # Failures and lockouts are warnings; axes' info lines narrate every attempt.
        "axes": {"level": "WARNING"},
    },
}
