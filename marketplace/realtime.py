"""Group names and broadcasts: the only module that talks to the channel layer.

Every event of the original protocol (`new_bid`, `auction_extended`, `auction_ended`) also
carries `html` (the #bid-panel partial, the same for every viewer of one language: sockets
join their language's group of the auction, and an event is rendered and serialised once for
each language someone watches), `seq` (the auction's bid count after the event) and
`prev_seq` (the count before it: one bid can add two rows when a proxy answers, and the
bids of one burst go out as one event). A page whose last seq is below `prev_seq` missed
something and refetches #bid-panel over HTTP.
"""

import functools
import json
import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any, TypeVar

import redis
from asgiref.sync import async_to_sync, sync_to_async
from channels.layers import InMemoryChannelLayer, get_channel_layer
from channels_redis.pubsub import RedisPubSubChannelLayer
from django.conf import settings
from django.template.loader import render_to_string
from django.utils import translation
from redis.backoff import NoBackoff
from redis.retry import Retry

from marketplace import background
from marketplace.models import AuctionListing
from marketplace.queries import auctions as queries

logger = logging.getLogger(__name__)

T = TypeVar("T")

PANEL_TEMPLATE = "marketplace/auctions/detail.html#bid-panel"


def group_name(auction_id: int, language: str) -> str:
    """The group of an auction's watchers who read it in `language` (one per site language,
    so an event is rendered only in the languages someone watches)."""
    return f"auction.{auction_id}.{language}"


def language_groups(auction_id: int) -> dict[str, str]:
    return {code: group_name(auction_id, code) for code, _name in settings.LANGUAGES}


def watched_languages(auction_id: int) -> list[str]:
    """The site languages in which at least one socket (in any process) watches the auction."""
    groups = language_groups(auction_id)
    heard = _listened(list(groups.values()))
    return [code for code, listened in zip(groups, heard, strict=True) if listened]


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
    auction: AuctionListing, event: str, prev_seq: int | None = None
) -> dict[str, Any]:
    """An event without its `html`: broadcast_auction adds the panel in each language."""
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
        "data": data,
    }


def render_panels(
    auction: AuctionListing, languages: Iterable[str] | None = None, bids: list | None = None
) -> dict[str, str]:
    """#bid-panel in each of `languages` (default: every site language).

    The context (with its bid history query, unless `bids` are given) is the same in every
    language: built once.
    """
    context = queries.panel_context(auction, bids=bids)
    codes = [code for code, _name in settings.LANGUAGES] if languages is None else languages
    panels = {}
    for code in codes:
        with translation.override(code):
            panels[code] = render_to_string(PANEL_TEMPLATE, context)
    return panels


def broadcast_auction(
    auction_id: int, event: str, *, extended: bool = False, prev_seq: int | None = None
) -> None:
    """Send `event` (and `auction_extended` after a soft close) to everyone watching, reading
    the auction afresh (the closing job; a bid uses `auction_changed`).

    Runs after commit. A failing channel layer must not turn a committed change into an
    error, so problems are logged; pages recover by resynchronising over HTTP. With nobody
    watching there is nothing to render or send.
    """
    try:
        languages = watched_languages(auction_id)
        if languages:
            auction = queries.auction_for_broadcast(auction_id)
            _send_events(auction, event, languages, extended=extended, prev_seq=prev_seq)
    except Exception:
        logger.exception("broadcast of %s for auction %s failed", event, auction_id)


@dataclass(frozen=True)
class AuctionChange:
    """A bid's change of an auction, as the bid left it: the state after it (`auction`, with
    its product's title and the new leading bid) and the sequence number before it."""

    auction: AuctionListing
    prev_seq: int
    extended: bool = False

    @property
    def seq(self) -> int:
        return self.auction.bid_count


def auction_changed(auction: AuctionListing, *, prev_seq: int, extended: bool = False) -> None:
    """After a bid commits: have the process's broadcaster send `new_bid` soon.

    Changes of one auction close together go out as one event (marketplace.background): the
    latest state, with the sequence number before the earliest of them as `prev_seq`, so a
    page that saw that one sees no gap. Nothing is rendered on the bid's own path.
    """
    change = AuctionChange(auction, prev_seq, extended)
    background.submit(("auction", auction.pk), change, run=_send_change, merge=_merged)


def _merged(waiting: AuctionChange, new: AuctionChange) -> AuctionChange:
    latest = new if new.seq >= waiting.seq else waiting
    return AuctionChange(
        latest.auction,
        min(waiting.prev_seq, new.prev_seq),
        waiting.extended or new.extended,
    )


def _send_change(change: AuctionChange) -> None:
    auction = change.auction
    try:
        languages = watched_languages(auction.pk)
        if not languages:
            return
        # The history as this state has it: bids of one auction are inserted under its row
        # lock, so ids rise in commit order and later bids (another process's) are left out.
        bids = queries.latest_bids(auction, up_to_id=auction.leading_bid_id)
        if bids and bids[0].pk == auction.leading_bid_id:
            auction.leading_bid = bids[0]  # with its bidder, for the masked name
        _send_events(
            auction,
            "new_bid",
            languages,
            extended=change.extended,
            prev_seq=change.prev_seq,
            bids=bids,
        )
    except Exception:
        logger.exception("broadcast of new_bid for auction %s failed", auction.pk)


def _send_events(
    auction: AuctionListing,
    event: str,
    languages: list[str],
    *,
    extended: bool,
    prev_seq: int | None,
    bids: list | None = None,
) -> None:
    panels = render_panels(auction, languages, bids=bids)
    messages = [event_message(auction, event, prev_seq)]
    if extended:
        messages.append(event_message(auction, "auction_extended"))
    send = get_channel_layer().group_send
    for message in messages:
        for code, panel in panels.items():
            # Serialised here once per language, not once per watching socket; each socket
            # of that language's group forwards the text as it is.
            text = json.dumps({**message, "html": panel})
            group = group_name(auction.pk, code)
            # To each watching process's hub (marketplace.hub), which writes the text to its
            # sockets of that group.
            background.on_loop(send, group, {"type": message["type"], "group": group, "text": text})


