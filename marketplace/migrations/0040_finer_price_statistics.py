"""Finer statistics of the prices a sort reads (PostgreSQL only).

A price sort reads the rows from a bound: the 48th dearest list price, say (see
queries.catalog.order_by_price). With the default statistics (a histogram of 100 buckets, 1 %
of the rows each), PostgreSQL guessed at least 1 % of 100,000 products past any bound in the
last bucket: 995 rows where there were 57. For that many it joined every fixed-price listing
to sort them (a sequential scan, 16-28 ms); for the 57 it looks each one up (0.6 ms). A
histogram of 1,000 buckets resolves the tails ten times finer.
"""

from django.db import migrations

COLUMNS = (("marketplace_product", "display_price"), ("marketplace_fixedpricelisting", "price"))


def finer(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for table, column in COLUMNS:
        schema_editor.execute(f"ALTER TABLE {table} ALTER COLUMN {column} SET STATISTICS 1000")
        schema_editor.execute(f"ANALYZE {table} ({column})")


def default(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for table, column in COLUMNS:
        schema_editor.execute(f"ALTER TABLE {table} ALTER COLUMN {column} SET STATISTICS -1")


class Migration(migrations.Migration):
    dependencies = [("marketplace", "0039_search_indexes_written_through")]

    operations = [migrations.RunPython(finer, default, elidable=False)]
