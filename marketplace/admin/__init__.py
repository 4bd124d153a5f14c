"""Django admin: one module per area, imported here so autodiscovery registers them all."""

from . import accounts, auctions, catalog, orders, payments  # noqa: F401
