"""Fragments rendered once and reused (issue 20): the card grid and the browse filters' options.

A card grid is a pure function of the rows it shows, the language and the few things a card
reads from the clock (an auction's "3 hours left" and whether it ended, whether a sale is on),
so it is kept under a digest of exactly those: a change to any row gives a new key, and nothing
needs invalidating. The heart on each card is the one personal part: the grid is stored with a
marker in its place and each request fills in its own hearts (saved or not, its own token).
Entries live in this process (a small LRU): no network round trip, nothing to keep coherent.
"""

import hashlib
import pickle
import re
import secrets
import threading
from collections import OrderedDict
from collections.abc import Callable, Sequence

from django.template.loader import get_template
from django.utils import timezone
from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import get_language

from marketplace import page_cache
from marketplace.models import Product
from marketplace.queries.selling import clock_state

GRID = "marketplace/components.html#product-grid"
CARD = "marketplace/components.html#product-card"
HEART = "marketplace/components.html#heart"
NAVBAR = "marketplace/_navbar.html"
HEART_MARK = re.compile(r"<!--heart:(\d+)-->")
LRU_SIZE = 2_000
CARD_LRU_SIZE = 10_000  # about 1.3 KB each


class _Lru:
    def __init__(self, size: int) -> None:
        self.size = size
        self.items: OrderedDict = OrderedDict()
        self.lock = threading.Lock()

    def get(self, key):
        with self.lock:
            value = self.items.get(key)
            if value is not None:
                self.items.move_to_end(key)
            return value

    def put(self, key, value) -> None:
        with self.lock:
            self.items[key] = value
            self.items.move_to_end(key)
            while len(self.items) > self.size:
                self.items.popitem(last=False)

    def clear(self) -> None:
        with self.lock:
            self.items.clear()


