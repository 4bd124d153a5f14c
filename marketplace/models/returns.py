"""Returns after delivery (issue 14): the buyer asks, the seller accepts or refuses, a refused
return can become a dispute that staff decide. Written only by marketplace.services.returns."""

import uuid
from datetime import timedelta

from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from marketplace.models.complaints import private_storage

# How long after the seller refuses the buyer may still ask staff to decide.
ESCALATION_DAYS = 7
# Photos a buyer may add to a return request.
MAX_RETURN_PHOTOS = 3


class ReturnRequestQuerySet(models.QuerySet):
    def open(self) -> "ReturnRequestQuerySet":
        """Waiting for the seller or for staff: the order's money stays held."""
        return self.filter(status__in=ReturnRequest.OPEN_STATUSES)

    def holding_money(self, now) -> "ReturnRequestQuerySet":
        """Returns that keep the order's money from being released at `now`: open ones, and
        refused ones the buyer may still take to staff (a dispute accepted after the money was
        released and paid out would leave the seller owing)."""
        return self.filter(
            Q(status__in=ReturnRequest.OPEN_STATUSES)
            | Q(
                status=ReturnRequest.Status.REFUSED,
                answered_at__gte=now - timedelta(days=ESCALATION_DAYS),
            )
        )


class ReturnRequest(models.Model):
    class Reason(models.TextChoices):
        NOT_AS_DESCRIBED = "not_as_described", _("Not as described")
        DAMAGED = "damaged", _("Arrived damaged")
        WRONG_ITEM = "wrong_item", _("Wrong item sent")
        MISSING_PARTS = "missing_parts", _("Parts or items missing")
        CHANGED_MIND = "changed_mind", _("No longer wanted")
        OTHER = "other", _("Something else")

    class Status(models.TextChoices):
        REQUESTED = "requested", _("Waiting for the seller")
        ACCEPTED = "accepted", _("Accepted: refunded")
        REFUSED = "refused", _("Refused by the seller")
        DISPUTED = "disputed", _("With staff to decide")
        REJECTED = "rejected", _("Rejected by staff")

    OPEN_STATUSES = (Status.REQUESTED, Status.DISPUTED)

    order = models.ForeignKey(
        "marketplace.Order",
        on_delete=models.PROTECT,
        related_name="return_requests",
        verbose_name=_("order"),
    )
    status = models.CharField(
        _("status"), max_length=20, choices=Status.choices, default=Status.REQUESTED
    )
    reason = models.CharField(_("reason"), max_length=20, choices=Reason.choices)
    details = models.TextField(_("what is wrong"), max_length=2000)
    refusal_reason = models.TextField(_("why the seller refused"), max_length=2000, blank=True)
    dispute_note = models.TextField(_("buyer's note to staff"), max_length=2000, blank=True)
    decision_note = models.TextField(_("staff's decision"), max_length=2000, blank=True)
    decided_by = models.ForeignKey(
        "marketplace.User",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("decided by"),
    )
    created_at = models.DateTimeField(_("asked at"), default=timezone.now)
    answered_at = models.DateTimeField(_("seller answered at"), null=True, blank=True)
    disputed_at = models.DateTimeField(_("disputed at"), null=True, blank=True)
    closed_at = models.DateTimeField(_("closed at"), null=True, blank=True)

    objects = ReturnRequestQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-pk"]
        verbose_name = _("return request")
        verbose_name_plural = _("return requests")
        constraints = [
            # The service refuses a second request too; this makes two open ones impossible
            # even when two posts race.
            models.UniqueConstraint(
                fields=["order"],
                condition=Q(status__in=["requested", "disputed"]),
                name="return_one_open_per_order",
            ),
            models.CheckConstraint(
                condition=~Q(status="refused") | ~Q(refusal_reason=""),
                name="return_refusal_has_reason",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.order} ({self.get_status_display()})"

    @property
    def is_open(self) -> bool:
        return self.status in self.OPEN_STATUSES

    def escalation_ends_at(self):
        return self.answered_at + timedelta(days=ESCALATION_DAYS) if self.answered_at else None

    # Who may do what now; the pages offer an action by these and the service refuses by the
    # same rule under the order's lock.
    def can_answer(self, user) -> bool:
        return user.pk == self.order.seller_id and self.status == self.Status.REQUESTED

    def can_dispute(self, user, now) -> bool:
        return (
            user.pk == self.order.buyer_id
            and self.status == self.Status.REFUSED
            and now <= self.escalation_ends_at()
        )

    def can_decide(self, user) -> bool:
        return user.is_staff and self.status == self.Status.DISPUTED


def return_photo_path(instance: "ReturnPhoto", filename: str) -> str:
    # Never the uploader's file name: it may say more than it should.
    return f"returns/{uuid.uuid4().hex}.jpg"


class ReturnPhoto(models.Model):
    """A photo the buyer sent with a return: re-encoded, private (served by `return_photo` to
    the buyer, the seller and staff only)."""

    return_request = models.ForeignKey(
        ReturnRequest,
        on_delete=models.CASCADE,
        related_name="photos",
        verbose_name=_("return request"),
    )
    position = models.PositiveSmallIntegerField(_("position"))
    image = models.ImageField(_("photo"), upload_to=return_photo_path, storage=private_storage)
    created_at = models.DateTimeField(_("sent at"), default=timezone.now)

    class Meta:
        ordering = ["return_request", "position"]
        verbose_name = _("return photo")
        verbose_name_plural = _("return photos")
        constraints = [
            models.UniqueConstraint(
                fields=["return_request", "position"], name="return_photo_one_per_position"
            ),
            models.CheckConstraint(
                condition=Q(position__lt=MAX_RETURN_PHOTOS), name="return_photo_at_most_three"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.return_request.order} #{self.position + 1}"
