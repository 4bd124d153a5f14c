from django.core.management.base import BaseCommand, CommandError

from marketplace.schedules import SCHEDULES, find_job


def _listing() -> str:
    return "\n".join(f"  {' | '.join((job.name, *job.aliases))}  ({job.func})" for job in SCHEDULES)


class Command(BaseCommand):
    help = "Run one scheduled job now, in this process, and print its result."

    def add_arguments(self, parser):
        parser.add_argument("name", nargs="?", help="schedule name or task name")
        parser.add_argument(
            "--list", action="store_true", dest="list_jobs", help="list the jobs and exit"
        )

    def handle(self, *args, name, list_jobs, **options):
        if list_jobs:
            self.stdout.write(_listing())
            return
        if not name:
            raise CommandError(f"Name a job to run. The jobs are:\n{_listing()}")
        job = find_job(name)
        if job is None:
            raise CommandError(f"No scheduled job is called {name!r}. The jobs are:\n{_listing()}")
        self.stdout.write(f"Running {job.name} ({job.func}) ...")
        result = job.run()
        self.stdout.write(f"{job.name}: {result!r}")
