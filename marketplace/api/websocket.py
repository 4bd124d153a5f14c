"""WebSocket handshakes may carry an app's token: `Authorization: Token <key>`.

Never a token in the URL (URLs end up in logs). Without the header the session cookie
decides, as for the site's own pages; a bad or revoked token closes the handshake (4401)
rather than quietly watching as anonymous.
"""

from channels.db import database_sync_to_async

from marketplace.api.auth import key_from_header, user_for_key

CLOSE_UNAUTHENTICATED = 4401


def _authorization(scope) -> str:
    for name, value in scope.get("headers", []):
        if name.lower() == b"authorization":
            return value.decode("latin-1")
    return ""


@database_sync_to_async
def _user_and_token(key: str):
    return user_for_key(key)


class TokenAuthMiddleware:
    """Inside `AuthMiddlewareStack`: a token in the handshake replaces the session's user."""

    def __init__(self, inner) -> None:
        self.inner = inner

    async def __call__(self, scope, receive, send):
        if scope["type"] == "websocket":
            try:
                key = key_from_header(_authorization(scope))
            except ValueError:
                key = ""
            if key is not None:
                user, token = await _user_and_token(key) if key else (None, None)
                if user is None:
                    await send({"type": "websocket.close", "code": CLOSE_UNAUTHENTICATED})
                    return
                # The token, not a session, is what each bid re-checks (consumers.session_is_valid).
                scope = {**scope, "user": user, "api_token_id": token.pk}
        return await self.inner(scope, receive, send)
