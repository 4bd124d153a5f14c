"""Group names and broadcasts: the only module that talks to the channel layer."""

import logging
from typing import Any

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.template.loader import render_to_string

logger = logging.getLogger(__name__)


def _send(group: str, event_type: str, message: dict[str, Any]) -> None:
    async_to_sync(get_channel_layer().group_send)(group, {"type": event_type, "message": message})


# --- Conversations and per-user counts (aftersale) ------------------------------------------
# A thread's page listens on `conversation.<pk>`; every page of a signed-in user listens on
# `user.<pk>` for the counts in the navigation. Broadcasts run after commit and never raise:
# a failing channel layer must not turn a sent message into an error (pages catch up on load).

MESSAGE_TEMPLATE = "marketplace/messaging/_message.html"


def conversation_group(conversation_id: int) -> str:
    return f"conversation.{conversation_id}"


def user_group(user_id: int) -> str:
    return f"user.{user_id}"


def render_message(message) -> str:
    """A message as the thread shows it; the same HTML for both readers (no per-viewer text)."""
    return render_to_string(MESSAGE_TEMPLATE, {"message": message})


def broadcast_message(message_id: int) -> None:
    """Push a new message to its open thread pages, and new counts to the recipient."""
    from marketplace.models import Message

    try:
        message = Message.objects.select_related("conversation", "sender").get(pk=message_id)
        conversation = message.conversation
        _send(
            conversation_group(conversation.pk),
            "message_created",
            {
                "type": "message_created",
                "message_id": message.pk,
                "sender_id": message.sender_id,
                "html": render_message(message),
            },
        )
        recipient = (
            conversation.seller_id
            if message.sender_id == conversation.buyer_id
            else conversation.buyer_id
        )
        broadcast_counts(recipient)
    except Exception:
        logger.exception("broadcast of message %s failed", message_id)


def counts_message(user_id: int) -> dict[str, Any]:
    from marketplace.context_processors import unread_counts
    from marketplace.models import User

    user = User.objects.get(pk=user_id)
    return {"type": "counts", **unread_counts(user)}


def broadcast_counts(user_id: int) -> None:
    """Send the user's unread counts (messages, notifications) to every page they have open."""
    try:
        _send(user_group(user_id), "counts", counts_message(user_id))
    except Exception:
        logger.exception("broadcast of counts for user %s failed", user_id)
