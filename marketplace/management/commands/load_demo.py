"""Load demo users, shops, listings and live auctions so a new developer sees a living site.

Provinces, cities and categories come from migrations. This adds three sellers (one verified),
two buyers and a staff admin, all with the password printed at the end, a dozen fixed-price
listings with photos from marketplace/data/demo_listings.json, and five live auctions across
the three shops (marketplace/demo/auctions.py), two of them ending within minutes, with bids
from the buyers. Running it again adds nothing (a demo user's password is set only when the
user is created); an auction that has ended since is started afresh, and the two that end
within minutes are moved to end minutes after this run. The seller imran gets money in every
ledger state and a return waiting (marketplace/demo/ledger.py). With `--orders` it also adds orders at
every step, feedback, messages and a complaint (marketplace/demo/orders.py).
"""

import json
from decimal import Decimal
from pathlib import Path

from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.timesince import timeuntil

from marketplace.demo.auctions import load_demo_auctions, open_demo_auctions
from marketplace.demo.delivery import set_demo_delivery
from marketplace.demo.ledger import load_demo_ledger
from marketplace.demo.orders import load_demo_orders
from marketplace.models import Category, City, PayoutMethod, Product, SellerProfile, User
from marketplace.money import format_pkr
from marketplace.services.payout_batches import set_payout_method

DATA = Path(__file__).resolve().parents[2] / "data"
DEMO_PASSWORD = "madeinpk-demo"  # noqa: S105  (printed on purpose: demo data only)

SELLERS = [
    {
        "username": "amina",
        "first_name": "Amina",
        "last_name": "Qureshi",
        "shop_name": "Amina Blue Pottery",
        "slug": "amina-blue-pottery",
        "city": "Multan",
        "verified": True,
        "bio": "Blue pottery and khussa from Multan, made by our family's workshop since 1987.",
    },
    {
        "username": "sana",
        "first_name": "Sana",
        "last_name": "Malik",
        "shop_name": "Sana Phulkari House",
        "slug": "sana-phulkari-house",
        "city": "Lahore",
        "verified": False,
        "bio": "Phulkari embroidered by women in villages around Lahore, and rugs we trust.",
    },
    {
        "username": "imran",
        "first_name": "Imran",
        "last_name": "Soomro",
        "shop_name": "Imran Truck Art and Crafts",
        "slug": "imran-truck-art",
        "city": "Karachi",
        "verified": False,
        "bio": "Truck art from Karachi's painters, and ajrak and lacquer work from Sindh.",
    },
]
BUYERS = [
    {"username": "bilal", "first_name": "Bilal", "last_name": "Ahmed"},
    {"username": "zainab", "first_name": "Zainab", "last_name": "Baloch"},
]
AUCTION_SELLERS = ["amina", "sana", "imran"]  # the shops of the demo auctions, in order
NBSP = "\xa0"
ADMIN = {"username": "admin", "first_name": "Admin", "last_name": ""}


