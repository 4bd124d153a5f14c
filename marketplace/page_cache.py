"""Shared pages: anonymous catalogue pages served from the cache (issue 20).

A visitor who is not signed in sees the same home, browse, search, shop, product, auction and
help page as every other such visitor with the same language and query string, so the page is
rendered once and kept in the cache for `PAGE_CACHE_SECONDS` (a few seconds: the backstop).
Each entry is stored with the *generations* it was rendered under: every list page depends on
the `lists` generation, a product's page on its own (and on `all`), an auction's page on its
own (and on `all`). The services that change what those pages show call `catalogue_changed`,
which sets new generations after commit; an entry whose generations no longer match is a miss.
Generations are read before the view runs, so a page rendered from rows read just before a
change commits is stored under the old generation and is never served after the change.

Past its freshness a copy is not necessarily rendered again: while it is less than
`PAGE_CACHE_MAX_SECONDS` old, one query reads the products it shows (`shows_products`, noted
by the card grid and the detail views) and, if their prices, stock and auction state, and
what the clock decides about them (an auction's end, a sale's start), are as the copy shows
them, the copy is fresh again (`X-Page-Cache: checked`). So a change nothing announced (the
admin, a shell) to what a buyer pays or can buy shows as soon as the freshness runs out, and
anything else on the page (a description, a review) within the max age.

One request at a time renders (or checks) a given page (single flight, a short lock per page and
generations): while it does, the others serve the copy it replaces if only its age is against
it (never one rendered before an announced change), or wait briefly for the new one. Without a
cache every request renders its own page.

A shared page holds nothing personal: it is only used for GET requests without pending
messages, and an entry is only stored when rendering did not touch the CSRF token
(`{% csrf_token %}` marks the request), set no cookie and answered 200. The CSP nonce, which is
per response, is stored as a placeholder and replaced by this response's nonce on the way out.
Signed-in visitors get a second copy of the page, rendered for nobody with holes for their own
parts, which each of their requests fills in (marketplace/personal.py).
"""

import hashlib
import logging
import time
from collections.abc import Callable, Iterable
from functools import wraps
from typing import TypeVar

from django.conf import settings
from django.contrib import messages
from django.core.cache import cache
from django.db import transaction
from django.http import HttpRequest, HttpResponse
from django.utils.translation import get_language

logger = logging.getLogger(__name__)
T = TypeVar("T")

KEY_PREFIX = "pages:"
LISTS = "lists"
EVERYTHING = "all"
NONCE_PLACEHOLDER = b"__csp_nonce_placeholder__"
# Generations outlive the pages stored under them many times over; a generation that has
# expired reads as None, which no stored page carries after a change, so that is a miss too.
GENERATION_SECONDS = 60 * 60
# Headers a view sets that a cached copy must repeat (Vary from vary_on_headers, the type).
KEPT_HEADERS = ("Content-Type", "Vary", "Content-Language")
HTMX_HEADERS = ("HX-Request", "HX-Boosted", "HX-History-Restore-Request")
# Single flight: one request renders a page that is missing or out of date while the others
# serve the copy it replaces (when only its age is against it, for at most another
# PAGE_CACHE_SECONDS) or, with no such copy, wait up to WAIT_SECONDS for the new one. A lock
# outlives no render by much: a renderer that dies frees its page after LOCK_SECONDS.
LOCK_SECONDS = 10
WAIT_SECONDS = 2.0
WAIT_POLL_SECONDS = 0.02


def generation_key(name: str) -> str:
    return f"{KEY_PREFIX}gen:{name}"


def product_generation(product_id: int) -> str:
    return generation_key(f"product:{product_id}")


def auction_generation(auction_id: int) -> str:
    return generation_key(f"auction:{auction_id}")


