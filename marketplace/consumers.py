"""WebSocket consumers: parse, authorise, call the service. No rule lives here."""

import json
import logging
import time
from decimal import Decimal
from importlib import import_module
from typing import Any

from channels.consumer import get_handler_name
from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncWebsocketConsumer
from django.conf import settings
from django.contrib.sessions.backends.db import SessionStore as DatabaseSessionStore
from django.db import DatabaseError
from django.db.models import Q
from django.utils import timezone, translation
from django.utils.crypto import constant_time_compare
from django.utils.translation import gettext as _

from marketplace import flood, hub, realtime
from marketplace.exceptions import BidRejected
from marketplace.i18n import language_from_scope
from marketplace.models import AuctionListing
from marketplace.money import parse_amount
from marketplace.services import bid_floor
from marketplace.services.bidding import place_bid

logger = logging.getLogger(__name__)

# Flood control per connection: at most this many messages in any RATE_WINDOW seconds; and per
# user over all their sockets in every process (settings.WS_USER_RATE_LIMIT, flood.py).
RATE_LIMIT = 5
RATE_WINDOW = 1.0
MAX_MESSAGE_BYTES = 2048
CLOSE_TOO_BIG = 1009  # RFC 6455 "message too big"


# Close codes: 4001 "your session ended" (the page reconnects, as whoever its cookie says);
# 44xx: not allowed, the page stops reconnecting.
CLOSE_SESSION_ENDED = 4001


def session_is_valid(scope: dict[str, Any]) -> bool:
    """Whether the socket's login still holds: its session exists (not logged out), still
    names this user, who is active, and its auth hash matches the current password's; for an
    app's socket (token in the handshake), its token is not revoked."""
    from django.contrib.auth import HASH_SESSION_KEY, SESSION_KEY

    from marketplace.models import User

    user, session = scope.get("user"), scope.get("session")
    if scope.get("api_token_id") is not None and user is not None:
        # An app's socket: its token must still exist (not revoked) and its user be active.
        from marketplace.models import ApiToken

        return ApiToken.objects.filter(
            pk=scope["api_token_id"], user_id=user.pk, user__is_active=True
        ).exists()
    key = getattr(session, "session_key", None)
    if user is None or not user.is_authenticated or not key:
        return False
    # A fresh read: the scope's session object caches what it read when the socket connected.
    store = import_module(settings.SESSION_ENGINE).SessionStore
    if issubclass(store, DatabaseSessionStore):  # db, or cached_db whose record is the row
        found = _session_and_password(key, user.pk)
        if found is None:
            return False
        session_data, password = found
        stored = store().decode(session_data)
    else:
        stored = store(key).load()
        current = User.objects.filter(pk=user.pk, is_active=True).only("password").first()
        password = current.password if current is not None else None
    if password is None or str(stored.get(SESSION_KEY)) != str(user.pk):
        return False
    stored_hash = stored.get(HASH_SESSION_KEY) or ""
    current = User(pk=user.pk, password=password)
    return any(
        constant_time_compare(stored_hash, current._get_session_auth_hash(secret=secret))
        for secret in [settings.SECRET_KEY, *settings.SECRET_KEY_FALLBACKS]
    )


def _session_and_password(key: str, user_id: int) -> tuple[str, str] | None:
    """The unexpired session's stored data and the active user's password hash, in one
    statement (a bid re-checks them on every message: two ORM queries were 18% of a
    WebSocket bid's time on the consumers' sync thread). What Django's database session
    store reads (`SessionStore._get_session_from_db`: the key, not expired), joined with
    what `session_is_valid` needs of the user; None when either is missing."""
    from django.contrib.sessions.models import Session
    from django.db import connections, router

    from marketplace.models import User

    alias = router.db_for_read(Session)
    connection = connections[alias]
    quote = connection.ops.quote_name

    def column(model, name: str) -> str:
        return quote(model._meta.get_field(name).column)

    sql = (  # names from the models' own metadata only
        f"SELECT s.{column(Session, 'session_data')}, u.{column(User, 'password')} "  # noqa: S608
        f"FROM {quote(Session._meta.db_table)} s, {quote(User._meta.db_table)} u "
        f"WHERE s.{column(Session, 'session_key')} = %s "
        f"AND s.{column(Session, 'expire_date')} > %s "
        f"AND u.{column(User, 'id')} = %s AND u.{column(User, 'is_active')}"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [key, timezone.now(), user_id])
        return cursor.fetchone()


class SessionBoundConsumer(AsyncWebsocketConsumer):
    """A consumer whose sockets close when their user's session ends (realtime.sessions_group)."""

    async def join_sessions_group(self) -> None:
        user = self.scope.get("user")
        if user is None or not user.is_authenticated:
            return
        self.session_key = getattr(self.scope.get("session"), "session_key", None)
        self.sessions_group = realtime.sessions_group(user.pk)
        await self.channel_layer.group_add(self.sessions_group, self.channel_name)

    async def leave_sessions_group(self) -> None:
        if hasattr(self, "sessions_group"):
            await self.channel_layer.group_discard(self.sessions_group, self.channel_name)

    async def sessions_ended(self, event: dict[str, Any]) -> None:
        key = event["message"]["session_key"]
        if key is None or key == self.session_key:
            await self.close(code=CLOSE_SESSION_ENDED)


