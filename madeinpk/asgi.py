"""ASGI entry point: HTTP through Django, WebSockets through Channels."""

import gc
import os
import sys

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "madeinpk.settings")
django_asgi_app = get_asgi_application()

from marketplace.checks import refuse_insecure_start  # noqa: E402

# Daphne runs no system checks: refuse here to serve with DEBUG off and the development key.
# The test suite imports this module under exactly that configuration (pytest turns DEBUG off).
if "pytest" not in sys.modules:
    refuse_insecure_start()

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
# cyclic collector rescanned all of it: full collections paused the event loop with many
# sockets open, and every broadcast paid for middle-generation collections (figures:
# BENCHMARKS.md, fan-out). Freeze what is loaded now out of its scans and collect less often;
# reference counting still frees nearly everything at once.
gc.freeze()
gc.set_threshold(50_000, 20, 100)
