"""The courier emulator in tests: a fixture, control calls, and callbacks replayed to the site."""

import json
import time
import urllib.request
from decimal import Decimal

import pytest

from courier_emulator import start_emulator
from marketplace import models
from marketplace.services import parcels
from marketplace.services.cod import confirm_cod_order
from marketplace.tests.factories.orders import cod_order_for, listing_by, shop_delivery
from marketplace.tests.stripe_support import WebhookReceiver

TOKEN = "test-courier-token"
SECRET = "test-courier-secret"


@pytest.fixture
def courier_callbacks():
    """Where the emulator posts its callbacks: (body, headers) in arrival order."""
    receiver = WebhookReceiver()
    yield receiver
    receiver.close()


@pytest.fixture
def courier(settings, courier_callbacks):
    """The courier emulator, with the site's settings pointed at it."""
    server, base_url = start_emulator(
        token=TOKEN,
        callback_url=courier_callbacks.url,
        callback_secret=SECRET,
        retry_delays=(0.1, 0.2),
    )
    settings.COURIER_PROVIDER = "postex"
    settings.COURIER_API_BASE = base_url
    settings.COURIER_API_TOKEN = TOKEN
    settings.COURIER_WEBHOOK_SECRET = SECRET
    settings.COURIER_TRACKING_URL = base_url + "/track/{tracking}"
    yield server
    server.close()


def control(server, path: str, body: dict) -> dict:
    request = urllib.request.Request(  # noqa: S310 - the emulator on loopback
        f"{server.base_url}/_emulator/{path}",
        data=json.dumps(body).encode(),
        method="POST",
        headers={"Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=5) as response:  # noqa: S310 - loopback
        return json.loads(response.read())


def move(server, tracking: str, *statuses: str) -> dict:
    """The courier moves the parcel through `statuses` (one callback each)."""
    parcel = {}
    for status in statuses:
        parcel = control(server, f"parcels/{tracking}/status", {"status": status})
    return parcel


def wait_for_callbacks(receiver, count: int, timeout: float = 5) -> list[tuple[bytes, dict]]:
    deadline = time.monotonic() + timeout
    while len(receiver.deliveries) < count:
        assert time.monotonic() < deadline, f"{len(receiver.deliveries)} of {count} callbacks"
        time.sleep(0.02)
    return receiver.deliveries[:count]


def post_callback(client, body: bytes, headers: dict):
    """Hand a callback the emulator sent on to the site's endpoint, as the courier would."""
    signature = {k.lower(): v for k, v in headers.items()}.get("x-postex-signature", "")
    return client.post(
        "/couriers/postex/callback/",
        data=body,
        content_type="application/json",
        headers={"X-PostEx-Signature": signature},
    )


def cod_order(seller, buyer, *, delivery_fee: str = "0.00", **listing) -> models.Order:
    """A cash-on-delivery order ready to ship, made as a buyer makes one: the seller accepts COD,
    the buyer checks out with it and confirms the order (UNCONFIRMED -> CONFIRMED)."""
    shop_delivery(seller, fee=delivery_fee, cod=True)
    order = cod_order_for(buyer, listing_by(seller, **listing))
    confirm_cod_order(order=order, by=buyer)
    return models.Order.objects.select_related("checkout").get(pk=order.pk)


JOURNEY = ("picked_up", "in_transit", "out_for_delivery")


def booked_parcel(order, seller) -> models.Parcel:
    """The seller books the order's parcel with the courier (the order ships)."""
    return parcels.book_parcel(
        order=order,
        by=seller,
        weight_kg=Decimal("1"),
        pieces=1,
        cod_amount=parcels.cod_amount_for(order),
    )


def delivered_parcel(courier, order, seller) -> models.Parcel:
    """Book the parcel and have the courier deliver it (polled in, as the job does)."""
    parcel = booked_parcel(order, seller)
    move(courier, parcel.tracking_number, *JOURNEY, "delivered")
    parcels.poll_open_parcels()
    parcel.refresh_from_db()
    return parcel
