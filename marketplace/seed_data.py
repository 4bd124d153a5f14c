"""Reference data present in every database: provinces, cities, categories.

Used by the data migration 0002_reference_data; safe to run again (it only adds what is missing).
"""

import json
from pathlib import Path

from django.utils.text import slugify

DATA_DIR = Path(__file__).resolve().parent / "data"


def seed_locations(Province, City) -> None:
    data = json.loads((DATA_DIR / "pk_locations.json").read_text(encoding="utf-8"))
    for entry in data["provinces"]:
        province, _ = Province.objects.update_or_create(
            slug=slugify(entry["name"]),
            defaults={"name": entry["name"], "name_ur": entry.get("name_ur", "")},
        )
        for name in entry["cities"]:
            slug = slugify(name)
            if City.objects.filter(slug=slug).exclude(province=province).exists():
                slug = f"{slug}-{province.slug}"
            City.objects.get_or_create(province=province, name=name, defaults={"slug": slug})


def seed_categories(Category) -> None:
    data = json.loads((DATA_DIR / "categories.json").read_text(encoding="utf-8"))
    for position, entry in enumerate(data):
        parent, _ = Category.objects.get_or_create(
            slug=entry["slug"], defaults={"name": entry["name"], "position": position}
        )
        for child_position, child in enumerate(entry.get("children", [])):
            Category.objects.get_or_create(
                slug=child["slug"],
                defaults={"name": child["name"], "parent": parent, "position": child_position},
            )