class Command(BaseCommand):
    help = "Create demo sellers, a buyer, an admin and demo listings (idempotent)."

    def add_arguments(self, parser) -> None:
        parser.add_argument(
            "--orders",
            action="store_true",
            help="Also create demo orders at every step, feedback, messages and a complaint.",
        )
        parser.add_argument(
            "--force",
            action="store_true",
            help="Run even with DEBUG off (it creates a superuser with a published password).",
        )

    def handle(self, *args, force: bool = False, **options):
        if not settings.DEBUG and not force:
            raise CommandError(
                "DEBUG is off: load_demo creates a superuser whose password is published. "
                "Run it with DEBUG=1, or with --force on a machine that is not public."
            )
        if not City.objects.exists() or not Category.objects.exists():
            self.stderr.write("Reference data is missing: run `manage.py migrate` first.")
            return
        with transaction.atomic():
            sellers = {spec["username"]: self._seller(spec) for spec in SELLERS}
            buyers = [self._user(spec, role=User.Role.BUYER) for spec in BUYERS]
            self._user(ADMIN, role=User.Role.BUYER, staff=True)
        created = self._listings(sellers)
        if created is not None:
            total = Product.objects.filter(
                seller__username__in=[s["username"] for s in SELLERS], fixed_price__isnull=False
            )
            self.stdout.write(f"Demo listings: {created} created, {total.count()} in total.")
        self._auctions([sellers[name] for name in AUCTION_SELLERS], buyers)
        self._queue_payouts_onboarding()
        if created is not None:
            load_demo_ledger(out=self.stdout.write, err=self.stderr.write)
        if options["orders"]:
            load_demo_orders(out=self.stdout.write, err=self.stderr.write)
        self._print_logins()

    def _queue_payouts_onboarding(self) -> None:
        # The Stripe emulator starts with the web server, after this command: the scheduler
        # onboards the demo sellers there once it runs (on real Stripe the task does nothing).
        from django_q.tasks import async_task

        async_task("marketplace.tasks.onboard_demo_sellers", [spec["username"] for spec in SELLERS])
        self.stdout.write("Demo sellers' payouts: set up on the Stripe emulator once it starts.")

    def _user(self, spec: dict, *, role: str, staff: bool = False) -> User:
        user, created = User.objects.get_or_create(
            username=spec["username"],
            defaults={"email": f"{spec['username']}@demo.madeinpk.pk"},
        )
        user.first_name = spec["first_name"]
        user.last_name = spec["last_name"]
        user.role = role
        user.is_staff = user.is_superuser = staff
        if created:
            user.set_password(DEMO_PASSWORD)  # hashing is slow: only for new users
        user.save()
        return user

    def _seller(self, spec: dict) -> User:
        user = self._user(spec, role=User.Role.SELLER)
        profile, _ = SellerProfile.objects.get_or_create(
            user=user, defaults={"shop_name": spec["shop_name"], "slug": spec["slug"]}
        )
        profile.bio = spec["bio"]
        profile.city = City.objects.get(name=spec["city"])
        if spec["verified"] and not profile.is_verified:
            profile.is_verified = True
            profile.verified_at = timezone.now()
        profile.save()
        set_demo_delivery(profile)
        if not PayoutMethod.objects.current().filter(seller=user).exists():
            # A seller needs a way to be paid before listing (issue 13): a demo wallet, one
            # number per shop; the emulator's Stripe account comes later (onboard_demo_sellers).
            number = 3000000000 + SELLERS.index(spec) + 1
            set_payout_method(
                seller=user,
                kind=PayoutMethod.Kind.JAZZCASH,
                wallet_number=f"0{number}",
                account_title=f"{spec['first_name']} {spec['last_name']}",
            )
        return user

    def _listings(self, sellers: dict[str, User]) -> int | None:
        try:
            from marketplace.services.listings import create_fixed_price_listing
        except ImportError:
            self.stdout.write(self.style.WARNING("Demo listings: catalogue not available yet."))
            return None
        created = 0
        for item in json.loads((DATA / "demo_listings.json").read_text()):
            seller = sellers[item["seller"]]
            if Product.objects.filter(seller=seller, title=item["title"]).exists():
                continue
            image = DATA / "demo_images" / item["image"]
            create_fixed_price_listing(
                seller=seller,
                title=item["title"],
                description=item["description"],
                category=Category.objects.get(slug=item["category"]),
                condition=item["condition"],
                city=City.objects.get(name=item["city"]),
                price=Decimal(item["price"]),
                quantity=item["quantity"],
                images=[
                    SimpleUploadedFile(image.name, image.read_bytes(), content_type="image/jpeg")
                ],
            )
            created += 1
        return created

    def _auctions(self, sellers: list[User], bidders: list[User]) -> None:
        made = load_demo_auctions(sellers=sellers, bidders=bidders)
        now = timezone.now()
        self.stdout.write(f"Demo auctions: {made} started, live now:")
        for auction in open_demo_auctions(sellers):
            local_end = timezone.localtime(auction.ends_at).strftime("%H:%M")
            self.stdout.write(
                f"  {reverse('auction_detail', args=[auction.pk]):<16}"
                f"{auction.product.title[:40]:<41}{format_pkr(auction.current_price):>10}"
                f"  {auction.bid_count} bid{'' if auction.bid_count == 1 else 's'},"
                f" ends in {timeuntil(auction.ends_at, now, depth=2).replace(NBSP, ' ')}"
                f" ({local_end} Pakistan time)"
            )

    def _print_logins(self) -> None:
        self.stdout.write("")
        self.stdout.write(self.style.SUCCESS(f"Demo logins (password for all: {DEMO_PASSWORD})"))
        for spec in SELLERS:
            badge = ", verified" if spec["verified"] else ""
            self.stdout.write(f"  seller  {spec['username']:<6} {spec['shop_name']}{badge}")
        for spec in BUYERS:
            self.stdout.write(f"  buyer   {spec['username']:<6} bids in the demo auctions")
        self.stdout.write(f"  admin   {ADMIN['username']:<6} staff: the admin site is at /admin/")
        self.stdout.write("")
