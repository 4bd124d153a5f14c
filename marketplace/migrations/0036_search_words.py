"""The words of listing titles, with a trigram index (PostgreSQL): a search finding too little
corrects its typed words against them instead of comparing trigrams with every title."""

import re
import unicodedata

from django.db import migrations, models

# normalisation of marketplace.queries.search, frozen here
_TRANSLATE = str.maketrans(
    {
        **dict(
            zip(
                "\u064a\u0649\u0643\u0647\u06be\u06c2\u06d3",
                "\u06cc\u06cc\u06a9\u06c1\u06c1\u06c1\u06d2",
                strict=True,
            )
        ),
        **dict.fromkeys(
            [chr(c) for c in range(0x064B, 0x0660)] + ["\u0670", "\u0640", "\u200c", "\u200d"]
        ),
    }
)
_WORD = re.compile(r"\w+")
TRIGRAM_INDEX = "searchword_word_trgm"


def _words(text):
    text = text.lower().translate(_TRANSLATE)
    if not text.isascii():
        decomposed = unicodedata.normalize("NFKD", text)
        text = "".join(
            ch for ch in decomposed if not (unicodedata.combining(ch) and ord(ch) < 0x0600)
        ).translate(_TRANSLATE)
    return _WORD.findall(text)


def fill(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute(
        f"CREATE INDEX IF NOT EXISTS {TRIGRAM_INDEX} ON marketplace_searchword "
        "USING gin (word gin_trgm_ops)"
    )
    Product = apps.get_model("marketplace", "Product")
    SearchWord = apps.get_model("marketplace", "SearchWord")
    found = set()
    for title in Product.objects.values_list("title", flat=True).iterator(chunk_size=5000):
        found.update(w for w in _words(title) if 3 <= len(w) <= 120 and not w.isdigit())
    SearchWord.objects.bulk_create(
        [SearchWord(word=w) for w in sorted(found)], ignore_conflicts=True, batch_size=1000
    )


def unfill(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(f"DROP INDEX IF EXISTS {TRIGRAM_INDEX}")


class Migration(migrations.Migration):
    dependencies = [
        ("marketplace", "0035_cod_refunds"),
    ]

    operations = [
        migrations.CreateModel(
            name="SearchWord",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("word", models.CharField(max_length=120, unique=True, verbose_name="word")),
            ],
            options={
                "verbose_name": "search word",
                "verbose_name_plural": "search words",
            },
        ),
        migrations.RunPython(fill, unfill),
    ]
