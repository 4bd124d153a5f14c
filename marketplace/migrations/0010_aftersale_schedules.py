"""Create the django-q2 schedules of the after-sale flows (idempotent)."""

from django.db import migrations

SCHEDULES = [
    {
        "name": "auto_confirm_deliveries",
        "func": "marketplace.tasks.auto_confirm_deliveries",
        "schedule_type": "H",  # hourly: a buyer's 14 days end within the hour
    },
]


def create_schedules(apps, schema_editor):
    Schedule = apps.get_model("django_q", "Schedule")
    for item in SCHEDULES:
        defaults = {key: value for key, value in item.items() if key != "name"}
        # The sweep is level-triggered, so a worker that was down needs no replay (catch_up).
        defaults["repeats"] = -1
        Schedule.objects.update_or_create(name=item["name"], defaults=defaults)


def remove_schedules(apps, schema_editor):
    Schedule = apps.get_model("django_q", "Schedule")
    Schedule.objects.filter(name__in=[item["name"] for item in SCHEDULES]).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("marketplace", "0009_aftersale_models"),
        ("django_q", "0019_alter_task_options_alter_ormq_key_alter_ormq_lock_and_more"),
    ]

    operations = [migrations.RunPython(create_schedules, remove_schedules)]
