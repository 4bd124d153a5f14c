"""Complaints: filed by users, worked by staff; the user hears of every change."""

from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from marketplace.exceptions import ComplaintRejected
from marketplace.i18n import lazy_format
from marketplace.models import Complaint, ComplaintMessage, Notification, Order, User
from marketplace.models.orders import new_reference
from marketplace.services.notifications import Notice, notify, notify_many


@transaction.atomic
def file_complaint(
    *,
    user: User,
    category: str,
    subject: str,
    description: str,
    order: Order | None = None,
    seller: User | None = None,
    photo_upload=None,
) -> Complaint:
    """Record a complaint and give it a number.

    A photo is decoded and re-encoded (marketplace.images): the uploaded bytes are never kept.
    """
    if category not in Complaint.Category.values:
        raise ComplaintRejected(_("Choose what the complaint is about."), code="bad_category")
    subject, description = str(subject or "").strip(), str(description or "").strip()
    if not subject or not description:
        raise ComplaintRejected(
            _("Give the complaint a subject and tell us what happened."), code="empty"
        )
    if order is not None and user.pk not in {order.buyer_id, order.seller_id}:
        raise ComplaintRejected(_("Choose one of your own orders."), code="not_your_order")
    if seller is not None and (seller.pk == user.pk or not seller.is_seller):
        raise ComplaintRejected(_("Choose another seller."), code="bad_seller")
    if seller is None and order is not None and order.buyer_id == user.pk:
        seller = order.seller
    complaint = Complaint(
        user=user,
        category=category,
        subject=subject[:150],
        description=description[:5000],
        order=order,
        seller=seller,
    )
    if photo_upload is not None:
        complaint.photo = _reencoded(photo_upload)
    for _attempt in range(5):
        complaint.number = new_reference("CMP-", 6)
        try:
            with transaction.atomic():
                complaint.save()
            break
        except IntegrityError:  # the one-in-a-billion clash of numbers: draw again
            complaint.pk = None
    else:
        raise ComplaintRejected(_("Please try again."), code="number_clash")
    return complaint


def _reencoded(upload) -> ContentFile:
    from marketplace.images import process_image

    try:
        processed = process_image(upload)
    except ValidationError as error:
        raise ComplaintRejected(error.messages[0], code="bad_photo") from None
    # The name is replaced by complaint_photo_path; only the re-encoded JPEG is stored.
    return ContentFile(processed.image, name="photo.jpg")


@transaction.atomic
def update_complaint(
    *,
    complaint: Complaint,
    by: User,
    status: str,
    assigned_to: User | None,
    resolution_note: str,
) -> Complaint:
    """Staff change status, assignee or resolution note; the user is told about the change."""
    if not by.is_staff:
        raise ComplaintRejected(_("Only staff can work on complaints."), code="not_staff")
    if status not in Complaint.Status.values:
        raise ComplaintRejected(_("Choose a status."), code="bad_status")
    if assigned_to is not None and not assigned_to.is_staff:
        raise ComplaintRejected(_("Complaints are assigned to staff only."), code="not_staff")
    current = Complaint.objects.select_for_update().get(pk=complaint.pk)
    note = str(resolution_note or "").strip()
    changed = {
        field
        for field, value in (
            ("status", status),
            ("assigned_to_id", assigned_to.pk if assigned_to else None),
            ("resolution_note", note),
        )
        if getattr(current, field) != value
    }
    if not changed:
        return current
    current.status = status
    current.assigned_to = assigned_to
    current.resolution_note = note
    resolved = status in {Complaint.Status.RESOLVED, Complaint.Status.CLOSED}
    current.resolved_at = (current.resolved_at or timezone.now()) if resolved else None
    current.save()
    notify(
        user=current.user,
        kind=Notification.Kind.COMPLAINT_UPDATED,
        title=lazy_format(
            gettext_lazy("Your complaint %(number)s: %(status)s"),
            number=current.number,
            status=Complaint.Status(current.status).label,
        ),
        body=note,
        url=current.get_absolute_url(),
        dedupe_key=f"complaint:{current.pk}:{current.updated_at.isoformat()}",
    )
    return current


@transaction.atomic
def add_complaint_message(*, complaint: Complaint, by: User, body: str) -> ComplaintMessage:
    """A follow-up from the person who filed the complaint or from staff; the other side is
    told (the assigned staff member, or every staff member while nobody is assigned)."""
    is_owner = by.pk == complaint.user_id
    if not is_owner and not by.is_staff:
        raise ComplaintRejected(_("Only staff can work on complaints."), code="not_staff")
    body = str(body or "").strip()
    if not body:
        raise ComplaintRejected(_("Write a message."), code="empty")
    if is_owner and complaint.status == Complaint.Status.CLOSED:
        raise ComplaintRejected(
            _("This complaint is closed: file a new one if something is still wrong."),
            code="closed",
        )
    message = ComplaintMessage.objects.create(complaint=complaint, author=by, body=body[:2000])
    title = lazy_format(
        gettext_lazy("New message on complaint %(number)s"), number=complaint.number
    )
    if is_owner:
        staff = (
            [complaint.assigned_to]
            if complaint.assigned_to_id
            else list(User.objects.filter(is_staff=True, is_active=True).order_by("pk"))
        )
        url = reverse("admin:marketplace_complaint_change", args=[complaint.pk])
        recipients = [user for user in staff if user.pk != by.pk]
    else:
        url = complaint.get_absolute_url()
        recipients = [complaint.user]
    notify_many(
        [
            Notice(
                user=user,
                kind=Notification.Kind.COMPLAINT_UPDATED,
                title=title,
                body=body[:200],
                url=url,
                dedupe_key=f"complaint-message:{message.pk}",
            )
            for user in recipients
        ]
    )
    return message
