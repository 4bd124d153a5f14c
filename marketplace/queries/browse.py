"""One page of browse or search results: its products' ids found (planned for their own
values), then their cards read by id from two statements built once; the capped paginator."""

import functools
from collections.abc import Callable

from django.core.paginator import EmptyPage, Page, PageNotAnInteger, Paginator
from django.db import connection
from django.db.models import QuerySet
from django.utils.functional import cached_property
from django.utils.translation import gettext as _

from marketplace.models import Product, ProductImage, SellerProfile, User
from marketplace.queries import search
from marketplace.queries.catalog import (
    TYPOS_BELOW,
    BrowseFilters,
    card_queryset,
    filter_products,
    order_products,
)
from marketplace.queries.prepared import objects_by_ids, planned_for_their_values


def browse_page(
    filters: BrowseFilters,
    page_number: object,
    *,
    cap: int = 1000,
    remember_count: Callable[[str, Callable[[], int]], int] | None = None,
):
    """One page of browse results with cards loaded, and its capped paginator.

    Ranking by relevance reads every matching row, so a query matching more than `cap`
    products (one common word) is shown newest first instead, with a notice.
    `remember_count(kind, count)` may answer a count ("exact" or "typos" matches) it kept for
    the same filters: the count does not depend on the sort or the page.

    The statements finding the page's products are planned for their own values
    (`planned_for_their_values`): how many rows a search's words, a province or a price bound
    select decides the plan (a generic plan for every value made a price sort 10-20 ms slower
    at 100,000 products). Then the cards, one statement the same for every page, are read by id.
    """
    with planned_for_their_values():
        page, paginator = _browse_page(filters, page_number, cap=cap, remember_count=remember_count)
    page.object_list = cards_in_order(list(page.object_list))
    return page, paginator


def _browse_page(filters, page_number, *, cap, remember_count):
    """The page of ids and its paginator (browse_page)."""
    counted: dict[str, int] = {}  # counts a ranked search read already, by kind

    def paginated(base: QuerySet[Product], kind: str) -> CappedPaginator:
        paginator = CappedPaginator(None, filters.per_page, cap=cap, count_queryset=base)
        if kind in counted:
            paginator.count = counted[kind]
        elif remember_count is not None:
            paginator.count = remember_count(kind, paginator.count_rows)
        return paginator

    base = filter_products(filters)
    if filters.q and filters.sort == "relevance":
        ranked = functools.partial(
            _ranked_page, filters=filters, page_number=page_number, cap=cap, remember=remember_count
        )
        found, total = ranked(base, kind="exact")
        if total is not None:
            counted["exact"] = total
            if found is None and total < TYPOS_BELOW and search.forgives_typos():
                found, total = ranked(filter_products(filters, typos=True), kind="typos")
                counted["typos"] = total
        if found is not None:
            return found
    paginator = paginated(base, "exact")
    if filters.q and search.forgives_typos() and paginator.count < TYPOS_BELOW:
        base = filter_products(filters, typos=True)
        paginator = paginated(base, "typos")
    if filters.sort == "relevance" and paginator.is_capped:
        filters.sort = "newest"
        filters.notices.append(
            _("Many items match, so the newest come first; add words to find the best match.")
        )
    number = valid_page_number(paginator, page_number, filters.notices)
    ordered = order_products(base, filters, through=number * filters.per_page)
    # The page's ids first, then their cards by id (`cards_in_order`). Joined with everything
    # a card shows, a ranking's plan misjudged the matches and joined them with every seller
    # and city (22 ms where the ids took 14 and the cards 3), and a price sort sorted the
    # wide rows (7.3 ms at 100,000 products, where the ids take 1.2 and the cards 2.5).
    paginator.object_list = ordered.values_list("pk", flat=True)
    page = paginator.page(number)
    page.object_list = list(page.object_list)
    return page, paginator


