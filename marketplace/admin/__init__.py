"""Django admin: one module per area, imported here so autodiscovery registers them all."""

from . import (  # noqa: F401
    accounts,
    api_tokens,
    auctions,
    catalog,
    complaints,
    couriers,
    dashboard,
    feedback,
    fulfilment,
    ledger,
    messaging,
    orders,
    payments,
    returns,
    search,
)
