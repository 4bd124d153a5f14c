"""Parcels booked through a courier, their tracking events, and the courier's remittance lines
(issue 15). Written only by services.parcels and services.remittance."""

from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

MONEY = {"max_digits": 12, "decimal_places": 2}


class ParcelQuerySet(models.QuerySet):
    def open(self) -> "ParcelQuerySet":
        """Parcels still on their way: the tracking job polls these."""
        return self.exclude(status__in=Parcel.FINAL)


class Parcel(models.Model):
    class Status(models.TextChoices):
        BOOKED = "booked", _("Booked")
        PICKED_UP = "picked_up", _("Picked up")
        IN_TRANSIT = "in_transit", _("In transit")
        OUT_FOR_DELIVERY = "out_for_delivery", _("Out for delivery")
        DELIVERED = "delivered", _("Delivered")
        DELIVERY_FAILED = "delivery_failed", _("Delivery failed")
        RETURNED = "returned", _("Returned to the seller")

    FINAL = (Status.DELIVERED, Status.RETURNED)

    order = models.OneToOneField(
        "marketplace.Order",
        on_delete=models.PROTECT,
        related_name="parcel",
        verbose_name=_("order"),
    )
    courier = models.CharField(_("courier"), max_length=20)  # key in couriers.COURIERS
    tracking_number = models.CharField(_("tracking number"), max_length=60)
    status = models.CharField(
        _("status"), max_length=20, choices=Status.choices, default=Status.BOOKED
    )
    weight_kg = models.DecimalField(_("weight (kg)"), max_digits=6, decimal_places=2)
    pieces = models.PositiveSmallIntegerField(_("pieces"))
    cod_amount = models.DecimalField(_("cash to collect (Rs)"), **MONEY)
    # The courier's sequence number of the last event applied: an older one changes nothing.
    last_sequence = models.PositiveIntegerField(_("last event"), default=0)
    booked_by = models.ForeignKey(
        "marketplace.User",
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("booked by"),
    )
    booked_at = models.DateTimeField(_("booked at"), default=timezone.now)
    updated_at = models.DateTimeField(_("updated at"), default=timezone.now)

    objects = ParcelQuerySet.as_manager()

    class Meta:
        ordering = ["-booked_at"]
        verbose_name = _("parcel")
        verbose_name_plural = _("parcels")
        constraints = [
            models.UniqueConstraint(
                fields=["courier", "tracking_number"], name="parcel_tracking_once"
            ),
            models.CheckConstraint(condition=Q(cod_amount__gte=0), name="parcel_cod_not_negative"),
            models.CheckConstraint(condition=Q(weight_kg__gt=0), name="parcel_weight_positive"),
            models.CheckConstraint(condition=Q(pieces__gt=0), name="parcel_pieces_positive"),
        ]

    def __str__(self) -> str:
        return f"{self.courier} {self.tracking_number}"


class ParcelEvent(models.Model):
    """One entry of the courier's tracking history, stored once (by callback or poll)."""

    parcel = models.ForeignKey(
        Parcel, on_delete=models.CASCADE, related_name="events", verbose_name=_("parcel")
    )
    sequence = models.PositiveIntegerField(_("sequence"))
    # Empty when the courier said something we have no name for (shown in its own words).
    status = models.CharField(_("status"), max_length=20, choices=Parcel.Status.choices, blank=True)
    courier_status = models.CharField(_("courier's words"), max_length=100, blank=True)
    happened_at = models.DateTimeField(_("at"))
    recorded_at = models.DateTimeField(_("recorded at"), default=timezone.now)

    class Meta:
        ordering = ["sequence"]
        verbose_name = _("parcel event")
        verbose_name_plural = _("parcel events")
        constraints = [
            models.UniqueConstraint(fields=["parcel", "sequence"], name="parcel_event_once")
        ]

    def __str__(self) -> str:
        return f"{self.parcel_id} #{self.sequence}: {self.status or self.courier_status}"


class RemittanceLine(models.Model):
    """One parcel's line of a courier's remittance report, as received, and what we made of it."""

    class Outcome(models.TextChoices):
        MATCHED = "matched", _("Matched and credited")
        MISMATCH = "mismatch", _("Mismatch: for staff")
        RESOLVED = "resolved", _("Resolved by staff")

    courier = models.CharField(_("courier"), max_length=20)
    tracking_number = models.CharField(_("tracking number"), max_length=60)
    reference = models.CharField(_("courier's payment reference"), max_length=60, blank=True)
    collected = models.DecimalField(_("collected (Rs)"), **MONEY)
    cod_charge = models.DecimalField(_("COD charge (Rs)"), **MONEY)
    return_charge = models.DecimalField(_("return charge (Rs)"), **MONEY)
    parcel = models.ForeignKey(
        Parcel,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="remittance_lines",
        verbose_name=_("parcel"),
    )
    outcome = models.CharField(_("outcome"), max_length=10, choices=Outcome.choices)
    problem = models.CharField(_("problem"), max_length=300, blank=True)
    source = models.CharField(_("source"), max_length=20)  # "api" or "csv"
    received_at = models.DateTimeField(_("received at"), default=timezone.now)

    class Meta:
        ordering = ["-received_at", "-pk"]
        verbose_name = _("COD remittance line")
        verbose_name_plural = _("COD remittance lines")
        constraints = [
            # A courier settles a parcel once: the same line again (the next report, the CSV
            # uploaded twice) is a no-op.
            models.UniqueConstraint(
                fields=["courier", "tracking_number"], name="remittance_line_once"
            ),
            models.CheckConstraint(
                condition=Q(collected__gte=0, cod_charge__gte=0, return_charge__gte=0),
                name="remittance_amounts_not_negative",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.courier} {self.tracking_number}"
