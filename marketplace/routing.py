"""WebSocket URL patterns."""

from django.urls import path

from marketplace.consumers import AuctionConsumer, ConversationConsumer, UserConsumer

websocket_urlpatterns: list = [
    path("ws/auction/<int:auction_id>/", AuctionConsumer.as_asgi()),
    path("ws/conversations/<int:conversation_id>/", ConversationConsumer.as_asgi()),
    path("ws/me/", UserConsumer.as_asgi()),
]
