"""Django admin: one module per area, imported here so autodiscovery registers them all."""

from . import (  # noqa: F401
    accounts,
    aftersale,
    api_tokens,
    auctions,
    catalog,
    dashboard,
    orders,
    payments,
)