def catalogue_changed(
    *,
    product_ids: Iterable[int] = (),
    auction_ids: Iterable[int] = (),
    everything: bool = False,
) -> None:
    """Pages showing these products or auctions, and every list page, are out of date.

    The new generations are set after the caller's transaction commits (at once outside one).
    `everything=True` is for a change whose pages are not known one by one (a shop renamed, a
    review, stock returned by a cancellation): every product and auction page then misses too.
    """
    names = [generation_key(LISTS)]
    names += [product_generation(pk) for pk in product_ids if pk is not None]
    names += [auction_generation(pk) for pk in auction_ids if pk is not None]
    if everything:
        names.append(generation_key(EVERYTHING))
    transaction.on_commit(lambda: _bump(names))


def _bump(names: list[str]) -> None:
    token = time.time_ns()
    cache.set_many(dict.fromkeys(names, token), timeout=GENERATION_SECONDS)


def shows_products(request: HttpRequest | None, products: Iterable) -> None:
    """Note that the page being rendered shows these products' prices, stock or auction state:
    a copy past its freshness is served again as long as those rows, and what the clock
    decides about them, are unchanged (`_still_true`), instead of being rendered anew."""
    if request is not None:
        shown = request.__dict__.setdefault("_page_shows", {})
        shown.update((product.pk, product) for product in products)


def lists_generation() -> object:
    """The generation every list page (and the card fragments) is rendered under."""
    return cache.get(generation_key(LISTS))


def shared_piece(name: str, parts: object, compute: Callable[[], T]) -> T:
    """`compute()` (rows a list page reads: its results, their count) done once per language
    and `parts` under the current `lists` generation, kept for `PAGE_CACHE_SECONDS`.

    Signed-in visitors' pages reuse it: they then run only their personal queries. It is as
    fresh as a shared page: a change announced through `catalogue_changed` is a miss at once.
    """
    if settings.PAGE_CACHE_SECONDS <= 0:
        return compute()
    names = [generation_key(LISTS)]
    digest = hashlib.sha256(repr(parts).encode()).hexdigest()
    key = f"{KEY_PREFIX}piece:{name}:{get_language()}:{digest}"
    found = cache.get_many([key, *names])
    generations = tuple(found.get(name) for name in names)
    entry = found.get(key)
    if (
        entry is not None
        and entry["generations"] == generations
        and entry["fresh_until"] > time.time()
    ):
        return entry["value"]
    value = compute()
    if _unchanged(names, generations):
        fresh_until = time.time() + settings.PAGE_CACHE_SECONDS
        entry = {"generations": generations, "fresh_until": fresh_until, "value": value}
        cache.set(key, entry, settings.PAGE_CACHE_SECONDS)
    return value


VISITOR = "visitor"
MEMBER = "member"


def shared_kind(request: HttpRequest) -> str | None:
    """Which shared copy may answer this request: the visitors' page (`VISITOR`), the copy
    every signed-in visitor's page is filled in from (`MEMBER`, marketplace/personal.py), or
    none (None)."""
    if settings.PAGE_CACHE_SECONDS <= 0 or request.method != "GET":
        return None
    user = getattr(request, "user", None)
    if user is None:
        return None
    # A message waiting for this visitor ("you have logged out") is personal: len() reads
    # the storage without marking the messages as shown.
    if len(messages.get_messages(request)):
        return None
    return MEMBER if user.is_authenticated else VISITOR


def _page_key(request: HttpRequest, kind: str = VISITOR) -> str:
    variant = "|".join(request.headers.get(name, "") for name in HTMX_HEADERS)
    query = sorted(request.GET.lists())
    # The scheme and host too: a product page's sharing links and og: tags name the address it
    # was asked for (www. or not, http before the redirect), which one copy must not hand on.
    origin = f"{request.scheme}://{request.get_host()}"
    raw = f"{origin}{request.path}|{query!r}|{variant}".encode()
    return f"{KEY_PREFIX}page:{kind}:{get_language()}:{hashlib.sha256(raw).hexdigest()}"


