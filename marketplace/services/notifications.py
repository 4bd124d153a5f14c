"""In-app notifications that double as the e-mail outbox."""

import functools
import logging
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta

from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone, translation
from django_q.brokers import get_broker
from django_q.tasks import async_task

from marketplace import background
from marketplace.bulk import insert_all
from marketplace.i18n import languages_for_users, supported
from marketplace.models import EmailDrain, Notification, User
from marketplace.stored_text import freeze

logger = logging.getLogger(__name__)

# A drain task queued this long ago and not started was lost (a broker restart emptied the
# queue): the next notice queues another. One queued behind a long backlog and then started
# anyway only sends what is still pending (each e-mail is claimed once).
DRAIN_LOST_SECONDS = 120


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
        transaction.on_commit(lambda: _after_commit(user_ids))
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


def _after_commit(user_ids: list[int]) -> None:
    """Queue the e-mails and update the bells off the caller's path (marketplace.background):
    a burst of notices (a hot auction's outbids) costs one check of the drain and one count
    per reader."""
    background.submit("notification-emails", None, run=_queue_drain_quietly)
    for user_id in user_ids:
        background.submit(("bell", user_id), user_id, run=_update_bell)


def _update_bell(user_id: int) -> None:
    """The new unread count to the user's open pages (never raises: broadcasts log)."""
    from marketplace import realtime

    realtime.broadcast_counts(user_id)


def mark_read(*, user: User, notification_id: int | None = None) -> int:
    """Mark one of the user's notifications read (or all of them); returns how many changed."""
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


def queue_email_drain() -> bool:
    """Make sure a task sending the pending notification e-mails is queued; True if this call
    queued it. At most one waits in the queue however many notices are written (EmailDrain).

    The broker being down must not fail what was committed: the drain is marked not queued
    again, and the 10-minute sweep (send_pending_notification_emails) sends meanwhile.
    """
    now = timezone.now()
    lost = now - timedelta(seconds=DRAIN_LOST_SECONDS)
    free = Q(queued_at__isnull=True) | Q(queued_at__lt=lost)
    claimed = EmailDrain.objects.filter(free, pk=EmailDrain.ONLY).update(queued_at=now)
    if not claimed:
        _, claimed = EmailDrain.objects.get_or_create(
            pk=EmailDrain.ONLY, defaults={"queued_at": now}
        )
    if not claimed:
        return False  # one is queued already: it will find these notices
    try:
        async_task("marketplace.tasks.drain_notification_emails", broker=queue_broker())
    except Exception:
        EmailDrain.objects.filter(pk=EmailDrain.ONLY, queued_at=now).update(queued_at=None)
        logger.exception("could not queue the notification e-mails")
        return False
    return True


def email_drain_started() -> None:
    """The queued drain has started: a notice written from now on queues the next one."""
    EmailDrain.objects.filter(pk=EmailDrain.ONLY).update(queued_at=None)


def _queue_drain_quietly(_nothing: None) -> None:
    try:
        queue_email_drain()
    except Exception:  # the database is away: the sweep sends these notices later
        logger.exception("could not check the notification e-mail drain")