def _ranked_page(base, *, filters, page_number, cap, remember, kind):
    """A ranked search's count and page of ids, its matches read once: (page and paginator, count),
    or (None, count) to take the general path: too many matches to rank (over `cap`), few
    enough to look for typos (`kind` "exact"), or a page number that needs a notice; (None,
    None) when there is nothing to rank (not PostgreSQL, no words).

    Counted apart from the ranking, a search of several words with a category among its
    meanings read some 2,600 heap pages twice (13 ms each, at 100,000 products). Here the
    matches' ids (at most cap + 1, unranked: a broad search is not ranked anyway) are read
    once, and only they are ranked, by id. `remember(kind, count)` keeps the count for the
    same filters' other sorts and pages, and for the general path if it is taken.
    """
    if connection.vendor != "postgresql" or not search.query_groups(filters.q):
        return None, None
    try:
        number = int(page_number or 1)
    except (TypeError, ValueError):
        number = 0
    matches = list(base.order_by().values_list("pk", flat=True)[: cap + 1])
    total = len(matches)
    if remember is not None:
        total = remember(kind, lambda: total)
    few = kind == "exact" and total < TYPOS_BELOW and search.forgives_typos()
    pages = max(1, -(-min(total, cap) // filters.per_page))
    if total > cap or few or not 1 <= number <= pages:
        return None, total
    ranked = search.order_by_rank(Product.objects.filter(pk__in=matches), filters.q)
    start = (number - 1) * filters.per_page
    ids = list(ranked.values_list("pk", flat=True)[start : start + filters.per_page])
    paginator = CappedPaginator(None, filters.per_page, cap=cap)
    paginator.count = total
    return (Page(ids, number, paginator), paginator), total


def cards_in_order(ids: list[int]) -> list[Product]:
    """The cards of these products in this order (one left out if it has gone since).

    Two statements built once per process (queries.prepared.objects_by_ids): the cards, and
    their photos put where `product.images.all()` finds them. Built by the ORM for each page,
    the cards' statement and their photos' prefetch took longer than the database took to
    run them.
    """
    products = objects_by_ids(
        "cards", Product, lambda ids: _card_rows(Product.objects.filter(pk__in=ids)), ids
    )
    if products is None:  # more than a page's worth
        products = list(card_queryset(Product.objects.filter(pk__in=ids)))
    else:
        _attach_images(products)
    cards = {p.pk: p for p in products}
    return [cards[pk] for pk in ids if pk in cards]


# A card reads of its seller only the shop (name, address, badge): the rest is left in the
# database (the user's and shop's other columns and dates cost more to load than to read).
_CARD_SHOP = ("shop_name", "slug", "is_verified", "user")
_NOT_ON_A_CARD = [
    f"seller__{field.name}"
    for field in User._meta.concrete_fields
    if not field.primary_key and field.name != "password"  # already left out (card_queryset)
] + [
    f"seller__seller_profile__{field.name}"
    for field in SellerProfile._meta.concrete_fields
    if not field.primary_key and field.name not in _CARD_SHOP
]


def _card_rows(queryset: QuerySet[Product]) -> QuerySet[Product]:
    # Unordered: cards_in_order puts them in the caller's order.
    return card_queryset(queryset).prefetch_related(None).defer(*_NOT_ON_A_CARD).order_by()


def _attach_images(products: list[Product]) -> None:
    """What card_queryset's prefetch of the photos does, from a statement built once."""
    images = objects_by_ids(
        "card-images",
        ProductImage,
        lambda ids: ProductImage.objects.filter(product_id__in=ids).order_by("position", "id"),
        [p.pk for p in products],
    )
    by_product: dict[int, list[ProductImage]] = {}
    for image in images:
        by_product.setdefault(image.product_id, []).append(image)
    cache_name = Product.images.rel.cache_name
    for product in products:
        found = by_product.get(product.pk, [])
        for image in found:
            ProductImage.product.field.set_cached_value(image, product)
        queryset = QuerySet(model=ProductImage)  # as a prefetch leaves it: evaluated
        queryset._result_cache, queryset._prefetch_done = found, True
        product.__dict__.setdefault("_prefetched_objects_cache", {})[cache_name] = queryset


class CappedPaginator(Paginator):
    """A paginator whose count stops at `cap`: counting every match of a broad search over
    100,000 products costs more than rendering the page, and nobody pages past the cap."""

    def __init__(
        self, object_list, per_page, *, cap: int = 1000, count_queryset=None, **kwargs
    ) -> None:
        super().__init__(object_list, per_page, **kwargs)
        self.cap = cap
        self.count_queryset = count_queryset

    @cached_property
    def count(self) -> int:
        return self.count_rows()

    def count_rows(self) -> int:
        queryset = self.object_list if self.count_queryset is None else self.count_queryset
        # No ORDER BY and only the key: the database stops after cap + 1 rows.
        return queryset.order_by().values("pk")[: self.cap + 1].count()

    @property
    def is_capped(self) -> bool:
        return self.count > self.cap

    @cached_property
    def num_pages(self) -> int:
        return max(1, -(-min(self.count, self.cap) // self.per_page))


def get_page(paginator: Paginator, number: object, notices: list[str]):
    """The requested page; a bad or too-large number gives page 1 or the last, with a notice."""
    return paginator.page(valid_page_number(paginator, number, notices))


def valid_page_number(paginator: Paginator, number: object, notices: list[str]) -> int:
    try:
        return paginator.validate_number(number or 1)
    except PageNotAnInteger:
        notices.append(_("That page number is not valid; showing the first page."))
        return 1
    except EmptyPage:
        try:
            as_int = int(number)
        except (TypeError, ValueError):
            as_int = 0
        if as_int < 1:
            notices.append(_("That page number is not valid; showing the first page."))
            return 1
        notices.append(_("There are fewer pages; showing the last one."))
        return paginator.num_pages
