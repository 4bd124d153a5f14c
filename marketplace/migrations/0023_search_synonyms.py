"""Search synonyms (issue 17): the table, its first ~40 concepts, and on PostgreSQL the
pg_trgm and unaccent extensions, a trigram index on titles and search vectors rebuilt with the
"english" config over normalised text (as marketplace.services.listings.search_document)."""

import django.db.models.deletion
from django.contrib.postgres.operations import TrigramExtension, UnaccentExtension
from django.db import migrations, models

# (concept, category slug or "", terms: Urdu script, Roman Urdu spellings, English)
SYNONYMS = [
    ("ajrak", "ajrak-block-prints", ["اجرک", "ajrak", "ajrakh", "ajrak print", "ajrak shawl"]),
    (
        "block print",
        "ajrak-block-prints",
        ["ٹھپے کی چھپائی", "ٹھپا", "block print", "block printed", "hand block"],
    ),
    (
        "khussa",
        "khussa-footwear",
        [
            "کھسہ",
            "کھسے",
            "khussa",
            "khusa",
            "khussay",
            "khussey",
            "khusay",
            "khussa shoes",
            "khusse",
        ],
    ),
    (
        "shoes",
        "khussa-footwear",
        ["جوتے", "جوتا", "joota", "jootay", "juti", "jutti", "shoes", "footwear", "chappal", "چپل"],
    ),
    ("phulkari", "phulkari", ["پھلکاری", "phulkari", "phulkary", "phoolkari", "phulkaari"]),
    (
        "pottery",
        "pottery-ceramics",
        [
            "مٹی کے برتن",
            "برتن",
            "pottery",
            "potery",
            "pottary",
            "ceramics",
            "ceramic",
            "چینی",
        ],
    ),
    (
        "blue pottery",
        "multani-blue-pottery",
        [
            "ملتانی نیلے برتن",
            "نیلے برتن",
            "blue pottery",
            "kashi",
            "kashi kari",
            "کاشی",
            "کاشی کاری",
        ],
    ),
    ("multani", "multani-blue-pottery", ["ملتانی", "multani", "multan", "ملتان"]),
    (
        "terracotta",
        "terracotta",
        ["پکی مٹی", "terracotta", "terra cotta", "clay", "matti", "mitti", "مٹی"],
    ),
    ("vase", "", ["گلدان", "guldan", "guldaan", "vase"]),
    (
        "embroidery",
        "embroidery-textiles",
        ["کڑھائی", "karhai", "kadhai", "embroidery", "embroidered", "kashida", "کشیدہ"],
    ),
    ("shawl", "shawls-stoles", ["شال", "شالیں", "shawl", "shaal", "stole", "chadar", "چادر"]),
    ("dupatta", "shawls-stoles", ["دوپٹہ", "دوپٹے", "dupatta", "duppata", "dopatta", "scarf"]),
    ("cushion", "cushions-linens", ["کشن", "cushion", "cushion cover", "takia", "تکیہ", "pillow"]),
    (
        "jewellery",
        "jewellery",
        ["زیورات", "زیور", "zewar", "zaiwar", "jewellery", "jewelry", "jewlery"],
    ),
    ("silver", "silver-jewellery", ["چاندی", "chandi", "chaandi", "silver"]),
    (
        "bangles",
        "bangles",
        ["چوڑیاں", "چوڑی", "choori", "chooriyan", "churi", "churiyan", "bangle", "bangles"],
    ),
    ("beads", "beadwork", ["موتی", "moti", "beads", "beadwork", "pearl"]),
    ("leather", "leather", ["چمڑا", "چمڑے", "chamra", "chamray", "leather"]),
    ("bag", "bags-wallets", ["تھیلا", "تھیلے", "thaila", "thela", "bag", "handbag", "purse"]),
    ("wallet", "bags-wallets", ["بٹوا", "بٹوے", "batwa", "batua", "wallet"]),
    ("carpet", "carpets-rugs", ["قالین", "qaleen", "kaleen", "qalin", "carpet", "rug"]),
    (
        "dhurrie",
        "kilims-dhurries",
        ["دری", "دریاں", "dari", "durri", "dhurrie", "dhurry", "kilim", "گلیم"],
    ),
    ("woodwork", "woodwork", ["لکڑی", "lakri", "lakdi", "wood", "wooden", "woodwork"]),
    (
        "furniture",
        "chiniot-furniture",
        ["فرنیچر", "furniture", "chiniot", "chinioti", "چنیوٹی", "چنیوٹ"],
    ),
    ("lacquer", "lacquer-work", ["لاکھ", "lakh", "laakh", "lacquer", "lacquered", "jandi"]),
    ("carving", "carved-boxes-decor", ["نقش و نگار", "carved", "carving", "naqashi", "نقاشی"]),
    ("truck art", "truck-art", ["ٹرک آرٹ", "truck art", "truck", "ٹرک"]),
    ("brass", "brass-copper", ["پیتل", "peetal", "pital", "brass"]),
    ("copper", "brass-copper", ["تانبا", "تانبے", "tamba", "taamba", "copper"]),
    ("onyx", "onyx-marble", ["اونیکس", "سنگ مرمر", "onyx", "marble", "sang e marmar", "marmar"]),
    ("basket", "basketry-cane", ["ٹوکری", "ٹوکریاں", "tokri", "tokra", "basket", "cane", "بید"]),
    (
        "shalwar kameez",
        "shalwar-kameez",
        ["شلوار قمیض", "shalwar kameez", "salwar kameez", "shalwar qameez", "kurta", "کرتا"],
    ),
    ("topi", "caps-topi", ["ٹوپی", "ٹوپیاں", "topi", "topee", "sindhi topi"]),
    ("clothing", "clothing", ["کپڑے", "kapray", "kapre", "kapde", "clothes", "clothing", "dress"]),
    ("spices", "food-spices", ["مصالحے", "مصالحہ", "masala", "masalay", "spice", "spices"]),
    ("calligraphy", "art-calligraphy", ["خطاطی", "khattati", "khatati", "calligraphy"]),
    ("painting", "art-calligraphy", ["تصویر", "پینٹنگ", "tasveer", "painting"]),
    ("sindhi", "", ["سندھی", "sindhi", "sindh", "سندھ"]),
    (
        "handmade",
        "",
        ["ہاتھ سے بنا", "دستکاری", "dastkari", "haath se bana", "handmade", "handcrafted"],
    ),
    ("lamp", "", ["لیمپ", "چراغ", "chiragh", "charagh", "lamp", "diya"]),
]

