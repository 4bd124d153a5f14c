"""The payment jobs' django-q2 schedules, created or corrected idempotently by name."""

from django.db import migrations

SCHEDULES = [
    # (name, function, minutes)
    ("check_payment_deadlines", "marketplace.tasks.check_payment_deadlines", 30),
    ("send_pending_transfers", "marketplace.tasks.send_pending_transfers", 10),
    ("send_payment_reminders", "marketplace.tasks.send_payment_reminders", 15),
]


def create_schedules(apps, schema_editor):
    Schedule = apps.get_model("django_q", "Schedule")
    for name, func, minutes in SCHEDULES:
        Schedule.objects.update_or_create(
            name=name,
            defaults={
                "func": func,
                "schedule_type": "I",  # Schedule.MINUTES
                "minutes": minutes,
                "repeats": -1,
            },
        )


def remove_schedules(apps, schema_editor):
    Schedule = apps.get_model("django_q", "Schedule")
    Schedule.objects.filter(name__in=[name for name, _f, _m in SCHEDULES]).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("marketplace", "0011_payments"),
        ("django_q", "0019_alter_task_options_alter_ormq_key_alter_ormq_lock_and_more"),
    ]

    operations = [migrations.RunPython(create_schedules, remove_schedules)]
