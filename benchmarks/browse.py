"""Browse and search benchmark: seed N products on PostgreSQL, time the pages.

Run through `python -m benchmarks` with DATABASE_URL pointing to a dedicated database, e.g.
`DATABASE_URL=postgres://postgres@127.0.0.1:5433/mpk_bench`. Seeding is idempotent: products
made by the benchmark's own sellers are counted and only the missing ones are added.
"""

import os
import random
import statistics
import time
from datetime import timedelta
from decimal import Decimal
from typing import TextIO
from urllib.parse import urlencode

from django.contrib.auth.hashers import make_password
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection, transaction
from django.db.models import Case, F, Q, Value, When
from django.db.models.functions import Mod
from django.test import Client, override_settings
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

SELLER_PREFIX = "bench-seller-"
SELLERS = 200
BATCH = 5_000
REQUESTS = 250

ADJECTIVES = [
    "Hand-painted",
    "Hand-embroidered",
    "Antique-style",
    "Traditional",
    "Hand-knotted",
    "Carved",
    "Glazed",
    "Mirror-work",
    "Block-printed",
    "Handwoven",
    "Vintage",
    "Lacquered",
    "Hammered",
    "Beaded",
    "Embossed",
    "Festive",
    "Bridal",
    "Everyday",
    "Large",
    "Small",
]
MATERIALS = [
    "blue pottery",
    "terracotta",
    "sheesham wood",
    "walnut wood",
    "brass",
    "copper",
    "onyx",
    "marble",
    "silver",
    "camel leather",
    "cotton",
    "silk",
    "pashmina",
    "wool",
    "cane",
    "khaddar",
    "ajrak",
    "phulkari",
    "truck-art",
    "camel bone",
    "ralli",
    "lacquer",
]
ITEMS = [
    "vase",
    "plate",
    "bowl",
    "tea set",
    "jewellery box",
    "lamp",
    "mirror",
    "cushion cover",
    "shawl",
    "dupatta",
    "khussa",
    "wallet",
    "handbag",
    "rug",
    "kilim",
    "chest",
    "tray",
    "bangles",
    "jhumka earrings",
    "necklace",
    "wall hanging",
    "kettle",
    "jug",
    "topi",
    "kurta",
    "table runner",
    "coaster set",
    "candle stand",
    "planter",
    "calligraphy panel",
]
ORIGINS = [
    "Multan",
    "Hala",
    "Chiniot",
    "Peshawar",
    "Swat",
    "Hunza",
    "Lahore",
    "Karachi",
    "Quetta",
    "Bahawalpur",
    "Kasur",
    "Sialkot",
    "Hyderabad",
    "Gilgit",
    "Muzaffarabad",
    "Thar",
]
PHRASES = [
    "Made by hand in a family workshop",
    "Each piece is slightly different",
    "Natural dyes and traditional patterns",
    "Packed carefully for delivery anywhere in Pakistan",
    "A thoughtful gift for Eid or a wedding",
    "Crafted using techniques passed down for generations",
    "Sturdy, finished by hand and ready to use",
    "Colours may vary slightly from the photos",
]
# As buyers type them (issue 17). The seeded titles are English: a query in Urdu script or a
# Roman Urdu spelling finds them through the synonym table.
SEARCH_KINDS = {
    "Urdu script": ["کھسہ", "ملتانی", "اجرک", "پھلکاری", "قالین", "پیتل کا لیمپ"],
    "Roman Urdu": ["khusa", "khussay", "ajrak", "phoolkari", "qaleen", "peetal", "chandi"],
    "typos": ["potery", "phulkary", "dupata", "pashmna", "terracota", "brass lmap"],
    "plurals": ["rugs", "vases", "lamps", "shawls", "wallets", "trays"],
    "English, several words": [
        "blue pottery vase",
        "walnut wood chest",
        "camel leather wallet",
        "truck-art kettle",
    ],
}
# Fixed-price listings on sale, by id: every 10th, 10-50% off; most sales running, a tenth
# of them over (the price sorts and filters use the sale price while it runs).
SALE_EVERY = 10


