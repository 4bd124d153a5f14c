from django.core.management.base import BaseCommand
from django.db import DEFAULT_DB_ALIAS

from marketplace.schedules import SCHEDULES, setup_schedules


class Command(BaseCommand):
    help = (
        "Create or correct the django-q2 schedules listed in marketplace/schedules.py "
        "(migrate runs this too). Schedules not in that list are left alone."
    )

    def add_arguments(self, parser):
        parser.add_argument("--database", default=DEFAULT_DB_ALIAS)

    def handle(self, *args, database, **options):
        created, updated = setup_schedules(using=database)
        self.stdout.write(
            f"{len(SCHEDULES)} schedules: {created} created, {updated} updated, "
            f"{len(SCHEDULES) - created - updated} unchanged."
        )
