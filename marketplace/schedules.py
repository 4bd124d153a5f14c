"""The one list of django-q2 schedules, and the code that writes it to the database.

`setup_schedules` (run after every `migrate` by the post_migrate signal, and by `make run`)
creates or corrects these rows by name and leaves any other schedule alone. Every job is a
level-triggered sweep, so a worker that was down needs no replay: no catch-up.
"""

from dataclasses import dataclass

from django.conf import settings
from django.db import DEFAULT_DB_ALIAS, connections
from django.utils.module_loading import import_string


@dataclass(frozen=True)
class Job:
    name: str
    func: str
    # django_q.models.Schedule.MINUTES ("I"), HOURLY ("H"), DAILY ("D"), WEEKLY ("W")
    schedule_type: str
    minutes: int | None = None
    aliases: tuple[str, ...] = ()  # other names run_job accepts

    @property
    def task_name(self) -> str:
        return self.func.rsplit(".", 1)[1]

    def run(self):
        return import_string(self.func)()


SCHEDULES: tuple[Job, ...] = (
    Job(
        "check_auction_endings",
        "marketplace.tasks.check_auction_endings",
        "I",
        1,
        aliases=("close_auctions",),
    ),
    Job(
        "send_pending_notification_emails",
        "marketplace.tasks.send_pending_notification_emails",
        "I",
        10,
    ),
    # Hourly: a buyer's 14 days to confirm delivery end within the hour.
    Job("auto_confirm_deliveries", "marketplace.tasks.auto_confirm_deliveries", "H"),
    # Every 5 minutes: a fixed-price checkout holds its stock only CHECKOUT_HOLD_MINUTES.
    Job("check_payment_deadlines", "marketplace.tasks.check_payment_deadlines", "I", 5),
    Job("send_pending_transfers", "marketplace.tasks.send_pending_transfers", "I", 10),
    Job("send_payment_reminders", "marketplace.tasks.send_payment_reminders", "I", 15),
    # Every 2 minutes: wallet payments are marked paid by the IPN or by this status inquiry.
    Job("settle_wallet_payments", "marketplace.tasks.settle_wallet_payments", "I", 2),
    # The login throttle's failure log only matters for a day (cool-off escalation).
    Job("purge_login_failure_logs", "marketplace.tasks.purge_login_failure_logs", "D"),
    # Seller ledger (issue 14): release money whose return window ended (hourly, like the
    # delivery confirmations it follows), draft one payout batch per PAYOUT_SCHEDULE period
    # (a second run in the period adds only sellers payable since), send the drafted lines of
    # Stripe-rail sellers, check the invariant daily.
    Job("release_ledger_money", "marketplace.tasks.release_ledger_money", "H"),
    Job(
        "draft_payout_batch",
        "marketplace.tasks.draft_payout_batch",
        "D" if settings.PAYOUT_SCHEDULE == "daily" else "W",
    ),
    Job("pay_stripe_payouts", "marketplace.tasks.pay_stripe_payouts", "H"),
    Job("reconcile_ledger", "marketplace.tasks.reconcile_ledger", "D"),
    # Couriers (issue 15): tracking of parcels on their way (the courier's callbacks move them
    # at once; this catches lost ones), and its cash-on-delivery remittance report.
    Job("poll_parcel_tracking", "marketplace.tasks.poll_parcel_tracking", "I", 15),
    Job("reconcile_cod_remittance", "marketplace.tasks.reconcile_cod_remittance", "H"),
)


def find_job(name: str) -> Job | None:
    """The job with this schedule name, alias, task function name or dotted task path."""
    return next(
        (job for job in SCHEDULES if name in (job.name, job.task_name, job.func, *job.aliases)),
        None,
    )


def setup_schedules(using: str = DEFAULT_DB_ALIAS) -> tuple[int, int]:
    """Create or correct every schedule in SCHEDULES; returns (created, updated)."""
    from django_q.models import Schedule

    if Schedule._meta.db_table not in connections[using].introspection.table_names():
        return 0, 0  # django_q not migrated (yet) on this database
    created = updated = 0
    for job in SCHEDULES:
        wanted = {
            "func": job.func,
            "schedule_type": job.schedule_type,
            "minutes": job.minutes,
            "repeats": -1,
        }
        schedule, was_created = Schedule.objects.using(using).get_or_create(
            name=job.name, defaults=wanted
        )
        if was_created:
            created += 1
        elif any(getattr(schedule, field) != value for field, value in wanted.items()):
            # next_run is left as it is: correcting an interval must not delay or rush a run.
            Schedule.objects.using(using).filter(pk=schedule.pk).update(**wanted)
            updated += 1
    return created, updated


def setup_schedules_after_migrate(sender, using=DEFAULT_DB_ALIAS, **kwargs) -> None:
    """post_migrate receiver (connected in MarketplaceConfig.ready); also runs after a flush."""
    setup_schedules(using=using)
