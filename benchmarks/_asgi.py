"""The ASGI application the benchmarks' Daphne serves: the site's own, flood control lifted,
plus one bare view.

The consumer refuses more than a few messages a second per socket (against a flooding
client). A throughput benchmark drives each socket as fast as the server answers, so here,
and only here, that limit is lifted: everything else is the real stack. `/bench/bare/` is a
Django view that answers a short text through the site's whole middleware: the pages
benchmark's yardstick for "the framework itself" on the same server.
"""

from madeinpk.asgi import application
from marketplace import consumers

consumers.RATE_LIMIT = 1_000_000


def bare(request):
    from django.http import HttpResponse

    return HttpResponse("ok", content_type="text/plain")


def _add_bare_view() -> None:
    # Imported here: madeinpk.asgi sets Django up first.
    from django.urls import path

    from madeinpk import urls

    urls.urlpatterns.append(path("bench/bare/", bare))


_add_bare_view()

__all__ = ["application"]
