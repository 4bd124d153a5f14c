"""Feedback on delivered orders, the seller's one reply, and product reviews by real buyers."""

from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from marketplace.exceptions import FeedbackRejected
from marketplace.i18n import lazy_format
from marketplace.models import (
    Feedback,
    Notification,
    Order,
    OrderEvent,
    OrderItem,
    Product,
    ProductReview,
    User,
)
from marketplace.page_cache import catalogue_changed
from marketplace.services.notifications import notify
from marketplace.services.orders import record_event

REPLY_MAX_LENGTH = Feedback._meta.get_field("seller_reply").max_length
COMMENT_MAX_LENGTH = Feedback._meta.get_field("comment").max_length


def _score(value: object, label: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= 5:
        raise FeedbackRejected(_("Rate %(what)s from 1 to 5.") % {"what": label}, code="bad_rating")
    return value


def _text(value: object, *, max_length: int, label: str) -> str:
    text = str(value or "").strip()
    if len(text) > max_length:
        raise FeedbackRejected(
            _("The %(field)s can be at most %(max)s characters.")
            % {"field": label, "max": max_length},
            code="too_long",
        )
    return text


@transaction.atomic
def leave_feedback(
    *,
    order: Order,
    by: User,
    seller_rating: int,
    communication: int,
    shipping_speed: int,
    item_as_described: bool,
    platform_rating: int,
    comment: str = "",
    platform_comment: str = "",
) -> Feedback:
    """The buyer's one feedback on a delivered order."""
    order = Order.objects.select_for_update().get(pk=order.pk)
    if by.pk != order.buyer_id:
        raise FeedbackRejected(
            _("Only the buyer can leave feedback for this order."), code="not_buyer"
        )
    if order.status != Order.Status.DELIVERED:
        raise FeedbackRejected(
            _("You can leave feedback once the order has been delivered."), code="not_delivered"
        )
    if Feedback.objects.filter(order=order).exists():
        raise FeedbackRejected(
            _("You have already left feedback for this order."), code="already_left"
        )
    values = {
        "seller_rating": _score(seller_rating, _("the seller")),
        "communication": _score(communication, _("communication")),
        "shipping_speed": _score(shipping_speed, _("shipping speed")),
        "platform_rating": _score(platform_rating, _("MadeInPK")),
        "item_as_described": bool(item_as_described),
        "comment": _text(comment, max_length=COMMENT_MAX_LENGTH, label=_("comment")),
        "platform_comment": _text(
            platform_comment, max_length=COMMENT_MAX_LENGTH, label=_("comment about MadeInPK")
        ),
    }
    try:
        with transaction.atomic():
            feedback = Feedback.objects.create(
                order=order, buyer_id=order.buyer_id, seller_id=order.seller_id, **values
            )
    except IntegrityError:
        raise FeedbackRejected(
            _("You have already left feedback for this order."), code="already_left"
        ) from None
    record_event(order=order, kind=OrderEvent.Kind.FEEDBACK, actor=by)
    # The seller's rating shows on every card and page of theirs.
    catalogue_changed(everything=True)
    notify(
        user=order.seller,
        kind=Notification.Kind.FEEDBACK_RECEIVED,
        title=lazy_format(
            gettext_lazy("New feedback on order %(number)s: %(score)s/5"),
            number=order.number,
            score=feedback.seller_rating,
        ),
        body=feedback.comment,
        url=reverse("order_detail", args=[order.number]),
        dedupe_key=f"feedback:{feedback.pk}",
    )
    return feedback


@transaction.atomic
def reply_to_feedback(*, feedback: Feedback, by: User, reply: str) -> Feedback:
    """The seller answers a feedback, once."""
    feedback = Feedback.objects.select_for_update().get(pk=feedback.pk)
    if by.pk != feedback.seller_id:
        raise FeedbackRejected(_("Only the seller can reply to this feedback."), code="not_seller")
    if feedback.replied_at is not None:
        raise FeedbackRejected(_("You have already replied to this feedback."), code="replied")
    text = _text(reply, max_length=REPLY_MAX_LENGTH, label=_("reply"))
    if not text:
        raise FeedbackRejected(_("Write a reply before sending."), code="empty")
    feedback.seller_reply = text
    feedback.replied_at = timezone.now()
    feedback.save(update_fields=["seller_reply", "replied_at"])
    catalogue_changed(everything=True)
    return feedback


def can_review(*, product: Product, user: User) -> bool:
    """Whether `user` bought this fixed-price item, had it delivered and has not reviewed it."""
    return (
        user.is_authenticated
        and product.fixed_price_id is not None
        and _bought_and_delivered(product, user)
        and not ProductReview.objects.filter(product=product, buyer=user).exists()
    )


def _bought_and_delivered(product: Product, user: User) -> bool:
    return OrderItem.objects.filter(
        product=product, order__buyer=user, order__status=Order.Status.DELIVERED
    ).exists()


@transaction.atomic
def leave_review(
    *, product: Product, by: User, rating: int, title: str, text: str
) -> ProductReview:
    """A review of a fixed-price item by a buyer who received it; one per buyer and product."""
    if product.fixed_price_id is None:
        raise FeedbackRejected(_("Only fixed-price items can be reviewed."), code="not_fixed_price")
    if not _bought_and_delivered(product, by):
        raise FeedbackRejected(
            _("You can review an item once you have bought it and it has been delivered."),
            code="not_bought",
        )
    title = _text(title, max_length=120, label=_("title"))
    text = _text(text, max_length=4000, label=_("review"))
    if not title or not text:
        raise FeedbackRejected(_("Give your review a title and some words."), code="empty")
    try:
        with transaction.atomic():
            catalogue_changed(product_ids=[product.pk])
            return ProductReview.objects.create(
                product=product,
                buyer=by,
                rating=_score(rating, _("the item")),
                title=title,
                text=text,
                verified_purchase=True,
            )
    except IntegrityError:
        raise FeedbackRejected(
            _("You have already reviewed this item."), code="already_reviewed"
        ) from None
