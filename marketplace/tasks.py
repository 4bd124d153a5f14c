"""django-q2 entry points: thin, they call services."""

import logging

from django.conf import settings
from django.core.mail import send_mail
from django.utils import timezone

from marketplace.models import AuctionListing, Notification
from marketplace.services import deadlines, payments
from marketplace.services.bidding import close_auction

logger = logging.getLogger(__name__)

EMAIL_BATCH = 200


def check_auction_endings() -> int:
    """Close every live auction past its end; returns how many this run closed.

    Level-triggered and idempotent: each close is a guarded transition, and rows another
    worker (or a bid) holds are skipped now and picked up by the next run.
    """
    closed = 0
    for auction_id in AuctionListing.objects.due_to_close().values_list("pk", flat=True):
        try:
            if close_auction(auction_id=auction_id, skip_locked=True) is not None:
                closed += 1
        except Exception:
            # One broken auction must not stop the others from closing.
            logger.exception("closing auction %s failed", auction_id)
    return closed


def send_notification_email(notification_id: int) -> bool:
    """E-mail one notification, at most once: the send is claimed by a conditional update."""
    now = timezone.now()
    claimed = Notification.objects.filter(pk=notification_id, emailed_at__isnull=True).update(
        emailed_at=now
    )
    if not claimed:
        return False
    notification = Notification.objects.select_related("user").get(pk=notification_id)
    if not notification.user.email:
        return False
    link = f"{settings.SITE_URL}{notification.url}" if notification.url else ""
    body = "\n\n".join(part for part in (notification.body, link) if part)
    try:
        send_mail(notification.title, body, settings.DEFAULT_FROM_EMAIL, [notification.user.email])
    except Exception:
        # Give the claim back so the sweep retries it later.
        Notification.objects.filter(pk=notification_id, emailed_at=now).update(emailed_at=None)
        logger.exception("e-mail for notification %s failed", notification_id)
        return False
    return True


def send_pending_notification_emails() -> int:
    """Sweep: e-mail notifications whose queued task never ran (worker down, crash)."""
    sent = 0
    pending = Notification.objects.pending_email().order_by("created_at")
    for notification_id in pending.values_list("pk", flat=True)[:EMAIL_BATCH]:
        sent += send_notification_email(notification_id)
    return sent


def send_pending_transfers() -> dict[str, int]:
    """Send sellers' shares not sent yet (and retry failed refunds)."""
    return payments.send_pending_transfers()


def check_payment_deadlines() -> dict[str, int]:
    """Cancel orders unpaid at their deadline; violations and second-chance offers."""
    return deadlines.check_payment_deadlines()