_grids = _Lru(LRU_SIZE)
_card_html = _Lru(CARD_LRU_SIZE)
_visitor_hearts = _Lru(CARD_LRU_SIZE)
_navbars = _Lru(LRU_SIZE // 2)
_hearts = _Lru(8)  # per language


def clear() -> None:
    _grids.clear()
    _card_html.clear()
    _visitor_hearts.clear()
    _navbars.clear()
    _hearts.clear()


def _row(instance) -> tuple:
    """Every loaded field of a row (what a template could read), not Django's bookkeeping."""
    if instance is None:
        return ()
    # In the order the row was loaded: another order gives another key (a miss), never a
    # wrong grid, and sorting cost more than the rest of the key.
    return tuple(item for item in vars(instance).items() if item[0][0] != "_")


def card_state(product: Product, now) -> tuple:
    """Everything a product card shows: its rows, main photo, and what the clock decides."""
    auction = product.auction if product.auction_id else None
    listing = product.fixed_price if product.fixed_price_id else None
    profile = getattr(product.seller, "seller_profile", None)
    image = product.main_image
    return (
        _row(product),
        _row(auction),
        _row(listing),
        _row(product.city),
        _row(profile),
        (image.thumbnail.name, image.alt_text) if image else None,
        clock_state(product, now),
    )


def _card_keys(products: Sequence[Product]) -> list[bytes]:
    """Each card's key: a digest of its state, pickled (three times faster than repr: equal
    bytes only for equal values, since they unpickle to those values; equal states pickled
    differently are a miss, no more)."""
    now = timezone.now()
    return [
        hashlib.blake2b(pickle.dumps(card_state(product, now), protocol=5), digest_size=16).digest()
        for product in products
    ]


def _grid_key(card_keys: list[bytes]) -> str:
    digest = hashlib.blake2b(b"".join(card_keys), digest_size=20).hexdigest()
    return f"{get_language()}:{digest}"


def card_grid(products: Sequence[Product], context) -> SafeString:
    """The grid of `products` for this request: shared HTML, this visitor's hearts (left as
    markers in the shared copy for signed-in visitors, which each of them fills in)."""
    page_cache.shows_products(context.get("request"), products)
    card_keys = _card_keys(products)
    key = _grid_key(card_keys)
    user = context.get("user")
    visitor = user is None or not user.is_authenticated
    if visitor:
        # A visitor's hearts are the same for everyone (links to sign in): kept filled in.
        filled = _grids.get(f"{key}:visitor")
        if filled is not None:
            return mark_safe(filled)  # noqa: S308
    html = _grids.get(key)
    if html is None:
        cards = _cards(products, card_keys, context)
        html = get_template(GRID).template.render(context.new({"cards": cards}))
        _grids.put(key, html)
    if getattr(context.get("request"), "personal_holes", None):
        return mark_safe(html)  # noqa: S308 (the members' copy: each fills in its own)
    filled = HEART_MARK.sub(_heart_filler(products, context), html)
    if visitor:
        _grids.put(f"{key}:visitor", filled)
    return mark_safe(filled)  # noqa: S308


def _cards(products: Sequence[Product], card_keys: list[bytes], context) -> list[SafeString]:
    """Each product's card, with a marker for its heart: kept per card, so that a grid not
    seen before renders only the cards no other grid showed (a card took 0.5 ms to render)."""
    language = get_language()
    template = None
    cards = []
    for product, card_key in zip(products, card_keys, strict=True):
        key = (language, card_key)
        html = _card_html.get(key)
        if html is None:
            template = template or get_template(CARD).template
            html = template.render(context.new({"product": product, "heart_holes": True}))
            _card_html.put(key, html)
        cards.append(mark_safe(html))  # noqa: S308 (rendered by the template above)
    return cards


def _heart_filler(products: Sequence[Product], context):
    """The function putting each product's heart in its marker's place.

    A visitor's heart links to the product's own page (an auction's differs), so it is
    rendered per product; a signed-in user's comes from `member_hearts`.
    """
    user = context.get("user")
    if user is not None and user.is_authenticated:
        heart = member_hearts(context.get("favourites") or set(), context)
        return lambda match: heart(int(match.group(1)))
    template = get_template(HEART).template
    by_pk = {product.pk: product for product in products}
    language = get_language()

    def render(match: re.Match) -> str:
        product = by_pk[int(match.group(1))]
        key = (language, product.pk, product.auction_id)  # what its address is made of
        html = _visitor_hearts.get(key)
        if html is None:
            with context.push(product=product):
                html = template.render(context)
            _visitor_hearts.put(key, html)
        return html

    return render


def member_hearts(favourites: set[int], context) -> Callable[[int], str]:
    """A signed-in user's heart for a product id: theirs differ between products only by the
    id, so it is rendered twice (saved, not saved) for a stand-in id that is then replaced;
    both are kept per language, with markers for the page's address and the CSRF token."""
    language = get_language()
    pair = _hearts.get(language)
    if pair is None:
        template = get_template(HEART).template
        stand_in = _StandIn()
        marks = {"request": _MarkedRequest(), "csrf_token": _MARKS["csrf"], "product": stand_in}
        with context.push(marks, favourites={stand_in.pk}):
            saved = template.render(context)
        with context.push(marks, favourites=set()):
            not_saved = template.render(context)
        pair = (saved, not_saved)
        _hearts.put(language, pair)
    saved, not_saved = (_unmarked(html, context) for html in pair)
    sentinel = str(_StandIn.pk)

    def heart(pk: int) -> str:
        return (saved if pk in favourites else not_saved).replace(sentinel, str(pk))

    return heart


class _StandIn:
    """A product id no row has, for rendering a heart once and reusing it."""

    pk = 987_654_321_987_654


def _options(choices) -> str:
    return "".join(
        f'<option value="{escape(value)}">{prefix}{escape(label)}</option>'
        for value, prefix, label in choices
    )


def _built_selects(reference) -> dict:
    """The category, province and city `<option>`s in the current language, built once per
    language for each load of the reference data (kept on it, so they go when it does)."""
    language = get_language()
    built = reference.rendered.get(language)
    if built is not None:
        return built
    categories = []
    for parent, children in reference.category_tree:
        categories.append((parent.slug, "", parent.display_name))
        categories += [
            (child.slug, "&nbsp;&nbsp;&ndash; ", child.display_name) for child in children
        ]
    groups = {
        province.slug: (
            f'<optgroup label="{escape(province.display_name)}">'
            + _options((city.slug, "", city.display_name) for city in cities)
            + "</optgroup>"
        )
        for province, cities in reference.provinces
    }
    built = {
        "category": _options(categories),
        "province": _options((p.slug, "", p.display_name) for p, _cities in reference.provinces),
        "city": {"": "".join(groups.values()), **groups},
    }
    reference.rendered[language] = built
    return built


def _selected(html: str, value: str) -> SafeString:
    if value:
        marker = f'<option value="{escape(value)}">'
        html = html.replace(marker, f'<option value="{escape(value)}" selected>', 1)
    return mark_safe(html)  # noqa: S308 (escaped when built)


def filter_selects(reference, filters) -> dict[str, SafeString]:
    """The browse filters' options with this query's choices selected."""
    built = _built_selects(reference)
    province = filters.province.slug if filters.province else ""
    return {
        "category": _selected(built["category"], filters.category.slug if filters.category else ""),
        "province": _selected(built["province"], province),
        "city": _selected(
            built["city"].get(province, ""), filters.city.slug if filters.city else ""
        ),
    }


# Random per process: no name or search typed can contain them.
_MARKS = {name: f"mark{name}{secrets.token_hex(12)}" for name in ("q", "path", "csrf")}


class _MarkedRequest:
    """What the navigation and the hearts read from the request, as markers filled in per
    request (`_unmarked`)."""

    GET = {"q": _MARKS["q"]}

    def get_full_path(self) -> str:
        return _MARKS["path"]


def _unmarked(html: str, context) -> str:
    """A kept fragment with this request's search, address and CSRF token."""
    request = context["request"]
    for name, value in (
        ("q", request.GET.get("q") or ""),
        ("path", request.get_full_path()),
        ("csrf", str(context.get("csrf_token"))),
    ):
        if _MARKS[name] in html:
            html = html.replace(_MARKS[name], escape(value))
    return html


def navbar(context) -> SafeString:
    """The navigation bar. A signed-in user's is rendered once per language, name, role and
    counts (everything it shows but the search typed, the page's address and the CSRF token,
    which are markers filled in per request) and kept in this process."""
    template = get_template(NAVBAR).template
    user, request = context.get("user"), context.get("request")
    if user is None or request is None or not user.is_authenticated:
        return mark_safe(template.render(context))  # noqa: S308
    key = (
        get_language(),
        user.pk,
        user.public_name,
        user.is_seller,
        context.get("cart_count"),
        context.get("unread_messages"),
        context.get("unread_notifications"),
        bool(context.get("oob")),
    )
    html = _navbars.get(key)
    if html is None:
        with context.push(request=_MarkedRequest(), csrf_token=_MARKS["csrf"]):
            html = template.render(context)
        _navbars.put(key, html)
    return mark_safe(_unmarked(html, context))  # noqa: S308 (escaped when rendered and here)