def shared_page(depends_on: Callable[..., list[str]] | None = None):
    """Serve the decorated GET view's page from the cache: to anonymous visitors as it is, to
    signed-in ones filled in with their own parts (marketplace/personal.py).

    `depends_on(**view_kwargs)` names the generation keys of a detail page; without it the
    page is a list page (the `lists` generation).
    """

    def decorator(view):
        @wraps(view)
        def wrapped(request: HttpRequest, *args, **kwargs) -> HttpResponse:
            kind = shared_kind(request)
            if kind is None:
                return view(request, *args, **kwargs)
            if kind == VISITOR:
                request.shared_page = True

            def own_page() -> HttpResponse:
                return view(request, *args, **kwargs)

            names = depends_on(**kwargs) if depends_on else [generation_key(LISTS)]
            key = _page_key(request, kind)
            found = cache.get_many([key, *names])
            generations = tuple(found.get(name) for name in names)
            entry = found.get(key)
            if entry is not None and entry["generations"] != generations:
                entry = None  # rendered before a change the services announced: never served
            overdue = time.time() - entry.get("fresh_until", 0) if entry is not None else None
            if overdue is not None and overdue < 0:
                return _from_entry(request, entry, "hit", own_page)
            lock = _lock_key(key, generations)
            if not _take(lock):
                # Another request is rendering this page under these generations.
                if overdue is not None and overdue < settings.PAGE_CACHE_SECONDS:
                    return _from_entry(request, entry, "stale", own_page)
                rendered = _wait_for(key, lock, generations)
                if rendered is not None:
                    return _from_entry(request, rendered, "hit", own_page)
                lock = None  # not ours to release: render the page here after all
            if entry is not None and lock is not None and _still_true(entry):
                entry["fresh_until"] = time.time() + settings.PAGE_CACHE_SECONDS
                if _unchanged(names, generations):
                    cache.set(key, entry, _keep_seconds(entry))
                cache.delete(lock)
                return _from_entry(request, entry, "checked", own_page)
            try:
                token_before = request.META.get("CSRF_COOKIE_NEEDS_UPDATE")
                rendering = request
                if kind == MEMBER:
                    from marketplace import personal

                    rendering = personal.member_copy(request)
                response = view(rendering, *args, **kwargs)
                response["X-Page-Cache"] = "miss"
                entry = None
                if _storable(request, response, token_before):
                    entry = _entry(request, response, generations)
                    entry.update(_shown_state(rendering))
                    if kind == MEMBER:
                        entry["holes"] = list(rendering.personal_holes)
                        entry["csrf"] = rendering.personal_holes.csrf
                    if _unchanged(names, generations):
                        cache.set(key, entry, _keep_seconds(entry))
            finally:
                if lock is not None:
                    cache.delete(lock)
            if kind == VISITOR:
                return response
            if entry is None:  # not a page to share (an error, a redirect): theirs, then
                return own_page()
            return _from_entry(request, entry, "miss", own_page)

        return wrapped

    return decorator


def _unchanged(names: list[str], generations: tuple) -> bool:
    """Whether no change was announced while the page was rendered: a page rendered before
    one would be a miss anyway, and storing it could replace the page rendered after it."""
    found = cache.get_many(names)
    return tuple(found.get(name) for name in names) == generations


def _shown_state(rendering: HttpRequest) -> dict:
    """What a copy's reuse past its freshness depends on: the products it shows
    (`shows_products`) and their selling state as rendered."""
    from marketplace.queries.selling import selling_state

    shown = getattr(rendering, "_page_shows", {})
    return {
        "rendered_at": time.time(),
        "shows": sorted(shown),
        "state": selling_state(shown.values()),
    }


def _keep_seconds(entry: dict) -> int:
    """How long the cache keeps a copy: past its freshness, so that it can stand in while it
    is redone, and be checked and served again until PAGE_CACHE_MAX_SECONDS after its render."""
    left = entry.get("rendered_at", 0) + settings.PAGE_CACHE_MAX_SECONDS - time.time()
    return max(2 * settings.PAGE_CACHE_SECONDS, int(left) + 1)


