"""Once created django-q2 schedules; now a no-op kept for the migration graph.

The schedules are listed in marketplace/schedules.py and written after every migrate by the
setup_schedules command (a post_migrate receiver), so the list lives in one place.
"""

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [
        ("marketplace", "0009_aftersale_models"),
        ("django_q", "0019_alter_task_options_alter_ormq_key_alter_ormq_lock_and_more"),
    ]

    operations = [migrations.RunPython(migrations.RunPython.noop, migrations.RunPython.noop)]
