"""Browse and search indexes. The GIN index exists on PostgreSQL only (SQLite has no GIN and
searches with icontains instead)."""

from django.db import migrations, models

GIN_INDEX = "product_search_vector_gin"


def add_gin_index(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute(
        f"CREATE INDEX IF NOT EXISTS {GIN_INDEX} ON marketplace_product USING gin (search_vector)"
    )


def drop_gin_index(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute(f"DROP INDEX IF EXISTS {GIN_INDEX}")


class Migration(migrations.Migration):
    dependencies = [("marketplace", "0003_orders_cart_price_checkout_key")]

    operations = [
        migrations.AddIndex(
            model_name="product",
            index=models.Index(fields=["category", "display_price"], name="product_category_price"),
        ),
        migrations.RunPython(add_gin_index, drop_gin_index, elidable=False),
    ]
