"""Demo auctions for `load_demo`: live lots, some ending within minutes, with bids."""

from datetime import timedelta
from decimal import Decimal

from django.utils import timezone

from marketplace.models import Category, City, Product, User
from marketplace.services.bidding import create_auction, place_bid

# (title, category slug, starting price, reserve, minutes until the end, bids as (bidder index, amount))
DEMO_AUCTIONS = [
    (
        "Multani blue pottery vase, hand-painted",
        "multani-blue-pottery",
        "1500",
        None,
        6,
        [(0, "1500"), (1, "1600"), (0, "1800")],
    ),
    (
        "Sindhi ajrak shawl, block printed",
        "ajrak-block-prints",
        "2500",
        "4000",
        12,
        [(1, "2500"), (0, "3000")],
    ),
    ("Peshawari chappal, hand-stitched leather", "leather", "3500", None, 45, [(0, "3500")]),
    ("Truck-art kettle from Rawalpindi", "truck-art", "1200", None, 60 * 5, []),
    (
        "Hand-knotted Baluchi rug, 4 x 6 ft",
        None,
        "45000",
        "60000",
        60 * 24 * 2,
        [(1, "45000"), (0, "47000")],
    ),
]


def load_demo_auctions(*, seller: User, bidders: list[User]) -> int:
    """Create the demo auctions that do not exist yet (by title); returns how many were made."""
    made = 0
    now = timezone.now()
    fallback = Category.objects.filter(parent__isnull=False).first() or Category.objects.first()
    city = seller.seller_profile.city if hasattr(seller, "seller_profile") else None
    city = city or City.objects.first()
    for title, slug, start, reserve, minutes, bids in DEMO_AUCTIONS:
        if Product.objects.filter(seller=seller, title=title).exists():
            continue
        category = Category.objects.filter(slug=slug).first() if slug else None
        ends_at = now + timedelta(minutes=minutes)
        duration_days = max(1, (minutes // (60 * 24)) + 1)
        auction = create_auction(
            seller=seller,
            title=title,
            description=title + ". Made by hand in Pakistan.",
            category=category or fallback,
            condition=Product.Condition.NEW,
            city=city,
            starting_price=Decimal(start),
            reserve_price=Decimal(reserve) if reserve else None,
            duration_days=duration_days,
            starts_at=ends_at - timedelta(days=duration_days),
        )
        for index, amount in bids:
            if bidders:
                place_bid(
                    auction_id=auction.pk,
                    bidder=bidders[index % len(bidders)],
                    amount=Decimal(amount),
                )
        made += 1
    return made
