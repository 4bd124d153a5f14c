"""WebSocket URL patterns."""

from django.urls import path, re_path

from marketplace.consumers import (
    AuctionConsumer,
    ConversationConsumer,
    UnknownPathConsumer,
    UserConsumer,
)

websocket_urlpatterns: list = [
    path("ws/auction/<int:auction_id>/", AuctionConsumer.as_asgi()),
    path("ws/conversations/<int:conversation_id>/", ConversationConsumer.as_asgi()),
    path("ws/me/", UserConsumer.as_asgi()),
    # Last: URLRouter raises (a 500 from Daphne) for a path nothing matches.
    re_path(r"", UnknownPathConsumer.as_asgi()),
]
