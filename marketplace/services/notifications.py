"""In-app notifications that double as the e-mail outbox."""

import functools
import logging
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass

from django.db import IntegrityError, transaction
from django.utils import translation
from django_q.brokers import get_broker
from django_q.tasks import async_task

from marketplace import background
from marketplace.bulk import insert_all
from marketplace.i18n import languages_for_users, supported
from marketplace.models import Notification, User
from marketplace.stored_text import freeze

logger = logging.getLogger(__name__)

EMAILS_PER_TASK = 25


@dataclass(frozen=True)
class Notice:
    """One notice to record: `title` and `body` may be lazy (rendered in the reader's language)."""

    user: User
    kind: str
    title: str
    dedupe_key: str
    body: str = ""
    url: str = ""
    language: str | None = None  # the reader's, when the caller has just read it


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
    notice = Notice(
        user=user,
        kind=kind,
        title=title,
        body=body,
        url=url,
        dedupe_key=dedupe_key,
        language=language,
    )
    return notify_many([notice])[0]


def notify_many(notices: Sequence[Notice], *, new_keys: bool = False) -> list[Notification | None]:
    """`notify` for many notices at once: one INSERT (a COPY for many: `bulk.insert_all`), one
    language query, and after commit their e-mails queued in a few tasks and each recipient's
    bell updated once.

    Returns the new Notification of each notice, or None where it was a duplicate. A caller
    whose dedupe keys cannot have been used before (they name a row it has just inserted)
    passes `new_keys=True`: the rows go in without a savepoint.
    """
    if not notices:
        return []
    languages = languages_for_users(n.user for n in notices if not supported(n.language))
    rows = [
        Notification(user=n.user, kind=n.kind, url=n.url, dedupe_key=n.dedupe_key) for n in notices
    ]
    by_language: dict[str, list[tuple[Notice, Notification]]] = defaultdict(list)
    for notice, row in zip(notices, rows, strict=True):
        code = supported(notice.language) or languages[notice.user.pk]
        by_language[code].append((notice, row))
    for code, pairs in by_language.items():
        with translation.override(code):  # once per language, not once per notice
            for notice, row in pairs:
                row.title, row.body = str(notice.title), str(notice.body)
                row.message = {"title": freeze(notice.title), "body": freeze(notice.body)}
    created = insert_all(rows) if new_keys else _insert(rows)
    new_ids = [row.pk for row in created if row is not None]
    if new_ids:
        user_ids = list(dict.fromkeys(row.user_id for row in created if row is not None))
        transaction.on_commit(lambda: _after_commit(new_ids, user_ids))
    return created


def _insert(rows: list[Notification]) -> list[Notification | None]:
    """Insert the rows, each in a savepoint so a duplicate does not poison the caller's
    transaction; many rows go in at once first, the usual case with no duplicate."""
    if len(rows) > 1:
        try:
            with transaction.atomic():
                return insert_all(rows)
        except IntegrityError:
            pass  # some notice was recorded before: find which, one row at a time
    created: list[Notification | None] = []
    for row in rows:
        try:
            with transaction.atomic():
                row.save(force_insert=True)
        except IntegrityError:
            created.append(None)
        else:
            created.append(row)
    return created


def _after_commit(notification_ids: list[int], user_ids: list[int]) -> None:
    """Queue the e-mails and update the bells off the caller's path (marketplace.background):
    a burst of notices (a hot auction's outbids) costs a few tasks and one count per reader."""
    background.submit("notification-emails", notification_ids, run=_queue_emails, merge=_joined)
    for user_id in user_ids:
        background.submit(("bell", user_id), user_id, run=_update_bell)


def _joined(waiting: list[int], new: list[int]) -> list[int]:
    return [*waiting, *new]


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
def queue_broker():
    """One broker per process: by default django-q2 makes one, with a new Redis connection,
    for every task queued (about a millisecond each, in every bid and close)."""
    return get_broker()


def _queue_emails(notification_ids: list[int]) -> None:
    # A few notices per task: queueing one task per notice costs about as much as writing
    # the notice; a task of a few sends stays well inside the task timeout.
    for start in range(0, len(notification_ids), EMAILS_PER_TASK):
        chunk = notification_ids[start : start + EMAILS_PER_TASK]
        try:
            async_task("marketplace.tasks.send_notification_emails", chunk, broker=queue_broker())
        except Exception:
            # The broker being down must not fail a committed bid; the 10-minute sweep
            # (send_pending_notification_emails) sends whatever was not queued.
            logger.exception("could not queue the e-mails for notifications %s", chunk)
