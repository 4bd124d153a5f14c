"""Django admin: one module per area, imported here so autodiscovery registers them all."""

from . import accounts, aftersale, auctions, catalog, dashboard, ledger, orders, payments  # noqa: F401
