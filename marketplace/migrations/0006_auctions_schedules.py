"""Create the django-q2 schedules for auctions and notification e-mail (idempotent)."""

from django.db import migrations

SCHEDULES = [
    {
        "name": "check_auction_endings",
        "func": "marketplace.tasks.check_auction_endings",
        "schedule_type": "I",  # minutes
        "minutes": 1,
    },
    {
        "name": "send_pending_notification_emails",
        "func": "marketplace.tasks.send_pending_notification_emails",
        "schedule_type": "I",
        "minutes": 10,
    },
]


def create_schedules(apps, schema_editor):
    Schedule = apps.get_model("django_q", "Schedule")
    for item in SCHEDULES:
        defaults = {key: value for key, value in item.items() if key != "name"}
        # Follows Q_CLUSTER["catch_up"] (False): a worker that was down does not replay
        # every missed minute; the sweep is level-triggered anyway.
        defaults["repeats"] = -1
        Schedule.objects.update_or_create(name=item["name"], defaults=defaults)


def remove_schedules(apps, schema_editor):
    Schedule = apps.get_model("django_q", "Schedule")
    Schedule.objects.filter(name__in=[item["name"] for item in SCHEDULES]).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("marketplace", "0005_auctions_leader_max_notifications"),
        ("django_q", "0019_alter_task_options_alter_ormq_key_alter_ormq_lock_and_more"),
    ]

    operations = [migrations.RunPython(create_schedules, remove_schedules)]
