"""Django admin: one module per area, imported here so autodiscovery registers them all."""

from . import accounts, orders, payments  # noqa: F401
