from datetime import datetime
from decimal import Decimal

from django.db import models
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from marketplace.pricing import bid_increment


class AuctionQuerySet(models.QuerySet):
    def live(self, now: datetime | None = None) -> "AuctionQuerySet":
        now = now or timezone.now()
        return self.filter(status=AuctionListing.Status.LIVE, starts_at__lte=now, ends_at__gt=now)

    def due_to_close(self, now: datetime | None = None) -> "AuctionQuerySet":
        """Auctions still marked live whose end time has passed."""
        now = now or timezone.now()
        return self.filter(status=AuctionListing.Status.LIVE, ends_at__lte=now)

    def ending_soon(self, now: datetime | None = None) -> "AuctionQuerySet":
        return self.live(now).order_by("ends_at")

    def visible(self) -> "AuctionQuerySet":
        """Auctions anyone may look at: live or ended, with a product (never cancelled or
        scheduled ones), on the pages and in the API alike."""
        return self.exclude(status__in=AuctionListing.HIDDEN_STATUSES).filter(product__isnull=False)


class AuctionListing(models.Model):
    class Status(models.TextChoices):
        SCHEDULED = "scheduled", _("Scheduled")
        LIVE = "live", _("Live")
        ENDED_SOLD = "ended_sold", _("Ended: sold")
        ENDED_UNSOLD = "ended_unsold", _("Ended: unsold")
        CANCELLED = "cancelled", _("Cancelled")

    # Nobody may look at these (`AuctionQuerySet.visible`, `Product.is_visible_to`).
    HIDDEN_STATUSES = (Status.CANCELLED, Status.SCHEDULED)

    starting_price = models.DecimalField(_("starting price (Rs)"), max_digits=12, decimal_places=2)
    reserve_price = models.DecimalField(
        _("reserve price (Rs)"),
        max_digits=12,
        decimal_places=2,
        null=True,
        blank=True,
        help_text=_("Hidden minimum: the item is not sold below it."),
    )
    starts_at = models.DateTimeField(_("starts at"), default=timezone.now)
    ends_at = models.DateTimeField(_("ends at"), db_index=True)
    original_ends_at = models.DateTimeField(_("scheduled end"), null=True, blank=True)
    status = models.CharField(
        _("status"), max_length=12, choices=Status.choices, default=Status.LIVE, db_index=True
    )
    current_price = models.DecimalField(_("current price (Rs)"), max_digits=12, decimal_places=2)
    bid_count = models.PositiveIntegerField(_("bids"), default=0)
    leading_bid = models.ForeignKey(
        "marketplace.Bid",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("leading bid"),
    )
    # The leader's secret proxy maximum: the system bids for them up to it. Kept on the auction
    # row (not only on the Bid) because the leader may raise it without placing a new bid.
    leading_max_amount = models.DecimalField(
        _("leader's maximum (Rs)"), max_digits=12, decimal_places=2, null=True, blank=True
    )
    winner = models.ForeignKey(
        "marketplace.User",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="auctions_won",
        verbose_name=_("winner"),
    )
    closed_at = models.DateTimeField(_("closed at"), null=True, blank=True)
    # An auction that ended unsold and was started again points at its successor (once only).
    relisted_as = models.OneToOneField(
        "self",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="relisted_from",
        verbose_name=_("relisted as"),
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    objects = AuctionQuerySet.as_manager()

    class Meta:
        verbose_name = _("auction")
        verbose_name_plural = _("auctions")
        constraints = [
            models.CheckConstraint(
                condition=Q(starting_price__gt=0), name="auction_starting_price_positive"
            ),
            models.CheckConstraint(
                condition=Q(reserve_price__isnull=True) | Q(reserve_price__gte=F("starting_price")),
                name="auction_reserve_not_below_start",
            ),
            models.CheckConstraint(
                condition=Q(ends_at__gt=F("starts_at")), name="auction_ends_after_start"
            ),
            models.CheckConstraint(
                condition=Q(current_price__gte=F("starting_price")),
                name="auction_price_not_below_start",
            ),
            models.CheckConstraint(
                condition=Q(leading_max_amount__isnull=True)
                | Q(leading_max_amount__gte=F("current_price")),
                name="auction_leader_max_not_below_price",
            ),
        ]
        indexes = [models.Index(fields=["status", "ends_at"], name="auction_status_ends")]

    def __str__(self) -> str:
        return f"#{self.pk} ({self.get_status_display()})"

    def is_open(self, now: datetime | None = None) -> bool:
        now = now or timezone.now()
        return self.status == self.Status.LIVE and self.starts_at <= now < self.ends_at

    def has_ended(self, now: datetime | None = None) -> bool:
        now = now or timezone.now()
        return self.status in {self.Status.ENDED_SOLD, self.Status.ENDED_UNSOLD} or (
            self.status == self.Status.LIVE and now >= self.ends_at
        )

    def minimum_next_bid(self) -> Decimal:
        if self.bid_count == 0:
            return self.starting_price
        return self.current_price + bid_increment(self.current_price)

    def standing_of(self, bidder) -> str:
        """Where a bidder stands: "leading", "outbid", "won" or "lost" (as /my-bids/ groups)."""
        if self.status == self.Status.LIVE:
            # Past its end but not yet closed still counts as leading: closing decides.
            leader_id = self.leading_bid.bidder_id if self.leading_bid_id else None
            return "leading" if leader_id == bidder.pk else "outbid"
        return "won" if self.winner_id == bidder.pk else "lost"

    @property
    def reserve_met(self) -> bool:
        return self.reserve_price is None or (
            self.bid_count > 0 and self.current_price >= self.reserve_price
        )


class Bid(models.Model):
    auction = models.ForeignKey(
        AuctionListing, on_delete=models.CASCADE, related_name="bids", verbose_name=_("auction")
    )
    bidder = models.ForeignKey(
        "marketplace.User", on_delete=models.PROTECT, related_name="bids", verbose_name=_("bidder")
    )
    amount = models.DecimalField(_("amount (Rs)"), max_digits=12, decimal_places=2)
    max_amount = models.DecimalField(
        _("maximum bid (Rs)"), max_digits=12, decimal_places=2, null=True, blank=True
    )
    is_automatic = models.BooleanField(
        _("placed by proxy"), default=False, help_text=_("Placed by the system up to a maximum.")
    )
    created_at = models.DateTimeField(_("time"), default=timezone.now)

    class Meta:
        ordering = ["-amount", "created_at"]
        verbose_name = _("bid")
        verbose_name_plural = _("bids")
        constraints = [
            models.CheckConstraint(condition=Q(amount__gt=0), name="bid_amount_positive"),
            models.CheckConstraint(
                condition=Q(max_amount__isnull=True) | Q(max_amount__gte=F("amount")),
                name="bid_max_not_below_amount",
            ),
        ]
        indexes = [models.Index(fields=["auction", "-amount"], name="bid_auction_amount")]

    def __str__(self) -> str:
        return f"{self.amount} by {self.bidder_id} on {self.auction_id}"
