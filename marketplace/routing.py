"""WebSocket URL patterns."""

from django.urls import path

from marketplace.consumers import AuctionConsumer

websocket_urlpatterns: list = [
    path("ws/auction/<int:auction_id>/", AuctionConsumer.as_asgi()),
]
