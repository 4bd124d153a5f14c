"""Provinces, cities and categories in every fresh database; PostgreSQL search index."""

from django.db import migrations

from marketplace.seed_data import seed_categories, seed_locations


def load_reference_data(apps, schema_editor):
    seed_locations(apps.get_model("marketplace", "Province"), apps.get_model("marketplace", "City"))
    seed_categories(apps.get_model("marketplace", "Category"))


class Migration(migrations.Migration):
    dependencies = [("marketplace", "0001_initial")]

    operations = [
        migrations.RunPython(load_reference_data, migrations.RunPython.noop),
    ]
