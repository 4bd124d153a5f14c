"""In-app notifications that double as the e-mail outbox."""

import logging

from django.db import IntegrityError, transaction
from django.utils import translation
from django_q.tasks import async_task

from marketplace.i18n import language_for_user
from marketplace.models import Notification, User

logger = logging.getLogger(__name__)


def notify(
    *, user: User, kind: str, title: str, body: str = "", url: str = "", dedupe_key: str
) -> Notification | None:
    """Record a notice in the caller's transaction and queue its e-mail after commit.

    A second call for the same (user, kind, dedupe_key) is a no-op and returns None.
    `title` and `body` may be lazy (gettext_lazy, i18n.lazy_format): they are rendered here in
    the recipient's language, not the language of whoever caused the notice.
    """
    with translation.override(language_for_user(user)):
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
    transaction.on_commit(lambda: _queue_email(notification.pk))
    return notification


def _queue_email(notification_id: int) -> None:
    try:
        async_task("marketplace.tasks.send_notification_email", notification_id)
    except Exception:
        # The broker being down must not fail a committed bid; the 10-minute sweep
        # (send_pending_notification_emails) sends whatever was not queued.
        logger.exception("could not queue the e-mail for notification %s", notification_id)
