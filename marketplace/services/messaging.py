"""Buyer-seller messages: one conversation per (buyer, seller, product), participants only."""

from datetime import timedelta

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from marketplace.exceptions import MessageRejected
from marketplace.i18n import lazy_format
from marketplace.models import Conversation, Message, Notification, Order, Product, User
from marketplace.models.messaging import MESSAGE_MAX_LENGTH
from marketplace.services.notifications import notify


def start_conversation(
    *, user: User, product: Product | None = None, order: Order | None = None
) -> Conversation:
    """The conversation about `product` (user asks its seller) or `order` (either party).

    Returns the existing one when there is one: one thread per (buyer, seller, product).
    """
    if (product is None) == (order is None):
        raise MessageRejected(_("Choose a product or an order to ask about."), code="no_subject")
    if order is not None:
        if user.pk not in {order.buyer_id, order.seller_id}:
            raise MessageRejected(_("That order is not yours."), code="not_party")
        buyer_id, seller_id = order.buyer_id, order.seller_id
        first_item = order.items.exclude(product=None).order_by("pk").first()
        product_id = first_item.product_id if first_item else None
    else:
        if product.seller_id == user.pk:
            raise MessageRejected(
                _("This is your own listing: you cannot message yourself."), code="self"
            )
        buyer_id, seller_id, product_id = user.pk, product.seller_id, product.pk
    if buyer_id == seller_id:
        raise MessageRejected(_("You cannot message yourself."), code="self")
    lookup = {"buyer_id": buyer_id, "seller_id": seller_id, "product_id": product_id}
    conversation = Conversation.objects.filter(**lookup).first()
    if conversation is None:
        try:
            with transaction.atomic():
                conversation = Conversation.objects.create(
                    **lookup, order_id=order.pk if order else None
                )
        except IntegrityError:  # started at the same moment by another request
            conversation = Conversation.objects.get(**lookup)
    elif order is not None and conversation.order_id is None:
        Conversation.objects.filter(pk=conversation.pk, order=None).update(order=order)
        conversation.order_id = order.pk
    return conversation


def clean_body(body: object) -> str:
    """The message as it will be stored, or MessageRejected saying what is wrong with it."""
    text = str(body or "").replace("\r\n", "\n").strip()
    if not text:
        raise MessageRejected(_("Write a message before sending."), code="empty")
    if len(text) > MESSAGE_MAX_LENGTH:
        raise MessageRejected(
            _("Messages can be at most %(max)s characters; yours has %(length)s.")
            % {"max": MESSAGE_MAX_LENGTH, "length": len(text)},
            code="too_long",
        )
    return text


@transaction.atomic
def send_message(*, conversation: Conversation, sender: User, body: str) -> Message:
    text = clean_body(body)
    if not conversation.has_participant(sender):
        raise MessageRejected(_("You are not part of this conversation."), code="not_participant")
    if conversation.buyer_id == conversation.seller_id:
        raise MessageRejected(_("You cannot message yourself."), code="self")
    # One sender's messages queue up here, so the flood check below counts every one of them.
    User.objects.select_for_update().filter(pk=sender.pk).first()
    now = timezone.now()
    window = now - timedelta(seconds=settings.MESSAGE_RATE_WINDOW_SECONDS)
    if (
        Message.objects.filter(sender=sender, created_at__gte=window).count()
        >= settings.MESSAGE_RATE_LIMIT
    ):
        raise MessageRejected(
            _("You are sending messages too quickly. Please wait a minute and try again."),
            code="rate_limited",
        )
    message = Message.objects.create(
        conversation=conversation, sender=sender, body=text, created_at=now
    )
    Conversation.objects.filter(pk=conversation.pk).update(last_message_at=now)
    conversation.last_message_at = now
    _notify_recipient(conversation, message)
    transaction.on_commit(lambda: _after_message(message.pk))
    return message


def _notify_recipient(conversation: Conversation, message: Message) -> None:
    """One notice per burst: only when this is the first unread message in the thread."""
    recipient_id = (
        conversation.seller_id
        if message.sender_id == conversation.buyer_id
        else conversation.buyer_id
    )
    earlier_unread = (
        Message.objects.filter(conversation=conversation, read_at__isnull=True)
        .exclude(sender_id=recipient_id)
        .exclude(pk=message.pk)
        .exists()
    )
    if earlier_unread:
        return
    notify(
        user=User(pk=recipient_id),
        kind=Notification.Kind.NEW_MESSAGE,
        title=lazy_format(
            gettext_lazy("New message from %(name)s"), name=message.sender.public_name
        ),
        body=message.body[:300],
        url=conversation.get_absolute_url(),
        dedupe_key=f"message:{message.pk}",
    )


def mark_read(*, conversation: Conversation, user: User) -> int:
    """Mark the other party's messages in the thread as read by `user`; returns how many."""
    if not conversation.has_participant(user):
        return 0
    count = (
        Message.objects.filter(conversation=conversation, read_at__isnull=True)
        .exclude(sender=user)
        .update(read_at=timezone.now())
    )
    if count:
        transaction.on_commit(lambda: _after_read(user.pk))
    return count


def _after_message(message_id: int) -> None:
    from marketplace import realtime

    realtime.broadcast_message(message_id)


def _after_read(user_id: int) -> None:
    from marketplace import realtime

    realtime.broadcast_counts(user_id)
