"""WebSocket consumers: parse, authorise, call the service. No rule lives here."""

import json
from typing import Any

from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncWebsocketConsumer
from django.db.models import Q
from django.utils.translation import gettext as _

from marketplace import realtime

# --- Conversations and per-user counts (aftersale) ------------------------------------------

# Close codes: the page stops reconnecting on these.
CLOSE_UNAUTHENTICATED = 4401
CLOSE_NOT_FOUND = 4404


def _is_participant(conversation_id: int, user_id: int) -> bool:
    from marketplace.models import Conversation

    return (
        Conversation.objects.filter(pk=conversation_id)
        .filter(Q(buyer_id=user_id) | Q(seller_id=user_id))
        .exists()
    )


def _mark_read(conversation_id: int, user_id: int) -> None:
    from marketplace.models import Conversation, User
    from marketplace.services.messaging import mark_read

    conversation = Conversation.objects.get(pk=conversation_id)
    mark_read(conversation=conversation, user=User.objects.get(pk=user_id))


class ConversationConsumer(AsyncWebsocketConsumer):
    """`ws/conversations/<id>/`: the two participants receive new messages as HTML.

    Sending goes through the HTTP form (one path for every rule); this socket only pushes.
    """

    async def connect(self) -> None:
        user = self.scope.get("user")
        self.conversation_id = int(self.scope["url_route"]["kwargs"]["conversation_id"])
        if user is None or not user.is_authenticated:
            await self.close(code=CLOSE_UNAUTHENTICATED)
            return
        # Someone else's conversation looks exactly like one that does not exist.
        if not await database_sync_to_async(_is_participant)(self.conversation_id, user.pk):
            await self.close(code=CLOSE_NOT_FOUND)
            return
        self.user_id = user.pk
        self.group = realtime.conversation_group(self.conversation_id)
        await self.channel_layer.group_add(self.group, self.channel_name)
        await self.accept()

    async def disconnect(self, code: int) -> None:
        if hasattr(self, "group"):
            await self.channel_layer.group_discard(self.group, self.channel_name)

    async def receive(self, text_data: str | None = None, bytes_data: bytes | None = None) -> None:
        await self.send_json(
            {"type": "error", "code": "read_only", "message": _("Send messages with the form.")}
        )

    async def message_created(self, event: dict[str, Any]) -> None:
        message = event["message"]
        if message["sender_id"] != self.user_id:
            # Shown in an open thread: the reader has seen it.
            await database_sync_to_async(_mark_read)(self.conversation_id, self.user_id)
        await self.send_json(message)

    async def send_json(self, content: dict[str, Any]) -> None:
        await self.send(text_data=json.dumps(content))


class UserConsumer(AsyncWebsocketConsumer):
    """`ws/me/`: the signed-in user's unread counts, for the navigation badges."""

    async def connect(self) -> None:
        user = self.scope.get("user")
        if user is None or not user.is_authenticated:
            await self.close(code=CLOSE_UNAUTHENTICATED)
            return
        self.group = realtime.user_group(user.pk)
        await self.channel_layer.group_add(self.group, self.channel_name)
        await self.accept()

    async def disconnect(self, code: int) -> None:
        if hasattr(self, "group"):
            await self.channel_layer.group_discard(self.group, self.channel_name)

    async def receive(self, text_data: str | None = None, bytes_data: bytes | None = None) -> None:
        pass  # nothing to say to us on this socket

    async def counts(self, event: dict[str, Any]) -> None:
        await self.send(text_data=json.dumps(event["message"]))
