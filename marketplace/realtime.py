"""Group names and broadcasts: the only module that talks to the channel layer.

Every event of the original protocol (`new_bid`, `auction_extended`, `auction_ended`) also
carries `html` (the #bid-panel partial, rendered once per language, the same for every viewer
of that language: the group event holds all of them, each socket forwards its own), `seq` (the
auction's bid count after the event) and `prev_seq` (the count before it: one bid can add two
rows when a proxy answers). A page whose last seq is not `prev_seq` missed something and
refetches #bid-panel over HTTP.
"""

import json
import logging
from collections.abc import Callable, Iterable
from typing import Any, TypeVar

from asgiref.sync import async_to_sync, sync_to_async
from channels.layers import get_channel_layer
from django.conf import settings
from django.template.loader import render_to_string
from django.utils import translation

from marketplace import queries
from marketplace.models import AuctionListing

logger = logging.getLogger(__name__)

T = TypeVar("T")

PANEL_TEMPLATE = "marketplace/auctions/detail.html#bid-panel"


def group_name(auction_id: int) -> str:
    return f"auction.{auction_id}"


def _iso(value) -> str | None:
    return value.isoformat() if value else None


def auction_data(auction: AuctionListing) -> dict[str, Any]:
    """Public state of an auction: amounts as strings, times ISO 8601, bidders masked."""
    leader = auction.leading_bid
    return {
        "auction_id": auction.pk,
        "product_name": auction.product.title,
        "status": auction.status,
        "starting_price": str(auction.starting_price),
        "current_price": str(auction.current_price),
        "minimum_next_bid": str(auction.minimum_next_bid()),
        "bid_count": auction.bid_count,
        "reserve_met": auction.reserve_met,
        "has_reserve": auction.reserve_price is not None,
        "start_time": _iso(auction.starts_at),
        "end_time": _iso(auction.ends_at),
        "leader": queries.bidder_token(auction.pk, leader.bidder_id if leader else None),
    }


def bid_data(bid) -> dict[str, str]:
    return {
        "bidder": queries.mask_name(bid.bidder.username),
        "amount": str(bid.amount),
        "time": _iso(bid.created_at),
        "automatic": bid.is_automatic,
    }


def status_message(auction_id: int) -> dict[str, Any]:
    """The `auction_status` message a socket receives on connect."""
    auction = queries.auction_for_broadcast(auction_id)
    data = auction_data(auction)
    data["latest_bids"] = [bid_data(bid) for bid in queries.latest_bids(auction)]
    return {"type": "auction_status", "seq": auction.bid_count, "data": data}


def event_message(
    auction: AuctionListing, event: str, html: str, prev_seq: int | None = None
) -> dict[str, Any]:
    data = auction_data(auction)
    if event == "new_bid" and auction.leading_bid_id:
        data.update(bid_data(auction.leading_bid))
    elif event == "auction_ended":
        data["winner"] = queries.mask_name(auction.winner.username) if auction.winner_id else None
        data["final_price"] = str(auction.current_price) if auction.winner_id else None
        data["sold"] = auction.status == AuctionListing.Status.ENDED_SOLD
    return {
        "type": event,
        "seq": auction.bid_count,
        "prev_seq": auction.bid_count if prev_seq is None else prev_seq,
        "html": html,
        "data": data,
    }


def render_panel(auction: AuctionListing, language: str | None = None) -> str:
    with translation.override(language or translation.get_language() or settings.LANGUAGE_CODE):
        return render_to_string(PANEL_TEMPLATE, queries.panel_context(auction))


def render_panels(auction: AuctionListing) -> dict[str, str]:
    """#bid-panel once per site language; each socket forwards only its viewer's language."""
    return {code: render_panel(auction, code) for code, _name in settings.LANGUAGES}


def broadcast_auction(
    auction_id: int, event: str, *, extended: bool = False, prev_seq: int | None = None
) -> None:
    """Send `event` (and `auction_extended` after a soft close) to everyone watching.

    Runs after commit. A failing channel layer must not turn a committed bid into an error,
    so problems are logged; pages recover by resynchronising over HTTP.
    """
    try:
        auction = queries.auction_for_broadcast(auction_id)
        panels = render_panels(auction)
        html = panels.get(settings.LANGUAGE_CODE, "")
        messages = [event_message(auction, event, html, prev_seq)]
        if extended:
            messages.append(event_message(auction, "auction_extended", html))
        send = async_to_sync(get_channel_layer().group_send)
        for message in messages:
            # Serialised here once per language, not once per watching socket.
            send(
                group_name(auction_id),
                {
                    "type": message["type"],
                    "message": message,
                    "html_by_language": panels,
                    "text_by_language": {
                        code: json.dumps({**message, "html": panel})
                        for code, panel in panels.items()
                    },
                },
            )
    except Exception:
        logger.exception("broadcast of %s for auction %s failed", event, auction_id)


def watched_auctions(auction_ids: Iterable[int]) -> set[int]:
    """The auctions among `auction_ids` that at least one open WebSocket is watching.

    Stub until the channel-layer version lands: it cannot tell, so it answers all of them.
    """
    return set(auction_ids)


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
    from marketplace.context_processors import navigation_counts
    from marketplace.models import User

    counts = navigation_counts(User(pk=user_id))
    return {
        "type": "counts",
        "unread_messages": counts["unread_messages"],
        "unread_notifications": counts["unread_notifications"],
    }


def broadcast_counts(user_id: int) -> None:
    """Send the user's unread counts (messages, notifications) to every page they have open."""
    try:
        _send(user_group(user_id), "counts", counts_message(user_id))
    except Exception:
        logger.exception("broadcast of counts for user %s failed", user_id)


def in_one_event_loop(func: Callable[..., T], *args: object) -> T:
    """Run sync `func` (in this thread, on this thread's database connection) inside one
    event loop, so every broadcast it makes reuses that loop's channel-layer connection.

    For sync callers with many broadcasts (the closing sweep): `async_to_sync` called from
    plain sync code starts a new event loop, and the Redis layer a new connection, each time.
    """
    return async_to_sync(sync_to_async(func))(*args)