def _check_database(out: TextIO) -> None:
    if connection.vendor != "postgresql":
        raise CommandError(
            "The browse benchmark needs PostgreSQL (full-text search, GIN index); this is "
            f"{connection.vendor}. Set DATABASE_URL=postgres://postgres@127.0.0.1:5433/mpk_bench."
        )
    name = connection.settings_dict.get("NAME", "")
    if "bench" not in name and not os.environ.get("BENCH_ANY_DATABASE"):
        raise CommandError(
            f"Refusing to seed 100,000 products into “{name}”: use a database whose name "
            "contains “bench” (or set BENCH_ANY_DATABASE=1)."
        )


def _sellers():
    from marketplace.models import City, SellerProfile, User

    existing = list(User.objects.filter(username__startswith=SELLER_PREFIX).order_by("pk"))
    if len(existing) >= SELLERS:
        return existing
    cities = list(City.objects.all())
    have = {u.username for u in existing}
    new_users = [
        User(
            username=f"{SELLER_PREFIX}{n}",
            email=f"{SELLER_PREFIX}{n}@bench.madeinpk.local",
            role=User.Role.SELLER,
            password=make_password(None),
        )
        for n in range(SELLERS)
        if f"{SELLER_PREFIX}{n}" not in have
    ]
    User.objects.bulk_create(new_users)
    users = list(User.objects.filter(username__startswith=SELLER_PREFIX).order_by("pk"))
    with_profile = set(
        SellerProfile.objects.filter(user__in=users).values_list("user_id", flat=True)
    )
    SellerProfile.objects.bulk_create(
        [
            SellerProfile(
                user=user,
                shop_name=f"Bench shop {user.username.removeprefix(SELLER_PREFIX)}",
                slug=user.username,
                city=random.choice(cities),
                is_verified=user.pk % 3 == 0,
            )
            for user in users
            if user.pk not in with_profile
        ]
    )
    return users


def _seed(out: TextIO, target: int) -> None:
    from marketplace.models import (
        AuctionListing,
        Category,
        City,
        FixedPriceListing,
        Product,
        ProductImage,
    )
    from marketplace.queries.search import add_title_words
    from marketplace.services.listings import search_document

    sellers = _sellers()
    have = Product.objects.filter(seller__username__startswith=SELLER_PREFIX).count()
    if have >= target:
        out.write(f"Reusing {have:,} seeded products.\n")
        return
    rng = random.Random(have)
    categories = list(Category.objects.all())
    cities = list(City.objects.all())
    now = timezone.now()
    started = time.perf_counter()
    remaining = target - have
    out.write(f"Seeding {remaining:,} products (have {have:,})...\n")
    while remaining > 0:
        size = min(BATCH, remaining)
        with transaction.atomic():
            specs = []
            for _ in range(size):
                adjective, material, item = (
                    rng.choice(ADJECTIVES),
                    rng.choice(MATERIALS),
                    rng.choice(ITEMS),
                )
                origin = rng.choice(ORIGINS)
                price = Decimal(rng.randint(3, 5000) * 50)
                specs.append(
                    {
                        "title": f"{adjective} {material} {item} from {origin}",
                        "description": ". ".join(
                            [f"{adjective} {item} in {material}", *rng.sample(PHRASES, 3)]
                        )
                        + ".",
                        "price": price,
                        "auction": rng.random() < 0.05,
                        "created_at": now - timedelta(minutes=rng.randint(0, 365 * 24 * 60)),
                    }
                )
            new_fixed = []
            for s in specs:
                if s["auction"]:
                    continue
                status = rng.choices(["active", "sold_out", "withdrawn"], [90, 5, 5])[0]
                new_fixed.append(
                    FixedPriceListing(
                        price=s["price"],
                        quantity=0 if status == "sold_out" else rng.randint(1, 20),
                        status=status,
                    )
                )
            fixed = FixedPriceListing.objects.bulk_create(new_fixed)
            auctions = AuctionListing.objects.bulk_create(
                [
                    AuctionListing(
                        starting_price=s["price"],
                        current_price=s["price"],
                        starts_at=s["created_at"],
                        ends_at=now + timedelta(hours=rng.randint(1, 24 * 10)),
                        status="live",
                    )
                    for s in specs
                    if s["auction"]
                ]
            )
            fixed_iter, auction_iter = iter(fixed), iter(auctions)
            products = Product.objects.bulk_create(
                [
                    Product(
                        seller=rng.choice(sellers),
                        title=s["title"],
                        description=s["description"],
                        category=rng.choice(categories),
                        condition=rng.choice(["new", "new", "like_new", "good"]),
                        city=rng.choice(cities),
                        fixed_price=None if s["auction"] else next(fixed_iter),
                        auction=next(auction_iter) if s["auction"] else None,
                        display_price=s["price"],
                        created_at=s["created_at"],
                    )
                    for s in specs
                ]
            )
            ProductImage.objects.bulk_create(
                [
                    ProductImage(
                        product=p,
                        image=f"bench/{p.pk}.jpg",
                        thumbnail=f"bench/{p.pk}-thumb.jpg",
                        width=1600,
                        height=1200,
                        position=0,
                    )
                    for p in products
                ]
            )
        remaining -= size
        out.write(f"  {target - remaining:,} / {target:,}\n")
    Product.objects.filter(search_vector__isnull=True).update(search_vector=search_document())
    # As the listing services do (refresh_search_vector): the titles' words, for typos.
    add_title_words(Product.objects.values_list("title", flat=True).iterator(chunk_size=BATCH))
    with connection.cursor() as cursor:
        # Fresh visibility map and statistics, as a settled production table would have.
        cursor.execute("VACUUM ANALYZE")
    out.write(f"Seeded in {time.perf_counter() - started:.1f} s.\n")


