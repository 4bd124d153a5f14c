from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class NotificationQuerySet(models.QuerySet):
    def unread(self) -> "NotificationQuerySet":
        return self.filter(read_at__isnull=True)

    def pending_email(self) -> "NotificationQuerySet":
        return self.filter(emailed_at__isnull=True)


class Notification(models.Model):
    """An in-app notice that doubles as the e-mail outbox row (sent once by a task)."""

    class Kind(models.TextChoices):
        OUTBID = "outbid", _("Outbid")
        AUCTION_WON = "auction_won", _("Auction won")
        AUCTION_SOLD = "auction_sold", _("Auction sold")
        AUCTION_UNSOLD = "auction_unsold", _("Auction ended unsold")
        PAYMENT_RECEIVED = "payment_received", _("Payment received")
        PAYMENT_REMINDER = "payment_reminder", _("Payment reminder")
        SHIPPED = "shipped", _("Order shipped")
        DELIVERED = "delivered", _("Order delivered")
        NEW_MESSAGE = "new_message", _("New message")
        FEEDBACK_RECEIVED = "feedback_received", _("Feedback received")
        COMPLAINT_UPDATED = "complaint_updated", _("Complaint updated")
        ACCOUNT_BLOCKED = "account_blocked", _("Account blocked")
        ORDER_UNPAID = "order_unpaid", _("Order not paid in time")
        SECOND_CHANCE_OFFER = "second_chance_offer", _("Second-chance offer")
        ORDER_CANCELLED = "order_cancelled", _("Order cancelled")
        PAYOUT_METHOD_CHANGED = "payout_method_changed", _("Payout method changed")
        PAYOUT_SENT = "payout_sent", _("Payout sent")
        PAYOUT_FAILED = "payout_failed", _("Payout failed")
        LEDGER_MISMATCH = "ledger_mismatch", _("Ledger mismatch")
        RETURN_UPDATED = "return_updated", _("Return request")
        COD_CONFIRM = "cod_confirm", _("Confirm a cash-on-delivery order")
        COD_CONFIRMED = "cod_confirmed", _("Cash-on-delivery order confirmed")
        REFUND_UPDATED = "refund_updated", _("Refund")

    # Sent by e-mail even to someone who turned e-mail notices off: they warn of a change to
    # where the seller's money goes, which the seller must hear about if it was not them.
    ALWAYS_EMAILED = frozenset({Kind.PAYOUT_METHOD_CHANGED})

    user = models.ForeignKey(
        "marketplace.User",
        on_delete=models.CASCADE,
        related_name="notifications",
        verbose_name=_("user"),
    )
    kind = models.CharField(_("kind"), max_length=30, choices=Kind.choices)
    title = models.CharField(_("title"), max_length=200)
    body = models.TextField(_("message"), blank=True)
    # title and body as msgids and parameters (marketplace.stored_text), so the page shows
    # them in the reader's language of the moment; title and body above are the texts in the
    # recipient's language when it was written (the e-mail, the admin, older rows).
    message = models.JSONField(_("message in any language"), default=dict, blank=True)
    url = models.CharField(_("link"), max_length=300, blank=True)
    # Makes a second notice for the same event impossible (e.g. "auction:12" for a win).
    dedupe_key = models.CharField(_("deduplication key"), max_length=100)
    created_at = models.DateTimeField(_("created at"), default=timezone.now)
    read_at = models.DateTimeField(_("read at"), null=True, blank=True)
    emailed_at = models.DateTimeField(_("e-mailed at"), null=True, blank=True)

    objects = NotificationQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("notification")
        verbose_name_plural = _("notifications")
        constraints = [
            models.UniqueConstraint(
                fields=["user", "kind", "dedupe_key"], name="notification_once_per_event"
            ),
        ]
        indexes = [
            models.Index(fields=["user", "-created_at"], name="notification_user_new"),
            # The bell's count on every signed-in page: an active bidder has thousands unread.
            models.Index(
                fields=["user"], name="notification_user_unread", condition=models.Q(read_at=None)
            ),
            models.Index(
                fields=["created_at"],
                name="notification_email_pending",
                condition=models.Q(emailed_at__isnull=True),
            ),
        ]

    def __str__(self) -> str:
        return self.title

    @property
    def display_title(self) -> str:
        """The title in the current language."""
        from marketplace.stored_text import thaw  # it imports i18n, which imports the models

        return thaw(self.message["title"]) if "title" in self.message else self.title

    @property
    def display_body(self) -> str:
        """The body in the current language."""
        from marketplace.stored_text import thaw

        return thaw(self.message["body"]) if "body" in self.message else self.body


class EmailDrain(models.Model):
    """One row: whether a task sending the pending notification e-mails is queued.

    However many notices are written, at most one such task waits in the queue (a task per
    notice, or per few, let a backlog of 100,000 closed auctions queue thousands of e-mail
    tasks, which everything queued after them then waited behind). `queued_at` is set by
    whoever queues the task and cleared when it starts; a task queued long ago and never
    started (lost with a broker restart) no longer counts.
    """

    ONLY = 1

    queued_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("e-mail drain")
        verbose_name_plural = _("e-mail drain")

    def __str__(self) -> str:
        return f"queued at {self.queued_at}" if self.queued_at else "idle"
