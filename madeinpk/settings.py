"""Settings for MadeInPK: one module, read from the environment, safe defaults.

With nothing set, the site runs on embedded services (SQLite, in-memory channel layer,
django-q2's ORM broker, console e-mail). Setting DATABASE_URL, REDIS_URL, the Stripe keys and
the SMTP variables switches to real services; README.md has the table.
"""

import os
from decimal import Decimal
from pathlib import Path

import dj_database_url
from django.utils.translation import gettext_lazy as _

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
    "django_htmx.middleware.HtmxMiddleware",
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
if DATABASE_URL:
    DATABASES = {"default": dj_database_url.parse(DATABASE_URL, conn_max_age=60)}
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
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Redis: channel layer and task broker ---------------------------------------------------
REDIS_URL = os.environ.get("REDIS_URL", "")
if REDIS_URL:
    CHANNEL_LAYERS = {
        "default": {
            # Pub/sub: a group event is published once and each Daphne process, subscribed
            # once per group, hands it to its own sockets' queues. The list-based layer
            # (channels_redis.core) has every waiting socket of a process queue on one receive
            # lock, which cost ~0.1 ms per socket per event at 1,000 watchers. Delivery is at
            # most once: a page that misses an event notices the gap in `seq` and resyncs.
            "BACKEND": "channels_redis.pubsub.RedisPubSubChannelLayer",
            "CONFIG": {
                # redis-py 8 caps a pool at 100 connections and fails past that at once.
                "hosts": [{"address": REDIS_URL, "socket_timeout": 15, "max_connections": 1000}],
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
}
if REDIS_URL:
    Q_CLUSTER.pop("orm")
    Q_CLUSTER["redis"] = REDIS_URL

# --- Auth -----------------------------------------------------------------------------------
AUTH_USER_MODEL = "marketplace.User"
# ModelBackend that also takes the e-mail address as the login name.
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
# Login throttling: this many failures per (username, IP) inside the window start a cool-off.
LOGIN_FAILURE_LIMIT = env_int("LOGIN_FAILURE_LIMIT", 5)
LOGIN_COOLOFF_SECONDS = env_int("LOGIN_COOLOFF_SECONDS", 15 * 60)
# Failures from one IP before it cools off; raise it where many users share one public IP
# (mobile carrier NAT). Behind a proxy, run daphne with --proxy-headers so the IP is the client's.
LOGIN_IP_FAILURE_LIMIT = env_int("LOGIN_IP_FAILURE_LIMIT", LOGIN_FAILURE_LIMIT)

# --- Cache (login throttling, small counters) -----------------------------------------------
if REDIS_URL:
    CACHES = {
        "default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": REDIS_URL}
    }
else:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.db.DatabaseCache",
            "LOCATION": "madeinpk_cache",
        }
    }

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
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"
        if not DEBUG
        else "django.contrib.staticfiles.storage.StaticFilesStorage"
    },
}
# Media files are our own re-encoded images; Django serves them unless a proxy does.
SERVE_MEDIA = env_bool("SERVE_MEDIA", True)
WHITENOISE_USE_FINDERS = DEBUG
IMAGE_MAX_UPLOAD_BYTES = env_int("IMAGE_MAX_UPLOAD_BYTES", 8 * 1024 * 1024)
IMAGE_MAX_PIXELS = env_int("IMAGE_MAX_PIXELS", 40_000_000)
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
FIXED_PRICE_PAYMENT_DEADLINE_HOURS = env_int("FIXED_PRICE_PAYMENT_DEADLINE_HOURS", 48)
AUCTION_PAYMENT_DEADLINE_HOURS = env_int("AUCTION_PAYMENT_DEADLINE_HOURS", 24)
AUCTION_SOFT_CLOSE_WINDOW_SECONDS = env_int("AUCTION_SOFT_CLOSE_WINDOW_SECONDS", 120)
AUCTION_SOFT_CLOSE_EXTENSION_SECONDS = env_int("AUCTION_SOFT_CLOSE_EXTENSION_SECONDS", 120)
PAYMENT_VIOLATIONS_BEFORE_BLOCK = env_int("PAYMENT_VIOLATIONS_BEFORE_BLOCK", 3)
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
MAX_PRICE = Decimal("100000000.00")  # Rs 10 crore: anything above is a typo, not a listing.
MAX_QUANTITY = 10_000
PAGE_SIZE = 24

# --- Crispy forms ---------------------------------------------------------------------------
CRISPY_ALLOWED_TEMPLATE_PACKS = "bootstrap5"
CRISPY_TEMPLATE_PACK = "bootstrap5"

# --- Security -------------------------------------------------------------------------------
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SESSION_COOKIE_HTTPONLY = True
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

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "INFO")},
    "loggers": {"django.db.backends": {"level": "WARNING"}},
}