def watched_auctions(auction_ids: Iterable[int]) -> set[int]:
    """The auctions among `auction_ids` that at least one open socket watches.

    For work that only watchers need (rendering an event nobody would receive). A layer that
    cannot tell is taken to have watchers everywhere. Ask after the change committed: a socket
    that joins later reads the committed state when it connects.
    """
    ids = list(dict.fromkeys(auction_ids))
    codes = [code for code, _name in settings.LANGUAGES]
    listened = _listened([group_name(pk, code) for pk in ids for code in codes])
    return {
        pk
        for index, pk in enumerate(ids)
        if any(listened[index * len(codes) : (index + 1) * len(codes)])
    }


def _listened(groups: list[str]) -> list[bool]:
    """For each group, whether any socket (in any process) is in it; True when unknown."""
    layer = get_channel_layer()
    try:
        if isinstance(layer, InMemoryChannelLayer):
            return [bool(layer.groups.get(group)) for group in groups]
        if isinstance(layer, RedisPubSubChannelLayer) and groups:
            counts = _subscriber_counts(layer, groups)
            if counts is not None:
                return [count > 0 for count in counts]
    except Exception:
        logger.exception("could not ask the channel layer who listens; assuming everyone")
    return [True] * len(groups)


@functools.cache
def _redis_client(url: str) -> redis.Redis:
    # On a bid's path (after commit): short timeouts, no backoff, a timeout never retried
    # (settings.redis_options).
    return redis.Redis.from_url(
        url,
        socket_connect_timeout=settings.REDIS_CONNECT_TIMEOUT,
        socket_timeout=settings.REDIS_SOCKET_TIMEOUT,
        retry=Retry(NoBackoff(), 1, supported_errors=(redis.ConnectionError,)),
    )


def _pubsub_layout(layer: RedisPubSubChannelLayer) -> tuple[str, str | None]:
    """The layer's channel prefix and its one Redis server's URL (None when sharded).

    The one place that reads channels-redis internals (`layer._kwargs`, its channel naming):
    it has no public way to ask whether a group has listeners, and asking spares rendering
    events nobody would receive. Check this when upgrading channels-redis.
    """
    hosts = layer._kwargs.get("hosts") or []
    single = len(hosts) == 1 and isinstance(hosts[0], dict) and "address" in hosts[0]
    return layer._kwargs.get("prefix", "asgi"), hosts[0]["address"] if single else None


def redis_channel_of(layer: RedisPubSubChannelLayer, group: str) -> str:
    """The Redis channel channels_redis.pubsub publishes a group's events on."""
    prefix, _address = _pubsub_layout(layer)
    return f"{prefix}__group__{group}"


def _subscriber_counts(layer: RedisPubSubChannelLayer, groups: list[str]) -> list[int] | None:
    """PUBSUB NUMSUB of each group's channel (how many processes listen to it), or None when
    the layer is sharded over several Redis servers."""
    _prefix, address = _pubsub_layout(layer)
    if address is None:
        return None
    client = _redis_client(address)
    counts: list[int] = []
    for start in range(0, len(groups), 1000):
        names = [redis_channel_of(layer, group) for group in groups[start : start + 1000]]
        found = dict(client.pubsub_numsub(*names))
        counts += [found.get(name.encode(), 0) for name in names]
    return counts


def _send(group: str, event_type: str, message: dict[str, Any]) -> None:
    background.on_loop(
        get_channel_layer().group_send, group, {"type": event_type, "message": message}
    )


# --- Conversations and per-user counts ------------------------------------------------------
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
    """Send the user's unread counts (messages, notifications) to every page they have open.

    Counting is a query; a user with no page open is not counted for (a page counts on load).
    """
    try:
        group = user_group(user_id)
        if _listened([group])[0]:
            _send(group, "counts", counts_message(user_id))
    except Exception:
        logger.exception("broadcast of counts for user %s failed", user_id)


# --- Sessions ending (issue 12) --------------------------------------------------------------
# Every socket of a signed-in user listens on `sessions.<pk>`: logging out closes the sockets of
# that session; a password change or reset, a block or a deactivation closes all of them. The
# pages reconnect (close code 4001), as whoever their cookie still says they are.


def sessions_group(user_id: int) -> str:
    return f"sessions.{user_id}"


def broadcast_user_sessions_ended(user_id: int, *, session_key: str | None = None) -> None:
    """Close the user's open sockets: those of `session_key` only, or all of them (None).

    Never raises: each bid also re-checks its session, so a lost event cannot be abused.
    """
    try:
        group = sessions_group(user_id)
        if _listened([group])[0]:
            _send(group, "sessions_ended", {"session_key": session_key})
    except Exception:
        logger.exception("closing the sockets of user %s failed", user_id)


def in_one_event_loop(func: Callable[..., T], *args: object) -> T:
    """Run sync `func` (in this thread, on this thread's database connection) inside one
    event loop, so every broadcast it makes reuses that loop's channel-layer connection.

    For sync callers with many broadcasts (the closing sweep): `async_to_sync` called from
    plain sync code starts a new event loop, and the Redis layer a new connection, each time.
    What `func` left to that loop's background work (bell counts, the e-mail drain's queuing)
    is done before the loop ends, not cancelled with it.
    """

    async def in_the_loop() -> T:
        try:
            return await sync_to_async(func)(*args)
        finally:
            await background.idle()

    return async_to_sync(in_the_loop)()