class AuctionConsumer(SessionBoundConsumer):
    """Anyone may watch `ws/auction/<id>/`; logged-in users may send `place_bid`."""

    async def connect(self) -> None:
        self.auction_id = int(self.scope["url_route"]["kwargs"]["auction_id"])
        self.recent: list[float] = []
        # Error messages and the live panel in the viewer's language (cookie, user, header):
        # the socket joins that language's group, so it receives the panel in it.
        self.language = language_from_scope(self.scope)
        self.group = realtime.group_name(self.auction_id, self.language)
        exists = await database_sync_to_async(
            AuctionListing.objects.filter(pk=self.auction_id, product__isnull=False).exists
        )()
        if not exists:
            await self.close(code=4404)
            return
        # The auction's events reach this socket through the process's hub (one subscription
        # per group per process), not through this consumer's channel. Joined before the
        # status is read, so no event falls between; the hub holds them until it has gone.
        await hub.hub().join(self.group, self, self.base_send)
        await self.join_sessions_group()
        await self.accept()
        await self.send_json(await database_sync_to_async(realtime.status_message)(self.auction_id))
        await hub.hub().ready(self.group, self)

    async def disconnect(self, code: int) -> None:
        if hasattr(self, "group"):
            await hub.hub().leave(self.group, self)
        await self.leave_sessions_group()

    async def receive(self, text_data: str | None = None, bytes_data: bytes | None = None) -> None:
        with translation.override(self.language):
            await self._receive(text_data)

    async def _receive(self, text_data: str | None) -> None:
        if text_data is not None and len(text_data.encode()) > MAX_MESSAGE_BYTES:
            await self.close(code=CLOSE_TOO_BIG)
            return
        if self._flooding():
            await self.send_error(_("Too many messages: slow down."), "rate_limited")
            return
        message = None
        if text_data is not None:
            try:
                message = json.loads(text_data, parse_float=Decimal)
            except (ValueError, RecursionError):
                message = _INVALID_JSON
        if isinstance(message, dict) and message.get("type") == "place_bid":
            # The user's rate limit is counted in the bid's own trip to the database.
            await self.handle_place_bid(message)
            return
        if await self._user_flooding():
            await self.send_error(_("Too many messages: slow down."), "rate_limited")
        elif text_data is None:
            await self.send_error(_("Send one JSON message."), "invalid_message")
        elif message is _INVALID_JSON:
            await self.send_error(_("That message is not valid JSON."), "invalid_json")
        else:
            await self.send_error(_("Unknown message type."), "unknown_type")

    async def handle_place_bid(self, message: dict[str, Any]) -> None:
        user = self.scope.get("user")
        amount = _money(message.get("amount"))
        max_amount = message.get("max_amount")
        ceiling = None if max_amount in (None, "") else _money(max_amount)
        try:
            if amount is not None and user is not None and user.is_authenticated:
                # A bid below a minimum seen a moment ago is refused here, without queueing
                # behind the bids waiting for the database (place_bid asks the same first).
                bid_floor.refuse_if_known_too_low(auction_id=self.auction_id, amount=amount)
            result = await database_sync_to_async(self._judge_bid)(
                user, amount, max_amount, ceiling
            )
        except _SessionEnded:
            await self.send_error(
                _("Your session has ended: log in again to bid."), "session_ended"
            )
            await self.close(code=CLOSE_SESSION_ENDED)
            return
        except BidRejected as error:
            await self.send_error(str(error.message), error.code)
            return
        except DatabaseError:
            # place_bid's one transaction rolled back (broadcasts after commit never raise):
            # the bidder must know the bid does not stand, not guess from a generic error.
            logger.exception("database error placing a bid on auction %s", self.auction_id)
            await self.send_error(
                _(
                    "Your bid was not placed: the site cannot reach its database. Try again in a moment."
                ),
                "bid_not_placed",
            )
            return
        except Exception:
            logger.exception("place_bid failed on auction %s", self.auction_id)
            await self.send_error(_("Something went wrong. Please try again."), "server_error")
            return
        await self.send_json(
            {
                "type": "bid_accepted",
                "data": {
                    "auction_id": result.auction_id,
                    "leading": result.is_leading,
                    "bid_placed": result.bid_placed,
                    "your_maximum": None
                    if result.raised_maximum is None
                    else str(result.raised_maximum),
                    "current_price": str(result.current_price),
                    "minimum_next_bid": str(result.minimum_next_bid),
                    "bid_count": result.bid_count,
                    "end_time": result.ends_at.isoformat(),
                },
            }
        )

    def _judge_bid(self, user, amount: Decimal | None, max_amount: object, ceiling: Decimal | None):
        """Everything a bid needs from the database, in one trip to the sync thread (each
        trip queues behind the other sockets' bids): the user's rate limit, the session,
        then place_bid."""
        if self._user_over_limit():
            raise BidRejected(_("Too many messages: slow down."), code="rate_limited")
        if user is None or not user.is_authenticated:
            raise BidRejected(_("Log in to bid."), code="login_required")
        # Logged out, or the password changed, since this socket connected: refuse and close.
        if not session_is_valid(self.scope):
            raise _SessionEnded
        if amount is None or (max_amount not in (None, "") and ceiling is None):
            raise BidRejected(_("Enter an amount in rupees, like 5000."), code="invalid_amount")
        return place_bid(auction_id=self.auction_id, bidder=user, amount=amount, max_amount=ceiling)

    async def dispatch(self, message: dict[str, Any]) -> None:
        # Channels' own dispatch first hops to the one sync thread to close stale database
        # connections, for every message: one more hop per bid, queued behind the bids
        # themselves (and, before the hub, one per watcher per broadcast).
        # Every database call here goes through database_sync_to_async, which closes stale
        # connections itself, so the hop buys nothing.
        handler = getattr(self, get_handler_name(message), None)
        if handler is None:
            raise ValueError(f"No handler for message type {message['type']}")
        await handler(message)

    async def send_json(self, content: dict[str, Any]) -> None:
        await self.send(text_data=json.dumps(content))

    async def send_error(self, message: str, code: str) -> None:
        await self.send_json({"type": "error", "message": message, "code": code})

    def _flooding(self) -> bool:
        now = time.monotonic()
        self.recent = [t for t in self.recent if now - t < RATE_WINDOW]
        self.recent.append(now)
        return len(self.recent) > RATE_LIMIT

    async def _user_flooding(self) -> bool:
        return await database_sync_to_async(self._user_over_limit)()

    def _user_over_limit(self) -> bool:
        user = self.scope.get("user")
        if user is None or not user.is_authenticated:
            return False
        return flood.over_limit(
            f"ws-user:{user.pk}",
            limit=settings.WS_USER_RATE_LIMIT,
            window=settings.WS_USER_RATE_WINDOW_SECONDS,
        )


