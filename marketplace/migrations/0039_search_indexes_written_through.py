"""The search indexes (GIN, PostgreSQL only) take new entries straight into the index.

With GIN's default `fastupdate`, a changed product's entries wait in a pending list of up to
4 MB (`gin_pending_list_limit`) until a vacuum, and every search reads that whole list. At
100,000 products the benchmark's database had 6,465 entries pending (autovacuum had not run:
edits were under its threshold): a search matching nothing took 4 ms, 1 ms with the list
cleaned, and the broad ones 20-35 % less. Listings change far less often than they are
searched, so each edit now pays for its index entries itself.
"""

from django.db import migrations

INDEXES = ("product_search_vector_gin", "product_title_trgm", "searchword_word_trgm")


def written_through(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for index in INDEXES:
        schema_editor.execute(f"ALTER INDEX IF EXISTS {index} SET (fastupdate = off)")
        # Turning it off leaves what is pending where it is: move it into the index now.
        schema_editor.execute(
            f"SELECT gin_clean_pending_list(c.oid) FROM pg_class c WHERE c.relname = '{index}'"
        )


def pending_lists_again(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for index in INDEXES:
        schema_editor.execute(f"ALTER INDEX IF EXISTS {index} RESET (fastupdate)")


class Migration(migrations.Migration):
    dependencies = [("marketplace", "0038_notification_unread_index")]

    operations = [migrations.RunPython(written_through, pending_lists_again, elidable=False)]
