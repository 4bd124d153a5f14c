"""Rate limits of the API, the same as the site's.

A bid is limited like a message on the auction's WebSocket (`consumers.RATE_LIMIT` messages
per `consumers.RATE_WINDOW` seconds), counted per user in the cache so that every Daphne
process and every token of one user share the count. Log-ins go through the site's
`LoginForm`, which carries the site's cool-off (`marketplace.auth.LoginThrottle`).
"""

from rest_framework.throttling import SimpleRateThrottle

from marketplace import consumers


class BidRateThrottle(SimpleRateThrottle):
    scope = "bids"

    def get_rate(self) -> str:
        return f"{consumers.RATE_LIMIT}/{consumers.RATE_WINDOW}"

    def parse_rate(self, rate):
        return consumers.RATE_LIMIT, consumers.RATE_WINDOW

    def get_cache_key(self, request, view) -> str | None:
        if not request.user.is_authenticated:
            return None  # refused as login_required by place_bid itself
        return self.cache_format % {"scope": self.scope, "ident": request.user.pk}
