"""Helpers for the API tests: clients holding a token, and a small world to act on."""

import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image
from rest_framework.test import APIClient

from marketplace.models import ApiToken, Favourite, Notification
from marketplace.services import cart as cart_services
from marketplace.services import complaints, feedback, listings, messaging, notifications, returns
from marketplace.tests.auction_helpers import bid, make_auction
from marketplace.tests.factories.accounts import UserFactory
from marketplace.tests.factories.fulfilment import delivered_order, paid_order
from marketplace.tests.factories.orders import (
    address_of,
    cod_order_for,
    listing_by,
    order_for,
    shop_delivery,
)


def photo(name: str = "vase.jpg") -> SimpleUploadedFile:
    """A small real JPEG upload."""
    buffer = io.BytesIO()
    Image.new("RGB", (40, 30), (30, 90, 160)).save(buffer, "JPEG")
    return SimpleUploadedFile(name, buffer.getvalue(), content_type="image/jpeg")


def token_client(user=None) -> APIClient:
    """An API client sending `Authorization: Token <key>` for `user` (anonymous for None)."""
    client = APIClient()
    if user is not None:
        _token, key = ApiToken.issue(user=user, name="tests")
        client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    return client


@pytest.fixture
def staff(db):
    """Sara works for MadeInPK; the API gives her no more than any other user."""
    return UserFactory(username="sara", first_name="Sara", is_staff=True)


@pytest.fixture
def world(seller, buyer):
    """Amina sells; Bilal has bought, bid, written, complained and been notified."""
    listing = listing_by(seller, price="2500.00", quantity=5)
    listings.save_images(product=listing.product, files=[photo()], start_position=0)
    auction = make_auction(seller, starting_price="1000")
    bid(auction, buyer, "1000")
    address = address_of(buyer)
    order = paid_order(seller, buyer)
    conversation = messaging.start_conversation(user=buyer, order=order)
    messaging.send_message(conversation=conversation, sender=buyer, body="Salaam, when?")
    complaint = complaints.file_complaint(
        user=buyer, category="other", subject="Late", description="Still waiting.", order=order
    )
    notifications.notify(
        user=buyer, kind=Notification.Kind.OUTBID, title="Outbid", url="/", dedupe_key="t-1"
    )
    cart_item = cart_services.add_to_cart(user=buyer, listing=listing, quantity=1)
    return {
        "listing": listing,
        "product": listing.product,
        "auction": auction,
        "address": address,
        "order": order,
        "checkout": order.checkout,
        "conversation": conversation,
        "complaint": complaint,
        "notification": Notification.objects.filter(user=buyer).latest("pk"),
        "cart_item": cart_item,
        "token": ApiToken.issue(user=buyer, name="Bilal's phone")[0],
    }


@pytest.fixture
def more_world(world, seller, buyer):
    """The world, plus what cancelling, replying, reviewing and saving need."""
    Favourite.objects.create(user=buyer, product=world["product"])
    unpaid = order_for(buyer, listing_by(seller, title="Sindhi topi"))
    shop_delivery(seller, cod=True)
    cod = cod_order_for(buyer, listing_by(seller, title="Khussa"))
    # Delivered, with the buyer's feedback (no reply yet) and no review of its item yet.
    delivered = delivered_order(seller, buyer, title="Ralli quilt")
    feedback.leave_feedback(
        order=delivered,
        by=buyer,
        **{"seller_rating": 5, "communication": 5, "shipping_speed": 4},
        **{"item_as_described": True, "platform_rating": 5, "comment": "Bohat acha."},
    )
    # Delivered, with the buyer's return request waiting for the seller (no payment: accepting
    # it is refused with "not paid", which the access rows need no more of).
    returned = delivered_order(seller, buyer, title="Multani khussa")
    returns.open_return(order=returned, by=buyer, reason="damaged", details="Sole came off.")
    return {
        **world,
        "returned": returned,
        "unpaid": unpaid,
        "cod": cod,
        "delivered": delivered,
        "delivered_product": delivered.items.get().product,
    }
