"""django-q2 entry points: thin, they call services."""

import logging

from django.conf import settings
from django.core.mail import send_mail
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from marketplace import realtime
from marketplace.i18n import isolate, language_for_user
from marketplace.models import AuctionListing, Notification, Order
from marketplace.services import (
    deadlines,
    fulfilment,
    ledger,
    notifications,
    parcels,
    payout_batches,
    reconciliation,
    refunds,
    remittance,
    transfers,
    wallets,
)
from marketplace.services.closing import close_auction, close_auctions

logger = logging.getLogger(__name__)

EMAIL_BATCH = 200
# Auctions closed per transaction: each batch pays a commit (a disk flush), a locked read, a
# clock read and about ten statements whatever its size. 500 cost about a quarter less per
# auction than 100 (BENCHMARKS.md, issue 19); their row locks are held about a quarter of a
# second, and only on auctions already past their end, where a bid is refused anyway.
CLOSE_BATCH = 500


# A backlog of more than CLOSE_SHARE due auctions is shared out: a run closes the first
# CLOSE_SHARE itself and queues the rest as `close_auction_ids` tasks of CLOSE_SHARE each, so
# the cluster's workers close them side by side. A share takes a few seconds, well inside the
# cluster's 60 s task timeout, which one sweep of 100,000 (67 s, BENCHMARKS.md) overran.
CLOSE_SHARE = 5_000


def check_auction_endings() -> int:
    """Close every live auction past its end, or share a long backlog out (CLOSE_SHARE);
    returns how many this run closed itself.

    Level-triggered and idempotent: each close is a guarded transition, and rows another
    worker (or a bid) holds are skipped now and picked up by the next run. A share queued
    twice (the next run came before the workers did) closes nothing the second time.
    """
    due = list(AuctionListing.objects.due_to_close().order_by("pk").values_list("pk", flat=True))
    # Each batch broadcasts after its commit. From plain sync code every broadcast would start
    # its own event loop and channel-layer connection; inside one loop they share one.
    return realtime.in_one_event_loop(_close_all, _share_out(due))


def close_auction_ids(auction_ids: list[int]) -> int:
    """Close those of `auction_ids` that are still due: a share of a backlog
    (`check_auction_endings`). Returns how many it closed."""
    return realtime.in_one_event_loop(_close_all, [int(pk) for pk in auction_ids])


def _share_out(due: list[int]) -> list[int]:
    """Queue every share of `due` after the first; answer what this run closes itself: the
    first share, and any the queue would not take (it is down: closed here, as before)."""
    from django_q.tasks import async_task

    mine, rest = due[:CLOSE_SHARE], due[CLOSE_SHARE:]
    for start in range(0, len(rest), CLOSE_SHARE):
        share = rest[start : start + CLOSE_SHARE]
        try:
            async_task(
                "marketplace.tasks.close_auction_ids",
                share,
                group="close_auction_ids",
                broker=notifications.queue_broker(),
            )
        except Exception:
            logger.exception(
                "could not queue closing %s auctions from #%s; closing them here",
                len(share),
                share[0],
            )
            return mine + rest[start:]
    return mine


def _close_all(auction_ids: list[int]) -> int:
    closed = 0
    for start in range(0, len(auction_ids), CLOSE_BATCH):
        batch = auction_ids[start : start + CLOSE_BATCH]
        # One transaction and a few statements per batch: a durable commit waits for a disk
        # flush, and a round trip per row and table grows with the sweep (BENCHMARKS.md).
        try:
            closed += len(close_auctions(auction_ids=batch, skip_locked=True))
        except Exception:
            logger.exception(
                "closing %s auctions from #%s failed; closing them one by one", len(batch), batch[0]
            )
            closed += _close_one_by_one(batch)
    return closed


def _close_one_by_one(auction_ids: list[int]) -> int:
    """After a batch failed (and rolled back): one broken auction must not hold back the others."""
    closed = 0
    for auction_id in auction_ids:
        try:
            closed += close_auction(auction_id=auction_id, skip_locked=True) is not None
        except Exception:
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
    # Someone who turned e-mail off keeps the notice on the site only; the claim stays, so
    # turning e-mail back on later does not send a pile of old notices.
    if not notification.user.email:
        return False
    if (
        not notification.user.email_notifications
        and notification.kind not in Notification.ALWAYS_EMAILED
    ):
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


def drain_notification_emails() -> int:
    """E-mail the oldest pending notifications, EMAIL_BATCH of them; returns how many were sent.

    Queued by `notifications.queue_email_drain` after notices are written, at most one at a
    time: with more pending it queues the next batch behind whatever was queued meanwhile (a
    closing backlog's shares do not wait behind every e-mail). A send that failed stays
    pending and stops the chain: the 10-minute sweep retries it, not a loop against a mail
    server that is down.
    """
    notifications.email_drain_started()
    pending = list(
        Notification.objects.pending_email()
        .order_by("created_at", "pk")
        .values_list("pk", flat=True)[:EMAIL_BATCH]
    )
    sent = sum(send_notification_email(notification_id) for notification_id in pending)
    failed = Notification.objects.pending_email().filter(pk__in=pending).exists()
    if len(pending) == EMAIL_BATCH and not failed:
        notifications.queue_email_drain()
    return sent


