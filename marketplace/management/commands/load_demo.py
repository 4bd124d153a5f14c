"""Load demo users, shops and listings so a new developer sees a living site. Idempotent.

Provinces, cities and categories come from migrations. This adds three sellers (one verified),
a buyer and a staff admin, all with the password printed at the end, and a dozen fixed-price
listings with photos from marketplace/data/demo_listings.json. Running it again changes
nothing (a demo user's password is set only when the user is created).
"""

import json
from decimal import Decimal
from pathlib import Path

from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management.base import BaseCommand
from django.db import transaction
from django.utils import timezone

from marketplace.models import Category, City, Product, SellerProfile, User

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
BUYER = {"username": "bilal", "first_name": "Bilal", "last_name": "Ahmed"}
ADMIN = {"username": "admin", "first_name": "Admin", "last_name": ""}


class Command(BaseCommand):
    help = "Create demo sellers, a buyer, an admin and demo listings (idempotent)."

    def handle(self, *args, **options):
        if not City.objects.exists() or not Category.objects.exists():
            self.stderr.write("Reference data is missing: run `manage.py migrate` first.")
            return
        with transaction.atomic():
            sellers = {spec["username"]: self._seller(spec) for spec in SELLERS}
            self._user(BUYER, role=User.Role.BUYER)
            self._user(ADMIN, role=User.Role.BUYER, staff=True)
        created = self._listings(sellers)
        self._print_logins(created)

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

    def _print_logins(self, created: int | None) -> None:
        if created is not None:
            total = Product.objects.filter(seller__username__in=[s["username"] for s in SELLERS])
            self.stdout.write(f"Demo listings: {created} created, {total.count()} in total.")
        self.stdout.write("")
        self.stdout.write(self.style.SUCCESS(f"Demo logins (password for all: {DEMO_PASSWORD})"))
        for spec in SELLERS:
            badge = ", verified" if spec["verified"] else ""
            self.stdout.write(f"  seller  {spec['username']:<6} {spec['shop_name']}{badge}")
        self.stdout.write(f"  buyer   {BUYER['username']}")
        self.stdout.write(f"  admin   {ADMIN['username']:<6} staff: the admin site is at /admin/")
        self.stdout.write("")
