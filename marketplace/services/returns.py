"""Returns after delivery: the buyer asks within the return window, the seller accepts or
refuses, a refused return can go to staff (a dispute) who decide in the admin.

Every change locks the order row first (then the return), the same order `refund_in_full` and
`ledger.release_order` take, so a return racing the release job or a second click is decided
one after the other. An accepted return goes through `refunds.refund_in_full`, the one refund
path, which reverses the seller's ledger entries in the same transaction. While a return is
open (asked for, or with staff), or refused while the buyer may still take it to staff, the
order's money is not released (`ledger.orders_due_for_release`, `ReturnRequest.objects.holding_money`).
"""

import uuid
from collections.abc import Callable, Iterable
from datetime import datetime, timedelta

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, gettext_noop

from marketplace.exceptions import ReturnActionRefused
from marketplace.i18n import lazy_format
from marketplace.images import ProcessedImage, process_image
from marketplace.models import Notification, Order, OrderEvent, ReturnPhoto, ReturnRequest, User
from marketplace.models.returns import ESCALATION_DAYS, MAX_RETURN_PHOTOS
from marketplace.services.notifications import notify
from marketplace.services.orders import record_event
from marketplace.services.refunds import refund_in_full

TEXT_MAX_LENGTH = 2000


def return_window_ends(order: Order) -> datetime | None:
    """The last moment the buyer may ask for a return (None before delivery)."""
    if order.delivered_at is None:
        return None
    return order.delivered_at + timedelta(days=settings.LEDGER_RELEASE_DAYS)


def open_refusal(
    order: Order, user: User, now: datetime | None = None
) -> ReturnActionRefused | None:
    """Why `user` may not ask for a return of `order` now, or None if they may."""
    now = now or timezone.now()
    if user.pk != order.buyer_id:
        return ReturnActionRefused(_("Only the buyer can ask for a return."), code="not_buyer")
    if order.status != Order.Status.DELIVERED:
        return ReturnActionRefused(
            _("A return can be asked for only once the order is delivered."), code="not_delivered"
        )
    if ReturnRequest.objects.filter(order=order).exists():
        return ReturnActionRefused(
            _("You have already asked for a return of this order."), code="already_asked"
        )
    # The buyer's window, whatever the ledger did: an order migrated with its transfer sent is
    # released already, and its return is then taken from the seller's next payout.
    if now > return_window_ends(order):
        return ReturnActionRefused(
            _(
                "The return window of this order has ended. If something is wrong, file a complaint."
            ),
            code="window_ended",
        )
    return None


def _clean(value: object, *, required: bool) -> str:
    text = str(value or "").strip()
    if required and not text:
        raise ReturnActionRefused(_("Please say what is wrong."), code="missing")
    if len(text) > TEXT_MAX_LENGTH:
        raise ReturnActionRefused(
            _("Please keep it under %(max)s characters.") % {"max": TEXT_MAX_LENGTH},
            code="too_long",
        )
    return text


def _locked_order(order_id: int) -> Order:
    return Order.objects.select_for_update().select_related("buyer", "seller").get(pk=order_id)


def _locked_return(pk: int) -> ReturnRequest:
    return ReturnRequest.objects.select_for_update().get(pk=pk)


def _move(
    request: ReturnRequest,
    by: User,
    *,
    allowed: Callable[[ReturnRequest], bool],
    status: str,
    event: str,
    note: str,
    **fields,
) -> tuple[Order, ReturnRequest]:
    """Lock the order, then the return; if `allowed`, set its status and fields and put the
    step on the order's timeline. The caller's transaction holds the locks."""
    order = _locked_order(request.order_id)
    request = _locked_return(request.pk)
    if not allowed(request):
        raise _cannot_change(request, by)
    request.status = status
    for name, value in fields.items():
        setattr(request, name, value)
    request.save()
    record_event(order=order, kind=event, actor=by, note=note)
    return order, request


def _tell(user: User, request: ReturnRequest, event: str, title, body) -> None:
    order = request.order
    notify(
        user=user,
        kind=Notification.Kind.RETURN_UPDATED,
        title=lazy_format(title, number=order.number),
        body=body,
        url=reverse("order_detail", args=[order.number]),
        dedupe_key=f"return:{request.pk}:{event}",
    )


def _processed(photos: Iterable) -> list[ProcessedImage]:
    """Uploads (or photos a form already re-encoded), decoded before any lock is taken."""
    photos = list(photos)
    if len(photos) > MAX_RETURN_PHOTOS:
        raise ReturnActionRefused(
            _("Choose at most %(max)s photos; you chose %(count)s.")
            % {"max": MAX_RETURN_PHOTOS, "count": len(photos)},
            code="too_many_photos",
        )
    try:
        return [p if isinstance(p, ProcessedImage) else process_image(p) for p in photos]
    except ValidationError as error:
        raise ReturnActionRefused(error.messages[0], code="bad_photo") from None


@transaction.atomic
def open_return(
    *, order: Order, by: User, reason: str, details: str, photos: Iterable = ()
) -> ReturnRequest:
    """The buyer asks to return a delivered order inside the return window, with up to
    MAX_RETURN_PHOTOS photos (re-encoded; the uploaded bytes are never kept)."""
    if reason not in ReturnRequest.Reason.values:
        raise ReturnActionRefused(_("Choose a reason for the return."), code="bad_reason")
    details = _clean(details, required=True)
    processed = _processed(photos)
    order = _locked_order(order.pk)
    refusal = open_refusal(order, by)
    if refusal is not None:
        raise refusal
    request = ReturnRequest.objects.create(order=order, reason=reason, details=details)
    for position, photo in enumerate(processed):
        row = ReturnPhoto(return_request=request, position=position)
        # The name is replaced by return_photo_path; only the re-encoded JPEG is stored.
        row.image.save(f"{uuid.uuid4().hex}.jpg", ContentFile(photo.image), save=False)
        row.save()
    record_event(
        order=order,
        kind=OrderEvent.Kind.RETURN_REQUESTED,
        actor=by,
        note=request.get_reason_display(),
    )
    _tell(
        order.seller,
        request,
        "requested",
        gettext_lazy("Return asked for on order %(number)s"),
        lazy_format(
            gettext_lazy(
                "%(buyer)s asked to return it. Please accept or refuse on the order page; its "
                "money stays held until you do."
            ),
            buyer=order.buyer.public_name,
        ),
    )
    return request