# normalisation of marketplace.queries.search, frozen here
_UNIFY_FROM = "\u064a\u0649\u0643\u0647\u06be\u06c2\u06d3"
_UNIFY_TO = "\u06cc\u06cc\u06a9\u06c1\u06c1\u06c1\u06d2"
_DROP = "".join(chr(c) for c in range(0x064B, 0x0660)) + "\u0670\u0640\u200c\u200d"
TRIGRAM_INDEX = "product_title_trgm"


def seed(apps, schema_editor):
    Category = apps.get_model("marketplace", "Category")
    SearchSynonym = apps.get_model("marketplace", "SearchSynonym")
    categories = {c.slug: c for c in Category.objects.all()}
    SearchSynonym.objects.bulk_create(
        SearchSynonym(name=name, category=categories.get(slug), terms="\n".join(terms))
        for name, slug, terms in SYNONYMS
    )


def unseed(apps, schema_editor):
    apps.get_model("marketplace", "SearchSynonym").objects.filter(
        name__in=[name for name, _, _ in SYNONYMS]
    ).delete()


def postgres_search(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute(
        f"CREATE INDEX IF NOT EXISTS {TRIGRAM_INDEX} ON marketplace_product "
        "USING gin (title gin_trgm_ops)"
    )

    def part(column, weight):
        return (
            "setweight(to_tsvector('english'::regconfig, unaccent(translate("
            f"COALESCE({column}, ''), %(source)s, %(target)s))), '{weight}')"
        )

    schema_editor.execute(
        f"UPDATE marketplace_product SET search_vector = {part('title', 'A')} || "
        f"{part('description', 'B')}",
        {"source": _UNIFY_FROM + _DROP, "target": _UNIFY_TO},
    )


def postgres_search_back(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute(f"DROP INDEX IF EXISTS {TRIGRAM_INDEX}")


class Migration(migrations.Migration):
    dependencies = [
        ("marketplace", "0022_checkout_holds"),
    ]

    operations = [
        TrigramExtension(),
        UnaccentExtension(),
        migrations.CreateModel(
            name="SearchSynonym",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("name", models.CharField(max_length=80, unique=True, verbose_name="concept")),
                (
                    "terms",
                    models.TextField(
                        help_text="One term per line: Urdu script, every Roman Urdu spelling, English. A term may have several words.",
                        verbose_name="terms",
                    ),
                ),
                ("updated_at", models.DateTimeField(auto_now=True, verbose_name="updated")),
                (
                    "category",
                    models.ForeignKey(
                        blank=True,
                        help_text="A query for this concept also finds this category's listings.",
                        null=True,
                        on_delete=django.db.models.deletion.SET_NULL,
                        related_name="+",
                        to="marketplace.category",
                        verbose_name="category",
                    ),
                ),
            ],
            options={
                "verbose_name": "search synonym",
                "verbose_name_plural": "search synonyms",
                "ordering": ["name"],
            },
        ),
        migrations.RunPython(seed, unseed, elidable=False),
        migrations.RunPython(postgres_search, postgres_search_back, elidable=False),
    ]
