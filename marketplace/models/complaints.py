import uuid
from functools import cached_property
from pathlib import Path

from django.conf import settings
from django.core.files.storage import FileSystemStorage
from django.db import models
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class PrivateStorage(FileSystemStorage):
    """Files outside MEDIA_ROOT, served only by views that check who asks."""

    # Read at use, not import, so tests and deployments can move it.
    @property
    def base_location(self):
        return self._value_or_setting(self._location, settings.PRIVATE_MEDIA_ROOT)

    @property
    def location(self):
        return str(Path(self.base_location).resolve())

    @cached_property
    def base_url(self):
        return None


def private_storage() -> PrivateStorage:
    return PrivateStorage()


def complaint_photo_path(instance: "Complaint", filename: str) -> str:
    # Never the uploader's file name: it may say more than it should.
    return f"complaints/{uuid.uuid4().hex}.jpg"


class ComplaintQuerySet(models.QuerySet):
    def open(self) -> "ComplaintQuerySet":
        return self.filter(status__in=[Complaint.Status.OPEN, Complaint.Status.IN_PROGRESS])


class Complaint(models.Model):
    class Category(models.TextChoices):
        PAYMENT = "payment", _("Payment")
        SELLER = "seller", _("A seller")
        PRODUCT = "product", _("A product")
        PLATFORM = "platform", _("The website")
        SHIPPING = "shipping", _("Shipping")
        OTHER = "other", _("Something else")

    class Status(models.TextChoices):
        OPEN = "open", _("Open")
        IN_PROGRESS = "in_progress", _("In progress")
        RESOLVED = "resolved", _("Resolved")
        CLOSED = "closed", _("Closed")

    number = models.CharField(_("complaint number"), max_length=20, unique=True)
    user = models.ForeignKey(
        "marketplace.User",
        on_delete=models.CASCADE,
        related_name="complaints",
        verbose_name=_("filed by"),
    )
    category = models.CharField(_("about"), max_length=20, choices=Category.choices)
    subject = models.CharField(_("subject"), max_length=150)
    description = models.TextField(_("what happened"), max_length=5000)
    order = models.ForeignKey(
        "marketplace.Order",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="complaints",
        verbose_name=_("order"),
    )
    seller = models.ForeignKey(
        "marketplace.User",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="complaints_about",
        verbose_name=_("seller"),
    )
    photo = models.ImageField(
        _("photo"),
        upload_to=complaint_photo_path,
        storage=private_storage,
        blank=True,
    )
    status = models.CharField(
        _("status"), max_length=20, choices=Status.choices, default=Status.OPEN, db_index=True
    )
    assigned_to = models.ForeignKey(
        "marketplace.User",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="complaints_assigned",
        limit_choices_to={"is_staff": True},
        verbose_name=_("assigned to"),
    )
    resolution_note = models.TextField(
        _("resolution note"),
        blank=True,
        max_length=5000,
        help_text=_("Shown to the person who filed the complaint."),
    )
    created_at = models.DateTimeField(_("filed at"), default=timezone.now)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)
    resolved_at = models.DateTimeField(_("resolved at"), null=True, blank=True)

    objects = ComplaintQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-pk"]
        verbose_name = _("complaint")
        verbose_name_plural = _("complaints")
        indexes = [models.Index(fields=["user", "-created_at"], name="complaint_user_new")]

    def __str__(self) -> str:
        return f"{self.number}: {self.subject}"

    def get_absolute_url(self) -> str:
        return reverse("complaint_detail", args=[self.number])


class ComplaintMessage(models.Model):
    """A follow-up on a complaint, from the person who filed it or from staff."""

    complaint = models.ForeignKey(
        Complaint, on_delete=models.CASCADE, related_name="messages", verbose_name=_("complaint")
    )
    author = models.ForeignKey(
        "marketplace.User",
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("written by"),
    )
    body = models.TextField(_("message"), max_length=2000)
    created_at = models.DateTimeField(_("sent at"), default=timezone.now)

    class Meta:
        ordering = ["created_at", "pk"]
        verbose_name = _("complaint message")
        verbose_name_plural = _("complaint messages")

    def __str__(self) -> str:
        return f"{self.complaint.number}: {self.body[:40]}"

    @property
    def from_staff(self) -> bool:
        return self.author_id != self.complaint.user_id
