"""Couriers: the one place that talks to a courier (one module per courier: `postex.py`).

The rest of the code calls `get_courier()` and gets plain dataclasses back (base.py), never a
courier's wire format. Services (services/parcels.py, services/remittance.py) are the only
callers. Settings are read at call time: COURIER_PROVIDER, COURIER_API_BASE, COURIER_API_TOKEN,
COURIER_WEBHOOK_SECRET, COURIER_PICKUP_ADDRESS_CODE, COURIER_TRACKING_URL.
"""

from django.conf import settings

from marketplace.couriers import postex
from marketplace.couriers.base import (
    Courier,
    ParcelRequest,
    RemittanceLine,
    Status,
    Tracking,
    TrackingEvent,
)

__all__ = [
    "Courier",
    "ParcelRequest",
    "RemittanceLine",
    "Status",
    "Tracking",
    "TrackingEvent",
    "get_courier",
]

COURIERS = {
    "postex": Courier(
        name=postex.NAME,
        book=postex.book,
        track=postex.track,
        remittance_report=postex.remittance_report,
        parse_callback=postex.parse_callback,
        tracking_url=postex.tracking_url,
    ),
}


def get_courier(key: str | None = None) -> Courier:
    """The courier `key` ("postex"), or the configured one."""
    return COURIERS[key or settings.COURIER_PROVIDER]
