"""WebSocket URL patterns."""

websocket_urlpatterns: list = []