def send_notification_emails(notification_ids: list[int]) -> int:
    """E-mail these notifications, each at most once (the task queued per few notices before
    `drain_notification_emails`; kept for tasks still in a queue from then)."""
    return sum(send_notification_email(notification_id) for notification_id in notification_ids)


def send_pending_notification_emails() -> int:
    """Sweep (every 10 minutes): e-mail notifications whose queued task never ran.

    `send_pending_notifications` in the seed's words; each send is claimed once, so a notice
    is never e-mailed twice however often this or the immediate task runs.
    """
    sent = 0
    pending = Notification.objects.pending_email().order_by("created_at")
    for notification_id in pending.values_list("pk", flat=True)[:EMAIL_BATCH]:
        sent += send_notification_email(notification_id)
    return sent


# The seed's name for the 10-minute sweep.
send_pending_notifications = send_pending_notification_emails


# --- Delivery and feedback -----------------------------------------------------------------


def auto_confirm_deliveries() -> int:
    """Hourly: confirm delivery of orders shipped AUTO_CONFIRM_DELIVERY_DAYS ago or more."""
    return fulfilment.auto_confirm_deliveries()


def send_feedback_request_email(order_id: int) -> bool:
    """Ask the buyer of a delivered order for feedback, at most once.

    The send is claimed with a conditional update; a failure gives the claim back and raises,
    so django-q2 retries, and a retry after a success finds the claim taken and sends nothing.
    """
    now = timezone.now()
    claimed = Order.objects.filter(
        pk=order_id, status=Order.Status.DELIVERED, feedback_requested_at__isnull=True
    ).update(feedback_requested_at=now)
    if not claimed:
        return False
    order = Order.objects.select_related("buyer", "seller__seller_profile").get(pk=order_id)
    if not order.buyer.email or not order.buyer.email_notifications:
        return False
    context = {
        "order": order,
        "url": settings.SITE_URL + reverse("feedback_create", args=[order.number]),
    }
    # In the buyer's language, whoever's action (or the schedule) led to the delivery.
    with translation.override(language_for_user(order.buyer)):
        subject = _("How was your order %(number)s?") % {"number": isolate(order.number)}
        body = render_to_string("marketplace/emails/feedback_request.txt", context)
    try:
        send_mail(subject, body, settings.DEFAULT_FROM_EMAIL, [order.buyer.email])
    except Exception:
        Order.objects.filter(pk=order_id, feedback_requested_at=now).update(
            feedback_requested_at=None
        )
        logger.exception("feedback request e-mail for order %s failed", order_id)
        raise
    return True


# --- Payments -------------------------------------------------------------------------------


def send_pending_transfers() -> dict[str, int]:
    """Send sellers' shares not sent yet, then retry refunds that failed."""
    counts = transfers.send_pending_transfers()
    counts["refunds"] = refunds.resend_failed_refunds()
    return counts


def settle_wallet_payments() -> int:
    """Ask the wallet about every open wallet payment until it settles or expires."""
    return wallets.settle_pending_wallet_payments()


def send_payment_reminders() -> int:
    """Remind buyers of unpaid orders once half the time to the deadline is gone."""
    return deadlines.send_payment_reminders()


def check_payment_deadlines() -> dict[str, int]:
    """Cancel orders unpaid at their deadline; violations and second-chance offers."""
    return deadlines.check_payment_deadlines()


# --- Accounts ---------------------------------------------------------------------------------


def purge_login_failure_logs() -> int:
    """Daily: drop django-axes' failure log rows older than the cool-off escalation looks back."""
    from axes.handlers.proxy import AxesProxyHandler

    from marketplace.auth import ESCALATION_WINDOW

    return AxesProxyHandler.reset_failure_logs(age_days=ESCALATION_WINDOW.days)


# --- Seller ledger (issue 14; scheduled in marketplace/schedules.py) ------------------------


def release_ledger_money() -> int:
    """Release the money of orders delivered more than LEDGER_RELEASE_DAYS ago."""
    return ledger.release_due()


def draft_payout_batch() -> int:
    """Draft this period's payout batch; returns its number of lines."""
    return payout_batches.draft_payout_batch().lines.count()


def pay_stripe_payouts() -> dict[str, int]:
    """Send the drafted payout lines of Stripe-rail sellers as Transfers."""
    return payout_batches.pay_stripe_lines()


def reconcile_ledger() -> int:
    """Check the ledger against the payments; returns the number of mismatches reported."""
    return len(reconciliation.reconcile())


# --- Demo -------------------------------------------------------------------------------------


def onboard_demo_sellers(usernames: list[str]) -> list[str]:
    """Queued by load_demo: finish the demo sellers' payouts set-up on the local emulator."""
    from marketplace.demo.payouts import onboard_demo_sellers as onboard

    return onboard(usernames)


def poll_parcel_tracking() -> int:
    """Ask the courier about every parcel still on its way (callbacks can be lost)."""
    return parcels.poll_open_parcels()


def reconcile_cod_remittance() -> tuple[int, int]:
    """Fetch the courier's remittance report and credit sellers for matched parcels."""
    return remittance.reconcile_report()
