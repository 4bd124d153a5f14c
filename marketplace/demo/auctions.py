"""Demo auctions for `load_demo`: live lots, some ending within minutes, with bids."""

import io
from datetime import timedelta
from decimal import Decimal
from pathlib import Path

from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone
from PIL import Image, ImageOps

from marketplace.models import AuctionListing, Category, City, Product, User
from marketplace.services.auctions import create_auction
from marketplace.services.bidding import place_bid

DEMO_IMAGES = Path(__file__).resolve().parents[1] / "data" / "demo_images"

# (title, category slug, photo, starting price, reserve, minutes until the end,
#  bids as (bidder index, amount), shop as an index into the sellers passed in)
DEMO_AUCTIONS = [
    (
        "Multani blue pottery vase, hand-painted",
        "multani-blue-pottery",
        "blue-pottery-vase.jpg",
        "1500",
        None,
        6,
        [(0, "1500"), (1, "1600"), (0, "1800")],
        0,
    ),
    (
        "Sindhi ajrak shawl, block printed",
        "ajrak-block-prints",
        "ajrak-shawl.jpg",
        "2500",
        "4000",
        12,
        [(1, "2500"), (0, "3000")],
        2,
    ),
    (
        "Multani khussa, hand-stitched leather",
        "khussa-footwear",
        "multani-khussa.jpg",
        "3500",
        None,
        45,
        [(0, "3500")],
        1,
    ),
    (
        "Truck-art kettle from Rawalpindi",
        "truck-art",
        "truck-art-kettle.jpg",
        "1200",
        None,
        300,
        [],
        2,
    ),
    (
        "Hand-knotted Baluchi rug, 4 x 6 ft",
        "hand-knotted-carpets",
        "hand-knotted-carpet.jpg",
        "45000",
        "60000",
        60 * 24 * 2,
        [(1, "45000"), (0, "47000")],
        1,
    ),
]


def _demo_photo(name: str) -> SimpleUploadedFile:
    """The demo picture of the craft, mirrored so the lot does not look like the shop's listing."""
    with Image.open(DEMO_IMAGES / name) as source:
        mirrored = ImageOps.mirror(source.convert("RGB"))
    buffer = io.BytesIO()
    mirrored.save(buffer, format="JPEG", quality=90)
    return SimpleUploadedFile(name, buffer.getvalue(), content_type="image/jpeg")


# A demo lot ending this soon is re-timed by every run, so each `make run` has one ending
# minutes later (a newcomer reads the README first).
ENDING_SOON_MINUTES = 15


def open_demo_auctions(sellers: list[User]):
    """The sellers' demo auctions that are still open for bids, ending soonest first."""
    titles = [spec[0] for spec in DEMO_AUCTIONS]
    return (
        AuctionListing.objects.live()
        .filter(product__seller__in=sellers, product__title__in=titles)
        .select_related("product")
        .order_by("ends_at")
    )


def load_demo_auctions(*, sellers: list[User], bidders: list[User]) -> int:
    """Create each demo auction that is not open now (by title); returns how many were made.

    Idempotent while the lots run; once a lot has ended, the next run starts it afresh, and
    a running lot that ends within ENDING_SOON_MINUTES of its start is moved to end that many
    minutes after this run, so every run has live bidding that ends soon.
    """
    made = 0
    now = timezone.now()
    fallback = Category.objects.filter(parent__isnull=False).first() or Category.objects.first()
    running = {a.product.title: a for a in open_demo_auctions(sellers)}
    for title, slug, photo, start, reserve, minutes, bids, shop in DEMO_AUCTIONS:
        ends_at = now + timedelta(minutes=minutes)
        if title in running:
            if minutes <= ENDING_SOON_MINUTES:
                AuctionListing.objects.filter(pk=running[title].pk).update(
                    ends_at=ends_at, original_ends_at=None
                )
            continue
        seller = sellers[shop % len(sellers)]
        city = seller.seller_profile.city if hasattr(seller, "seller_profile") else None
        city = city or City.objects.first()
        duration_days = max(1, (minutes // (60 * 24)) + 1)
        auction = create_auction(
            seller=seller,
            title=title,
            description=title + ". Made by hand in Pakistan.",
            category=Category.objects.filter(slug=slug).first() or fallback,
            condition=Product.Condition.NEW,
            city=city,
            starting_price=Decimal(start),
            reserve_price=Decimal(reserve) if reserve else None,
            duration_days=duration_days,
            starts_at=ends_at - timedelta(days=duration_days),
            images=[_demo_photo(photo)],
        )
        for index, amount in bids:
            if bidders:
                place_bid(
                    auction_id=auction.pk,
                    bidder=bidders[index % len(bidders)],
                    amount=Decimal(amount),
                    limit_rate=False,
                )
        made += 1
    return made
