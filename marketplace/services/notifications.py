"""In-app notifications that double as the e-mail outbox."""

import functools
import logging

from django.db import IntegrityError, transaction
from django.utils import translation
from django_q.brokers import get_broker
from django_q.tasks import async_task

from marketplace.i18n import language_for_user, supported
from marketplace.models import Notification, User

logger = logging.getLogger(__name__)


def notify(
    *,
    user: User,
    kind: str,
    title: str,
    body: str = "",
    url: str = "",
    dedupe_key: str,
    language: str | None = None,
) -> Notification | None:
    """Record a notice in the caller's transaction and queue its e-mail after commit.

    A second call for the same (user, kind, dedupe_key) is a no-op and returns None.
    `title` and `body` may be lazy (gettext_lazy, i18n.lazy_format): they are rendered here in
    the recipient's language, not the language of whoever caused the notice. A caller that
    has just read the recipient's `language` passes it (saves a query).
    """
    with translation.override(supported(language) or language_for_user(user)):
        title, body = str(title), str(body)
    try:
        # A savepoint, so a duplicate does not poison the caller's transaction.
        with transaction.atomic():
            notification = Notification.objects.create(
                user=user,
                kind=kind,
                title=str(title),
                body=str(body),
                url=url,
                dedupe_key=dedupe_key,
            )
    except IntegrityError:
        return None
    transaction.on_commit(lambda: _after_commit(notification.pk, user.pk))
    return notification


def _after_commit(notification_id: int, user_id: int) -> None:
    _queue_email(notification_id)
    _update_bell(user_id)


def _update_bell(user_id: int) -> None:
    """The new unread count to the user's open pages (never raises: broadcasts log)."""
    from marketplace import realtime

    realtime.broadcast_counts(user_id)


def mark_read(*, user: User, notification_id: int | None = None) -> int:
    """Mark one of the user's notifications read (or all of them); returns how many changed."""
    from django.utils import timezone

    unread = Notification.objects.filter(user=user, read_at__isnull=True)
    if notification_id is not None:
        unread = unread.filter(pk=notification_id)
    count = unread.update(read_at=timezone.now())
    if count:
        transaction.on_commit(lambda: _update_bell(user.pk))
    return count


@functools.cache
def _broker():
    """One broker per process: by default django-q2 makes one, with a new Redis connection,
    for every task queued (about a millisecond each, in every bid and close)."""
    return get_broker()


def _queue_email(notification_id: int) -> None:
    try:
        async_task("marketplace.tasks.send_notification_email", notification_id, broker=_broker())
    except Exception:
        # The broker being down must not fail a committed bid; the 10-minute sweep
        # (send_pending_notification_emails) sends whatever was not queued.
        logger.exception("could not queue the e-mail for notification %s", notification_id)
