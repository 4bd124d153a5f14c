"""The one list of scheduled jobs: written by setup_schedules and migrate, run by run_job."""

from io import StringIO

import pytest
from axes.models import AccessFailureLog
from django.core.management import CommandError, call_command
from django.urls import reverse
from django_q.models import Schedule

from marketplace.models import AuctionListing, Order
from marketplace.schedules import SCHEDULES
from marketplace.tests.auction_helpers import bid, make_auction
from marketplace.tests.login_throttle_helpers import time_passes
from marketplace.tests.test_auction_closing import end_now


def command(*args) -> str:
    out = StringIO()
    call_command(*args, stdout=out)
    return out.getvalue()


def rows() -> list[tuple]:
    return list(
        Schedule.objects.order_by("name").values_list(
            "name", "func", "schedule_type", "minutes", "repeats"
        )
    )


def expected_rows() -> list[tuple]:
    return sorted((j.name, j.func, j.schedule_type, j.minutes, -1) for j in SCHEDULES)


@pytest.mark.django_db
def test_setup_schedules_twice_leaves_one_row_per_job():
    Schedule.objects.all().delete()

    assert f"{len(SCHEDULES)} created" in command("setup_schedules")
    assert f"0 created, 0 updated, {len(SCHEDULES)} unchanged" in command("setup_schedules")

    assert rows() == expected_rows()


@pytest.mark.django_db
def test_setup_schedules_corrects_a_changed_job_and_keeps_schedules_it_does_not_own():
    Schedule.objects.filter(name="check_auction_endings").update(minutes=60, repeats=3)
    Schedule.objects.create(name="operator_report", func="math.floor", schedule_type="D")

    assert "1 updated" in command("setup_schedules")

    assert Schedule.objects.get(name="check_auction_endings").minutes == 1
    assert Schedule.objects.filter(name="operator_report").exists()


@pytest.mark.django_db
def test_migrate_writes_the_schedules_through_post_migrate():
    Schedule.objects.all().delete()

    call_command("migrate", verbosity=0)

    assert rows() == expected_rows()


@pytest.mark.django_db(transaction=True)
def test_the_schedules_survive_the_flush_of_a_transactional_test():
    # A transactional test ends with a flush, which emits post_migrate: the rows come back.
    assert rows() == expected_rows()


@pytest.mark.django_db(transaction=True)
def test_and_are_there_for_the_next_transactional_test_too():
    assert rows() == expected_rows()


@pytest.mark.django_db
@pytest.mark.parametrize("name", ["check_auction_endings", "close_auctions"])
def test_run_job_closes_a_due_auction(seller, buyer, name):
    auction = make_auction(seller)
    bid(auction, buyer, "1000")
    end_now(auction)

    out = command("run_job", name)

    assert "check_auction_endings: 1" in out
    auction.refresh_from_db()
    assert auction.status == AuctionListing.Status.ENDED_SOLD
    assert Order.objects.filter(auction=auction, buyer=buyer).count() == 1


@pytest.mark.django_db
def test_run_job_takes_the_dotted_task_path_too():
    out = command("run_job", "marketplace.tasks.send_pending_transfers")
    assert "send_pending_transfers: {'sent': 0" in out


def test_run_job_lists_the_jobs():
    out = command("run_job", "--list")
    assert all(job.name in out and job.func in out for job in SCHEDULES)


def test_an_unknown_job_is_a_clear_error_listing_the_names():
    with pytest.raises(CommandError) as error:
        command("run_job", "close_everything")

    assert "No scheduled job is called 'close_everything'" in str(error.value)
    assert all(job.name in str(error.value) for job in SCHEDULES)


@pytest.mark.django_db
def test_the_daily_purge_drops_login_failure_logs_older_than_a_day(client, buyer):
    client.post(
        reverse("login"), {"username": "bilal", "password": "wrong"}, REMOTE_ADDR="10.0.0.1"
    )
    time_passes(seconds=2 * 24 * 60 * 60)
    client.post(
        reverse("login"), {"username": "bilal", "password": "wrong"}, REMOTE_ADDR="10.0.0.1"
    )

    assert "purge_login_failure_logs: 1" in command("run_job", "purge_login_failure_logs")
    assert AccessFailureLog.objects.count() == 1
