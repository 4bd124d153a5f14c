"""Every API list answers in a constant number of queries, whatever its length."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from marketplace.models import ApiToken, Favourite, Notification, ProductReview
from marketplace.services import cart as cart_services
from marketplace.services import complaints, feedback, listings, messaging, notifications
from marketplace.tests.api_support import photo, token_client
from marketplace.tests.auction_helpers import bid, make_auction
from marketplace.tests.factories.accounts import UserFactory
from marketplace.tests.factories.fulfilment import delivered_order
from marketplace.tests.factories.orders import address_of, listing_by

LISTS = [
    ("buyer", "/api/products/"),
    ("buyer", "/api/listings/"),
    ("buyer", "/api/auctions/"),
    ("buyer", "/api/auctions/{auction}/bids/"),
    ("buyer", "/api/my-bids/"),
    ("buyer", "/api/orders/"),
    ("buyer", "/api/conversations/"),
    ("buyer", "/api/conversations/{conversation}/messages/"),
    ("buyer", "/api/complaints/"),
    ("buyer", "/api/notifications/"),
    ("buyer", "/api/addresses/"),
    ("buyer", "/api/cart/"),
    ("buyer", "/api/tokens/"),
    ("seller", "/api/sell/listings/"),
    ("seller", "/api/sellers/{seller}/feedback/"),
    ("seller", "/api/orders/?role=seller"),
    ("buyer", "/api/favourites/"),
    (None, "/api/products/{reviewed}/reviews/"),
]
# Reference data does not grow with use; its lists are bounded all the same.
REFERENCE = [
    (None, "/api/categories/"),
    (None, "/api/provinces/"),
    (None, "/api/cities/?province=1"),
]


class Growth:
    """Adds one of everything each list shows, through the services."""

    def __init__(self, seller, buyer, rival) -> None:
        self.seller, self.buyer, self.rival = seller, buyer, rival
        self.auction = make_auction(seller, title="Shared auction")
        self.conversation = None
        self.reviewed = listing_by(seller, title="Reviewed item").product
        self.step = 0

    def grow(self) -> None:
        self.step += 1
        listing = listing_by(self.seller, title=f"Item {self.step}")
        listings.save_images(product=listing.product, files=[photo()], start_position=0)
        auction = make_auction(self.seller, title=f"Lot {self.step}")
        bid(auction, self.buyer, "1000")
        bid(self.auction, self.buyer if self.step % 2 else self.rival, str(1000 + 100 * self.step))
        address_of(self.buyer, label=f"Home {self.step}")
        order = delivered_order(self.seller, self.buyer)
        feedback.leave_feedback(
            order=order,
            by=self.buyer,
            seller_rating=5,
            communication=5,
            shipping_speed=5,
            item_as_described=True,
            platform_rating=5,
        )
        conversation = messaging.start_conversation(user=self.buyer, order=order)
        self.conversation = self.conversation or conversation
        for thread in {conversation, self.conversation}:
            messaging.send_message(conversation=thread, sender=self.seller, body="Shukriya")
        complaints.file_complaint(
            user=self.buyer, category="other", subject="s", description="d", order=order
        )
        notifications.notify(
            user=self.buyer,
            kind=Notification.Kind.SHIPPED,
            title="Shipped",
            dedupe_key=f"grow-{self.step}",
        )
        cart_services.add_to_cart(user=self.buyer, listing=listing, quantity=1)
        ApiToken.issue(user=self.buyer, name=f"device {self.step}")
        Favourite.objects.create(user=self.buyer, product=listing.product)
        # One review per buyer: a new reviewer each step (written directly: leave_review needs
        # a delivered order of this very product, which only the count of queries ignores).
        ProductReview.objects.create(
            product=self.reviewed,
            buyer=UserFactory(username=f"reviewer{self.step}"),
            rating=4,
            title="Acha",
            text="Theek hai.",
            verified_purchase=True,
        )


def size(response) -> int:
    body = response.json()
    if isinstance(body, list):
        return len(body)
    return body["count"] if "count" in body else len(body["lines"])


@pytest.mark.parametrize(
    ("who", "path"), LISTS + REFERENCE, ids=[path for _who, path in LISTS + REFERENCE]
)
def test_lists_use_constant_queries(
    seller, buyer, rival, settings, who, path, django_assert_max_num_queries
):
    settings.MESSAGE_RATE_LIMIT = 1000
    settings.BID_RATE_LIMIT = 1000  # the data is grown by many bids in a moment
    growth = Growth(seller, buyer, rival)
    client = token_client({"buyer": buyer, "seller": seller, None: None}[who])
    for _ in range(2):
        growth.grow()
    url = path.format(
        auction=growth.auction.pk,
        conversation=growth.conversation.pk,
        seller=seller.pk,
        reviewed=growth.reviewed.pk,
    )
    with CaptureQueriesContext(connection) as small:
        first = client.get(url)
    assert first.status_code == 200
    for _ in range(2):
        growth.grow()
    with django_assert_max_num_queries(len(small)):
        response = client.get(url)
    assert response.status_code == 200
    assert size(response) > 0
    if (who, path) not in REFERENCE:
        assert size(response) > size(first), "the list under test did not grow"