def _put_on_sale(out: TextIO) -> None:
    """Give every SALE_EVERY-th fixed-price listing a sale (once; reruns keep theirs)."""
    from marketplace.models import FixedPriceListing

    bench_fixed = FixedPriceListing.objects.filter(
        product__seller__username__startswith=SELLER_PREFIX
    )
    if bench_fixed.filter(sale_percent__isnull=False).exists():
        return
    out.write("Putting every 10th fixed price on sale...\n")
    now = timezone.now()
    step = F("pk") / SALE_EVERY  # integer division
    bench_fixed.alias(every=Mod(F("pk"), SALE_EVERY)).filter(every=0).update(
        sale_percent=10 + Mod(step, 5) * 10,
        sale_starts_at=now - timedelta(days=2),
        sale_ends_at=Case(
            When(
                Q(pk__in=bench_fixed.alias(n=Mod(step, 10)).filter(n=0).values("pk")),
                then=Value(now - timedelta(days=1)),
            ),
            default=Value(now + timedelta(days=60)),
        ),
    )
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE marketplace_fixedpricelisting")


def _measure(
    client: Client, urls: list[str], requests: int, *, cold_fragments: bool = False
) -> tuple[list[float], list[int]]:
    from marketplace import fragments

    for url in urls:  # each of the row's pages asked for once before timing
        client.get(url)
    times, queries = [], []
    for i in range(requests):
        url = urls[i % len(urls)]
        if cold_fragments:
            fragments.clear()
        with CaptureQueriesContext(connection) as ctx:
            started = time.perf_counter()
            response = client.get(url)
            elapsed = (time.perf_counter() - started) * 1000
        if response.status_code != 200:
            raise CommandError(f"{url} answered {response.status_code}")
        times.append(elapsed)
        queries.append(len(ctx.captured_queries))
    return times, queries


def _report(out: TextIO, label: str, times: list[float], queries: list[int]) -> None:
    ordered = sorted(times)
    p95 = ordered[max(0, round(0.95 * len(ordered)) - 1)]
    out.write(
        f"| {label} | {len(times)} | {statistics.median(times):.1f} ms | {p95:.1f} ms "
        f"| {ordered[-1]:.1f} ms | {min(queries)}-{max(queries)} |\n"
    )


