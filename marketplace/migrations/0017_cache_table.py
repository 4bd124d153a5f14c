"""Create the database cache's table, so `migrate` alone gives a working site.

`createcachetable` creates the table of every configured DatabaseCache and skips tables that
exist, so this is idempotent, and harmless where the cache is Redis (no database cache
configured: nothing to create). Reversing leaves the table: it holds nothing of value.
"""

from django.core.management import call_command
from django.db import migrations


def create_cache_table(apps, schema_editor):
    call_command("createcachetable", database=schema_editor.connection.alias, verbosity=0)


class Migration(migrations.Migration):
    dependencies = [("marketplace", "0016_shop_slug_redirect")]

    operations = [migrations.RunPython(create_cache_table, migrations.RunPython.noop)]
