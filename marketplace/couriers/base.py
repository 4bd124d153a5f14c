"""What couriers are asked and answer: plain dataclasses, never a courier's wire format."""

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal


class Status:
    """Our names for a parcel's states; each courier adapter maps its own onto these."""

    BOOKED = "booked"
    PICKED_UP = "picked_up"
    IN_TRANSIT = "in_transit"
    OUT_FOR_DELIVERY = "out_for_delivery"
    DELIVERED = "delivered"
    DELIVERY_FAILED = "delivery_failed"
    RETURNED = "returned"


@dataclass(frozen=True)
class ParcelRequest:
    order_reference: str
    cod_amount: Decimal  # what the courier collects from the buyer (0 when paid online)
    weight_kg: Decimal
    pieces: int
    name: str
    phone: str
    address: str
    city: str
    description: str = ""


@dataclass(frozen=True)
class TrackingEvent:
    sequence: int  # the courier's order of events for the parcel, from 1
    status: str  # one of Status, or "" for a courier status we do not know
    courier_status: str  # the courier's own words
    at: datetime


@dataclass(frozen=True)
class Tracking:
    tracking_number: str
    events: tuple[TrackingEvent, ...]
    delivery_charge: Decimal  # the courier's charge for carrying it (COD charge)
    return_charge: Decimal  # its charge for bringing it back (RTO)


@dataclass(frozen=True)
class RemittanceLine:
    tracking_number: str
    collected: Decimal
    cod_charge: Decimal
    return_charge: Decimal
    reference: str  # the courier's payment reference


@dataclass(frozen=True)
class Courier:
    """One adapter module's entry points (see postex.py)."""

    name: str
    book: object
    track: object
    remittance_report: object
    parse_callback: object
    tracking_url: object
