"""Notification e-mails go out through one drain task at a time (tasks.drain_notification_emails):
however many notices are written, the queue holds at most one e-mail task, so what is queued
after them (a closing backlog's shares) never waits behind thousands of e-mails."""

from datetime import timedelta

import pytest
from django.core import mail
from django.utils import timezone

from marketplace import tasks
from marketplace.models import EmailDrain, Notification
from marketplace.services import notifications
from marketplace.services.notifications import Notice, notify_many
from marketplace.tests.factories.accounts import UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def queued(monkeypatch):
    """Tasks queued through the notifications seam, captured instead of sent."""
    calls = []
    monkeypatch.setattr(
        notifications, "async_task", lambda func, *args, **kwargs: calls.append(func)
    )
    return calls


def write_notices(users, key: str) -> None:
    notify_many(
        [
            Notice(user=user, kind="new_message", title=f"Hello {key}", dedupe_key=key)
            for user in users
        ]
    )


def test_many_bursts_of_notices_queue_one_drain(queued, django_capture_on_commit_callbacks):
    readers = [UserFactory() for _ in range(3)]
    for burst in range(4):
        with django_capture_on_commit_callbacks(execute=True):
            write_notices(readers, f"burst-{burst}")

    assert Notification.objects.pending_email().count() == 12
    assert queued == ["marketplace.tasks.drain_notification_emails"]


def test_the_drain_sends_every_pending_notice_once_and_a_new_notice_queues_the_next(
    queued, django_capture_on_commit_callbacks
):
    readers = [UserFactory() for _ in range(3)]
    with django_capture_on_commit_callbacks(execute=True):
        write_notices(readers, "first")
    assert len(queued) == 1

    assert tasks.drain_notification_emails() == 3
    assert sorted(m.to[0] for m in mail.outbox) == sorted(u.email for u in readers)
    assert tasks.drain_notification_emails() == 0  # run twice: nothing sent twice
    assert len(mail.outbox) == 3

    # The drain has started, so a notice written now needs (and queues) another.
    with django_capture_on_commit_callbacks(execute=True):
        write_notices(readers[:1], "second")
    assert len(queued) == 2


def test_a_long_backlog_goes_out_a_batch_per_task_oldest_first(queued, monkeypatch):
    monkeypatch.setattr(tasks, "EMAIL_BATCH", 2)
    readers = [UserFactory() for _ in range(5)]
    for n, reader in enumerate(readers):
        write_notices([reader], f"n{n}")

    assert tasks.drain_notification_emails() == 2
    assert [m.to[0] for m in mail.outbox] == [readers[0].email, readers[1].email]
    assert queued == ["marketplace.tasks.drain_notification_emails"]  # the next batch, behind
    assert tasks.drain_notification_emails() == 2
    assert tasks.drain_notification_emails() == 1  # a short batch: the backlog is done
    assert len(queued) == 2
    assert [m.to[0] for m in mail.outbox] == [r.email for r in readers]


def test_a_mail_server_that_is_down_stops_the_chain_for_the_sweep(queued, monkeypatch):
    monkeypatch.setattr(tasks, "EMAIL_BATCH", 2)
    readers = [UserFactory() for _ in range(3)]
    for n, reader in enumerate(readers):
        write_notices([reader], f"n{n}")

    def down(*args, **kwargs):
        raise ConnectionRefusedError("smtp down")

    monkeypatch.setattr(tasks, "send_mail", down)
    assert tasks.drain_notification_emails() == 0
    assert queued == []  # no loop against a server that is down
    assert Notification.objects.pending_email().count() == 3  # the claims given back

    monkeypatch.undo()
    assert tasks.send_pending_notification_emails() == 3  # the sweep sends them later
    assert tasks.drain_notification_emails() == 0


def test_a_drain_lost_from_the_queue_is_replaced(queued):
    long_ago = timezone.now() - timedelta(seconds=notifications.DRAIN_LOST_SECONDS + 1)
    EmailDrain.objects.create(pk=EmailDrain.ONLY, queued_at=long_ago)

    assert notifications.queue_email_drain()
    assert not notifications.queue_email_drain()  # the new one is queued: once
    assert queued == ["marketplace.tasks.drain_notification_emails"]


def test_the_queue_being_down_leaves_the_drain_free_for_the_next_notice(monkeypatch, caplog):
    def down(*args, **kwargs):
        raise ConnectionError("broker unreachable")

    monkeypatch.setattr(notifications, "async_task", down)
    assert not notifications.queue_email_drain()
    assert "could not queue the notification e-mails" in caplog.text
    assert EmailDrain.objects.get(pk=EmailDrain.ONLY).queued_at is None

    calls = []
    monkeypatch.setattr(notifications, "async_task", lambda func, **kwargs: calls.append(func))
    assert notifications.queue_email_drain()
    assert calls == ["marketplace.tasks.drain_notification_emails"]
