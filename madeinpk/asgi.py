"""ASGI entry point: HTTP through Django, WebSockets through Channels."""

import gc
import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "madeinpk.settings")
django_asgi_app = get_asgi_application()

from channels.auth import AuthMiddlewareStack  # noqa: E402  (needs Django set up first)
from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402
from channels.security.websocket import AllowedHostsOriginValidator  # noqa: E402

from marketplace.api.websocket import TokenAuthMiddleware  # noqa: E402
from marketplace.routing import websocket_urlpatterns  # noqa: E402

application = ProtocolTypeRouter(
    {
        "http": django_asgi_app,
        "websocket": AllowedHostsOriginValidator(
            # The session cookie, or an app's `Authorization: Token <key>` header.
            AuthMiddlewareStack(TokenAuthMiddleware(URLRouter(websocket_urlpatterns)))
        ),
    }
)

# A Daphne process holds everything loaded so far (Django, templates, URL maps) for its whole
# life, and each broadcast to its sockets allocates many short-lived objects. Left alone, the
# cyclic collector rescanned all of it: a full collection paused the event loop ~100 ms with
# 1,000 sockets open, and every broadcast paid ~8 ms of middle-generation collections
# (BENCHMARKS.md, fan-out). Freeze what is loaded now out of its scans and collect less often;
# reference counting still frees nearly everything at once.
gc.freeze()
gc.set_threshold(50_000, 20, 100)