def _pages(out: TextIO) -> dict[str, list[str]]:
    """The pages timed, by row of the table."""
    from marketplace.models import Category, City, Province

    def url(**params) -> str:
        return f"/products/?{urlencode(params)}"

    parents = list(Category.objects.filter(parent=None).values_list("slug", flat=True))
    leaves = list(Category.objects.exclude(parent=None).values_list("slug", flat=True))
    cities = list(City.objects.order_by("pk").values_list("slug", flat=True))
    pages = {f"search: {kind}": [url(q=q) for q in terms] for kind, terms in SEARCH_KINDS.items()}
    pages["search + category + city"] = [
        url(q=q, category=slug, city=cities[i % len(cities)])
        for i, (q, slug) in enumerate(
            [("khusa", "leather"), ("vases", "pottery-ceramics"), ("پیتل", "brass-copper")]
            + [("handmade", slug) for slug in parents]
        )
    ]
    pages["browse: category + city, newest"] = [
        url(category=slug, city=cities[i * 7 % len(cities)])
        for i, slug in enumerate(parents + leaves)
    ]
    pages["browse: category, price sort"] = [
        url(category=slug, sort=("price_asc", "price_desc")[i % 2], page=1 + i % 3)
        for i, slug in enumerate(parents + leaves)
    ]
    pages["browse: everything, price sort"] = [
        url(sort=sort, page=page) for sort in ("price_asc", "price_desc") for page in (1, 2, 5)
    ]
    pages["browse: province, price sort"] = [
        url(province=slug, sort="price_asc")
        for slug in Province.objects.order_by("pk").values_list("slug", flat=True)[:4]
    ]
    pages["browse: everything, newest (48/page)"] = [url(per_page=48), url(per_page=48, page=2)]
    return pages


def main(
    out: TextIO, *, size: int | None = None, products: int = 100_000, requests: int = REQUESTS
) -> None:
    """Seed `products` products (PostgreSQL only) and print browse and search timings.

    `--size N` (the command's common option) means N products, like `-o products=N`;
    `-o requests=N` times N requests per row.
    """
    products = size or products
    _check_database(out)
    call_command("migrate", verbosity=0, interactive=False)
    _seed(out, products)
    _put_on_sale(out)

    from marketplace.models import FixedPriceListing, Product

    total = Product.objects.count()
    visible = Product.objects.visible().count()
    on_sale = FixedPriceListing.objects.filter(sale_percent__isnull=False).count()
    plain_static = {
        "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }
    out.write(
        f"\nPostgreSQL {connection.pg_version // 10000}, {total:,} products "
        f"({visible:,} visible, {on_sale:,} fixed prices with a sale); each of a row's pages "
        f"asked for once, then {requests} timed requests per row, Django test client in one process (server "
        "time: middleware, views, SQL, templates); 24 per page unless said.\n"
    )
    # Three times: as deployed (the shared page cache on, so a row's URLs are rendered again
    # only when their entry expires); with the cache off, which times the render a miss pays
    # when the process has drawn its cards before (marketplace/fragments.py); and with the
    # cards drawn afresh each time too, a process's first sight of every card.
    passes = (
        ("page cache on (as deployed)", None, False),
        ("page cache off", 0, False),
        ("page cache off, every card drawn afresh", 0, True),
    )
    for title, seconds, cold in passes:
        cache = {} if seconds is None else {"PAGE_CACHE_SECONDS": seconds}
        with override_settings(
            ALLOWED_HOSTS=["testserver"], SECURE_SSL_REDIRECT=False, STORAGES=plain_static, **cache
        ):
            client = Client()
            out.write(f"\n### {title}\n\nload average before: {_load()}\n\n")
            out.write("| page | n | p50 | p95 | max | SQL per page |\n")
            out.write("|---|---:|---:|---:|---:|---:|\n")
            for label, urls in _pages(out).items():
                _report(out, label, *_measure(client, urls, requests, cold_fragments=cold))
            out.write(f"\nload average after: {_load()}\n")


def _load() -> str:
    return " / ".join(f"{x:.2f}" for x in os.getloadavg())