class _SessionEnded(Exception):
    """The socket's login no longer holds (see session_is_valid)."""


_INVALID_JSON = object()


def _money(value: object) -> Decimal | None:
    """A positive amount from a JSON string or number (never a float), else None."""
    if isinstance(value, bool) or not isinstance(value, str | int | Decimal):
        return None
    amount = parse_amount(str(value))
    return amount if amount is not None and amount > 0 else None


# --- Conversations and per-user counts ------------------------------------------------------

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


class ConversationConsumer(SessionBoundConsumer):
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
        await self.join_sessions_group()
        await self.accept()

    async def disconnect(self, code: int) -> None:
        if hasattr(self, "group"):
            await self.channel_layer.group_discard(self.group, self.channel_name)
        await self.leave_sessions_group()

    async def receive(self, text_data: str | None = None, bytes_data: bytes | None = None) -> None:
        with translation.override(language_from_scope(self.scope)):
            message = _("Send messages with the form.")
        await self.send_json({"type": "error", "code": "read_only", "message": message})

    async def message_created(self, event: dict[str, Any]) -> None:
        message = event["message"]
        if message["sender_id"] != self.user_id:
            # Shown in an open thread: the reader has seen it.
            await database_sync_to_async(_mark_read)(self.conversation_id, self.user_id)
        await self.send_json(message)

    async def send_json(self, content: dict[str, Any]) -> None:
        await self.send(text_data=json.dumps(content))


class UserConsumer(SessionBoundConsumer):
    """`ws/me/`: the signed-in user's unread counts, for the navigation badges."""

    async def connect(self) -> None:
        user = self.scope.get("user")
        if user is None or not user.is_authenticated:
            await self.close(code=CLOSE_UNAUTHENTICATED)
            return
        self.group = realtime.user_group(user.pk)
        await self.channel_layer.group_add(self.group, self.channel_name)
        await self.join_sessions_group()
        await self.accept()

    async def disconnect(self, code: int) -> None:
        if hasattr(self, "group"):
            await self.channel_layer.group_discard(self.group, self.channel_name)
        await self.leave_sessions_group()

    async def receive(self, text_data: str | None = None, bytes_data: bytes | None = None) -> None:
        pass  # nothing to say to us on this socket

    async def counts(self, event: dict[str, Any]) -> None:
        await self.send(text_data=json.dumps(event["message"]))


class UnknownPathConsumer(AsyncWebsocketConsumer):
    """Any other `ws/` path: refused at the handshake (Daphne answers 403), never a 500."""

    async def connect(self) -> None:
        await self.close()