def accept_return(*, request: ReturnRequest, by: User, note: str = "") -> ReturnRequest:
    """The seller accepts an open request, or staff accept a dispute: the buyer is refunded in
    full through `refund_in_full` (a provider failure leaves the refund for the retry job; a
    cash-on-delivery order's refund is owed until staff send it to the buyer's account)."""
    note = _clean(note, required=False)

    def accept(order: Order) -> None:
        locked = _locked_return(request.pk)
        if not (locked.can_answer(by) or locked.can_decide(by)):
            raise _cannot_change(locked, by)
        now = timezone.now()
        if by.is_staff and locked.status == ReturnRequest.Status.DISPUTED:
            locked.decided_by, locked.decision_note = by, note
        else:
            locked.answered_at = now
        locked.status, locked.closed_at = ReturnRequest.Status.ACCEPTED, now
        locked.save()
        record_event(order=order, kind=OrderEvent.Kind.RETURN_ACCEPTED, actor=by, note=note)
        if order.is_cod:
            body = gettext_lazy(
                "The return is accepted. The buyer paid in cash, so MadeInPK sends the order's "
                "total back to the bank account or wallet the buyer gives."
            )
        else:
            body = gettext_lazy(
                "The return is accepted and the order's total is refunded the way the buyer paid."
            )
        for party in (order.buyer, order.seller):
            if party.pk != by.pk:
                _tell(party, locked, "accepted", gettext_lazy("Return accepted: %(number)s"), body)

    refund_in_full(
        order=request.order,
        requested_by=by,
        reason=gettext_noop("Return accepted"),
        prepare=accept,
        raise_errors=False,
    )
    return ReturnRequest.objects.get(pk=request.pk)


@transaction.atomic
def refuse_return(*, request: ReturnRequest, by: User, reason: str) -> ReturnRequest:
    """The seller refuses an open request, saying why; the buyer may take it to staff."""
    reason = _clean(reason, required=True)
    order, request = _move(
        request,
        by,
        allowed=lambda locked: locked.can_answer(by),
        status=ReturnRequest.Status.REFUSED,
        event=OrderEvent.Kind.RETURN_REFUSED,
        note=reason,
        refusal_reason=reason,
        answered_at=timezone.now(),
    )
    _tell(
        order.buyer,
        request,
        "refused",
        gettext_lazy("Return refused: %(number)s"),
        lazy_format(
            gettext_lazy(
                "The seller refused the return: “%(reason)s”. If you disagree, ask MadeInPK "
                "staff to decide from the order page within %(days)s days."
            ),
            reason=reason,
            days=ESCALATION_DAYS,
        ),
    )
    return request


@transaction.atomic
def dispute_return(*, request: ReturnRequest, by: User, note: str = "") -> ReturnRequest:
    """The buyer takes a refused return to staff (within ESCALATION_DAYS of the refusal).

    A refused return keeps holding the order's money for those days (`holding_money`), and a
    dispute until staff decide, so staff accepting it reverse money still pending: never money
    already released or paid out.
    """
    note = _clean(note, required=False)
    now = timezone.now()
    order, request = _move(
        request,
        by,
        allowed=lambda locked: locked.can_dispute(by, now),
        status=ReturnRequest.Status.DISPUTED,
        event=OrderEvent.Kind.RETURN_DISPUTED,
        note=note,
        dispute_note=note,
        disputed_at=now,
    )
    _tell(
        order.seller,
        request,
        "disputed",
        gettext_lazy("Return sent to staff: %(number)s"),
        gettext_lazy("The buyer asked MadeInPK staff to decide the return you refused."),
    )
    return request


@transaction.atomic
def reject_dispute(*, request: ReturnRequest, by: User, note: str = "") -> ReturnRequest:
    """Staff decide a dispute for the seller: the return is closed, the money is released."""
    note = _clean(note, required=False)
    order, request = _move(
        request,
        by,
        allowed=lambda locked: locked.can_decide(by),
        status=ReturnRequest.Status.REJECTED,
        event=OrderEvent.Kind.RETURN_REJECTED,
        note=note,
        decided_by=by,
        decision_note=note,
        closed_at=timezone.now(),
    )
    body = gettext_lazy("MadeInPK staff decided the return for the seller: no refund.")
    for party in (order.buyer, order.seller):
        _tell(party, request, "rejected", gettext_lazy("Return decided: %(number)s"), body)
    return request


def _cannot_change(request: ReturnRequest, by: User) -> ReturnActionRefused:
    order = request.order
    if request.status == ReturnRequest.Status.DISPUTED and not by.is_staff:
        return ReturnActionRefused(_("MadeInPK staff are deciding this return."), code="with_staff")
    if by.pk not in (order.buyer_id, order.seller_id) and not by.is_staff:
        return ReturnActionRefused(_("You cannot change this return."), code="not_party")
    return ReturnActionRefused(
        _("This return is %(status)s and cannot be changed that way.")
        % {"status": request.get_status_display().lower()},
        code="wrong_status",
    )
