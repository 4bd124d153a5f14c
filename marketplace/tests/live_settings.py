"""Settings for the Daphne process behind browser tests: the real ones, the tests' hasher."""

from madeinpk.settings import *  # noqa: F403

# PBKDF2's million rounds cost ~0.4 s per password on a small machine; tests use MD5.
FAST_PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
PASSWORD_HASHERS = FAST_PASSWORD_HASHERS