def _still_true(entry: dict) -> bool:
    """Whether a copy past its freshness may be served again: rendered less than
    PAGE_CACHE_MAX_SECONDS ago, and the prices, stock and auction state of the products it
    shows (read now, one query) are as it shows them, the clock's part included (an auction
    that has ended since, a sale that began). Announced changes never get here: the copy's
    generations no longer match."""
    from marketplace.queries.selling import selling_state_now

    if (
        "state" not in entry
        or time.time() - entry["rendered_at"] >= settings.PAGE_CACHE_MAX_SECONDS
    ):
        return False
    try:
        return selling_state_now(entry["shows"]) == entry["state"]
    except Exception:  # the database is away: render, which says so as every render does
        logger.exception("could not check a cached page's products")
        return False


def _lock_key(key: str, generations: tuple) -> str:
    # Per generation: a render started before a change never holds up one started after it.
    digest = hashlib.sha256(repr(generations).encode()).hexdigest()[:16]
    return f"{key}:lock:{digest}"


def _take(lock: str) -> bool:
    """Whether this request is the one to render the page (a short lock in the cache).

    When the cache is down `add` fails and the lock reads as absent: every request renders
    its own page then, as it would with no cache at all.
    """
    return cache.add(lock, 1, LOCK_SECONDS) or cache.get(lock) is None


def _wait_for(key: str, lock: str, generations: tuple) -> dict | None:
    """The page another request is rendering, if it is stored within `WAIT_SECONDS`."""
    deadline = time.monotonic() + WAIT_SECONDS
    while time.monotonic() < deadline:
        time.sleep(WAIT_POLL_SECONDS)
        found = cache.get_many([key, lock])
        entry = found.get(key)
        if (
            entry is not None
            and entry["generations"] == generations
            and entry.get("fresh_until", 0) > time.time()  # the new copy, not the one it replaces
        ):
            return entry
        if lock not in found:  # the renderer finished without storing it (or gave up)
            return None
    return None


def detail_generations(kind: str) -> Callable[..., list[str]]:
    """`depends_on` for a page of one product (`pk` kwarg) or one auction."""
    key_of = product_generation if kind == "product" else auction_generation
    return lambda pk, **kwargs: [generation_key(EVERYTHING), key_of(pk)]


def _storable(request: HttpRequest, response: HttpResponse, token_before: object) -> bool:
    if response.status_code != 200 or response.streaming or response.cookies:
        return False
    if request.META.get("CSRF_COOKIE_NEEDS_UPDATE") and not token_before:
        # The page used the CSRF token: a shared copy would hand this visitor's to everyone.
        logger.warning(
            "%s rendered a CSRF token for an anonymous visitor: not cached", request.path
        )
        return False
    return True


def _entry(request: HttpRequest, response: HttpResponse, generations: tuple) -> dict:
    body = response.content
    nonce = getattr(request, "_csp_nonce", None)
    if isinstance(nonce, str) and nonce.encode() in body:
        body = body.replace(nonce.encode(), NONCE_PLACEHOLDER)
    headers = {name: response[name] for name in KEPT_HEADERS if response.has_header(name)}
    return {
        "generations": generations,
        "fresh_until": time.time() + settings.PAGE_CACHE_SECONDS,
        "body": body,
        "headers": headers,
    }


def _from_entry(
    request: HttpRequest, entry: dict, state: str, own_page: Callable[[], HttpResponse]
) -> HttpResponse:
    body = entry["body"]
    if "holes" in entry:
        from marketplace import personal

        body = personal.fill(request, body, entry["holes"], entry["csrf"])
        if body is None:  # this visitor's page differs beyond the holes
            return own_page()
    if NONCE_PLACEHOLDER in body:
        body = body.replace(NONCE_PLACEHOLDER, str(request.csp_nonce).encode())
    response = HttpResponse(body)
    for name, value in entry["headers"].items():
        response[name] = value
    response["X-Page-Cache"] = state
    return response
