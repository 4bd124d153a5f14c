"""Read builders of the catalogue: browse and search, product cards, reference data, pages."""

import functools
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from functools import cached_property

from django.conf import settings
from django.core.paginator import EmptyPage, Page, PageNotAnInteger, Paginator
from django.db import connection
from django.db.models import (
    Case,
    DecimalField,
    F,
    FloatField,
    Prefetch,
    Q,
    QuerySet,
    Value,
    When,
)
from django.db.models.functions import Cast, Round
from django.http import QueryDict
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from marketplace.models import (
    Category,
    City,
    Favourite,
    Product,
    ProductImage,
    Province,
    SellerProfile,
    User,
)
from marketplace.models.catalog import MAX_SALE_PERCENT
from marketplace.money import parse_amount
from marketplace.queries import search
from marketplace.queries.feedback import with_seller_rating
from marketplace.queries.open_listings import OpenToBuyers
from marketplace.queries.prepared import objects_by_ids, planned_for_their_values

SORTS = {
    "newest": gettext_lazy("Newest first"),
    "price_asc": gettext_lazy("Price: low to high"),
    "price_desc": gettext_lazy("Price: high to low"),
    "relevance": gettext_lazy("Best match"),
    "ending": gettext_lazy("Auctions ending soonest"),
}
LISTING_TYPES = {
    "all": gettext_lazy("Everything"),
    "fixed": gettext_lazy("Buy now"),
    "auction": gettext_lazy("Auctions"),
}
PAGE_SIZES = (12, 24, 48)
# The seller's listings page (and GET /api/sell/listings/) narrowed by `?status=`.
DASHBOARD_STATUSES = {
    "active": Q(fixed_price__status="active"),
    "sold_out": Q(fixed_price__status="sold_out"),
    "withdrawn": Q(fixed_price__status="withdrawn"),
    "auction": Q(auction__isnull=False),
}
MAX_QUERY_LENGTH = 100
# A search finding fewer listings than this also finds titles with a word close to what was
# typed (PostgreSQL's trigrams): a fallback, as comparing trigrams row by row is slow.
TYPOS_BELOW = 3


# --- Reference data -------------------------------------------------------------------------
# Categories, provinces and cities change only through migrations and the admin; every browse
# page needs all of them (filters, sidebar), so each process keeps them for a minute.
REFERENCE_TTL_SECONDS = 60
_reference_cache: dict[str, tuple[float, "ReferenceData"]] = {}


@dataclass(frozen=True)
class ReferenceData:
    categories: list[Category]
    category_by_slug: dict[str, Category]
    children: dict[int, list[Category]]
    provinces: list[tuple[Province, list[City]]]
    province_by_slug: dict[str, Province]
    city_by_slug: dict[str, City]
    # Per language, the filters' <option>s built from these rows (marketplace/fragments.py).
    rendered: dict = field(default_factory=dict, compare=False, repr=False)

    @property
    def category_tree(self) -> list[tuple[Category, list[Category]]]:
        return [(c, self.children.get(c.pk, [])) for c in self.categories if c.parent_id is None]


def reference_data() -> ReferenceData:
    cached = _reference_cache.get("data")
    if cached is not None and cached[0] > time.monotonic():
        return cached[1]
    categories = list(Category.objects.order_by("position", "name"))
    children: dict[int, list[Category]] = {}
    for c in categories:
        if c.parent_id is not None:
            children.setdefault(c.parent_id, []).append(c)
    grouped: dict[Province, list[City]] = {}
    cities = list(City.objects.select_related("province").order_by("province__name", "name"))
    for city in cities:
        grouped.setdefault(city.province, []).append(city)
    data = ReferenceData(
        categories=categories,
        category_by_slug={c.slug: c for c in categories},
        children=children,
        provinces=list(grouped.items()),
        province_by_slug={p.slug: p for p in grouped},
        city_by_slug={c.slug: c for c in cities},
    )
    _reference_cache["data"] = (time.monotonic() + REFERENCE_TTL_SECONDS, data)
    return data


def clear_reference_cache() -> None:
    _reference_cache.clear()


def card_queryset(queryset: QuerySet[Product] | None = None) -> QuerySet[Product]:
    """Everything a product card shows, in a constant number of queries."""
    queryset = Product.objects.all() if queryset is None else queryset
    # Cards never show the description or the search document: leave them in the database.
    # The seller's rating rides along as two annotations (queries.feedback.with_seller_rating).
    return (
        with_seller_rating(queryset)
        .defer("description", "search_vector", "seller__password", "seller__blocked_reason")
        .select_related("fixed_price", "auction", "city", "seller__seller_profile")
        .prefetch_related(
            Prefetch("images", queryset=ProductImage.objects.order_by("position", "id"))
        )
    )


def favourite_products(user: User) -> QuerySet[Product]:
    """The products the user saved that are still for sale, most recently saved first."""
    return card_queryset(Product.objects.visible().filter(favourited_by__user=user)).order_by(
        "-favourited_by__created_at", "-pk"
    )


def favourite_ids(user: User, products) -> set[int]:
    """Ids among `products` that `user` has saved (one query, none when anonymous)."""
    if not user.is_authenticated:
        return set()
    return saved_among(user.pk, [p.pk for p in products])


def saved_among(user_id: int, ids: list[int]) -> set[int]:
    """Ids among `ids` of products the user has saved (one query)."""
    if not ids:
        return set()
    # A plain statement: the ORM took longer to build this one than the database to run it,
    # on every signed-in page with hearts.
    user_column, product_column, table = (
        connection.ops.quote_name(name)
        for name in (
            Favourite._meta.get_field("user").column,
            Favourite._meta.get_field("product").column,
            Favourite._meta.db_table,
        )
    )
    marks = ", ".join(["%s"] * len(ids))
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT {product_column} FROM {table} "  # noqa: S608 (names from the model)
            f"WHERE {user_column} = %s AND {product_column} IN ({marks})",
            [user_id, *ids],
        )
        return {row[0] for row in cursor.fetchall()}


@dataclass
class BrowseFilters:
    q: str = ""
    category: Category | None = None
    province: Province | None = None
    city: City | None = None
    min_price: Decimal | None = None
    max_price: Decimal | None = None
    listing_type: str = "all"
    sort: str = "newest"
    sort_choice: str = "relevance"
    per_page: int = field(default_factory=lambda: settings.PAGE_SIZE)
    notices: list[str] = field(default_factory=list)

    @classmethod
    def from_query(cls, params: QueryDict) -> "BrowseFilters":
        """Parse the URL; anything unusable is ignored with a notice, never an error."""
        filters = cls()
        notices = filters.notices
        reference = reference_data()
        filters.q = " ".join(params.get("q", "").split())[:MAX_QUERY_LENGTH]

        slug = params.get("category", "").strip()
        if slug:
            filters.category = reference.category_by_slug.get(slug)
            if filters.category is None:
                notices.append(_("There is no such category; showing all categories."))

        city_slug = params.get("city", "").strip()
        province_slug = params.get("province", "").strip()
        if city_slug:
            filters.city = reference.city_by_slug.get(city_slug)
            if filters.city is None:
                notices.append(_("There is no such city; showing all cities."))
            else:
                filters.province = filters.city.province
        province = reference.province_by_slug.get(province_slug) if province_slug else None
        if province_slug and province is None and filters.province is None:
            notices.append(_("There is no such province; showing all of Pakistan."))
        elif province is not None and filters.city is not None and province != filters.province:
            # A city left over from another province (the list narrows with JavaScript only).
            notices.append(
                _("%(city)s is not in %(province)s; showing all of %(province)s.")
                % {"city": filters.city.display_name, "province": province.display_name}
            )
            filters.city = None
            filters.province = province
        elif province is not None:
            filters.province = province

        for name in ("min_price", "max_price"):
            raw = params.get(name, "").strip()
            if not raw:
                continue
            amount = parse_amount(raw)
            if amount is None or amount < 0 or amount > settings.MAX_PRICE:
                notices.append(
                    _("“%(value)s” is not a price; that limit is ignored.") % {"value": raw[:20]}
                )
                continue
            setattr(filters, name, amount)
        if (
            filters.min_price is not None
            and filters.max_price is not None
            and filters.min_price > filters.max_price
        ):
            filters.min_price, filters.max_price = filters.max_price, filters.min_price
            notices.append(_("The lowest price was above the highest; we swapped them."))

        listing_type = params.get("type", "all")
        filters.listing_type = listing_type if listing_type in LISTING_TYPES else "all"

        # "Best match" is the default choice; without a search it means newest first. Keeping
        # the choice separate lets search-as-you-type rank results as soon as words arrive.
        sort = params.get("sort", "")
        filters.sort_choice = sort if sort in SORTS else "relevance"
        if sort not in SORTS or (sort == "relevance" and not filters.q):
            sort = "relevance" if filters.q else "newest"
        filters.sort = sort
        if sort == "ending":
            filters.listing_type = "auction"

        try:
            per_page = int(params.get("per_page", ""))
        except ValueError:
            per_page = settings.PAGE_SIZE
        filters.per_page = per_page if per_page in PAGE_SIZES else settings.PAGE_SIZE
        return filters

    def category_ids(self) -> list[int]:
        """A parent category includes its children."""
        if self.category is None:
            return []
        children = reference_data().children.get(self.category.pk, [])
        return [self.category.pk, *(child.pk for child in children)]


def filter_products(filters: BrowseFilters, *, typos: bool = False) -> QuerySet[Product]:
    """Visible products matching the filters, unordered (`typos`: search.filter_text).

    Auctions appear only while bidding is open: an ended auction is a dead end for a buyer
    (its seller's shop page still shows it).
    """
    # Product.objects.visible() and an open auction (queries.open_listings).
    queryset = Product.objects.filter(OpenToBuyers(timezone.now()))
    if filters.category is not None:
        queryset = queryset.filter(category_id__in=filters.category_ids())
    if filters.city is not None:
        queryset = queryset.filter(city=filters.city)
    elif filters.province is not None:
        queryset = queryset.filter(city__province=filters.province)
    if filters.min_price is not None or filters.max_price is not None:
        queryset = queryset.alias(buyer_price=buyer_price())
    if filters.min_price is not None:
        # A sale only lowers the price: the indexed list price narrows first.
        queryset = queryset.filter(
            display_price__gte=filters.min_price, buyer_price__gte=filters.min_price
        )
    if filters.max_price is not None:
        queryset = queryset.filter(buyer_price__lte=filters.max_price)
    if filters.listing_type == "fixed":
        queryset = queryset.filter(fixed_price__isnull=False)
    elif filters.listing_type == "auction":
        queryset = queryset.filter(auction__isnull=False)
    if filters.q:
        queryset = search.filter_text(queryset, filters.q, typos=typos)
    return queryset.order_by()


def sale_price(prefix: str = ""):
    """A fixed-price listing's price with its sale applied (FixedPriceListing.current_price
    in SQL, for a running sale); `prefix` reaches the listing from another model."""
    price = F(f"{prefix}price")
    if connection.vendor == "sqlite":
        # SQLite keeps a whole-rupee price as an integer, and would divide it as one.
        price = Cast(price, FloatField())
    return Round(
        price * (Value(100) - F(f"{prefix}sale_percent")) / Value(100),
        2,
        output_field=DecimalField(max_digits=12, decimal_places=2),
    )


def sale_running(now, prefix: str = "") -> Q:
    return Q(
        **{
            f"{prefix}sale_percent__isnull": False,
            f"{prefix}sale_starts_at__lte": now,
            f"{prefix}sale_ends_at__gt": now,
        }
    )


def buyer_price(now=None):
    """The price a buyer pays now: a fixed price's running sale applied; otherwise the
    denormalised display price (the fixed price, or an auction's current price)."""
    now = now or timezone.now()
    return Case(
        When(sale_running(now, "fixed_price__"), then=sale_price("fixed_price__")),
        default=F("display_price"),
        output_field=DecimalField(max_digits=12, decimal_places=2),
    )


def order_by_price(
    queryset: QuerySet[Product], *, descending: bool, through: int | None = None
) -> QuerySet[Product]:
    """Sorted by the price the buyer pays now, as the price filters use it.

    No index holds that price (a sale starts and ends with the clock), so with `through`
    (how many rows the caller reads at most: page x page size) only rows that can be among
    them are sorted, found through the list price's index. A sale only lowers a price:
    - cheapest first: the `through`-th lowest list price D bounds the answer (that many rows
      cost at most D), so a row qualifies by its list price or its running sale's price <= D;
    - dearest first: the `through`-th highest list price D among rows not on sale (those
      cost exactly D or more) bounds it from below: list price >= D.
    The bounds are read first (one or two short queries) so that the planner sees numbers.
    """
    now = timezone.now()
    ordering = ["-paid_price" if descending else "paid_price", "-pk"]
    narrowed = Q()
    if through is not None and descending:
        not_on_sale = queryset.filter(
            Q(fixed_price__isnull=True)
            | Q(fixed_price__sale_percent__isnull=True)
            | Q(fixed_price__sale_starts_at__gt=now)
            | Q(fixed_price__sale_ends_at__lte=now)
        )
        bound = _nth(not_on_sale.order_by("-display_price"), through)
        if bound is not None:
            narrowed = Q(display_price__gte=bound)
    elif through is not None:
        # Fewer rows than that: every one is on the pages, and the same two queries run
        # (the page's query count does not depend on the data).
        bound = _nth(queryset.order_by("display_price"), through) or HIGHEST_PRICE
        # A sale takes at most MAX_SALE_PERCENT off: dearer list prices cannot get to D.
        most = min(bound * 100 / (100 - MAX_SALE_PERCENT), HIGHEST_PRICE)
        on_sale = (
            # The listing's own price (its index of sales) finds them.
            queryset.filter(fixed_price__price__gt=bound, fixed_price__price__lte=most)
            .filter(sale_running(now, "fixed_price__"))
            .alias(sale=sale_price("fixed_price__"))
            .filter(sale__lte=bound)
        )
        narrowed = Q(display_price__lte=bound) | Q(
            pk__in=list(on_sale.values_list("pk", flat=True))
        )
    return queryset.filter(narrowed).alias(paid_price=buyer_price(now)).order_by(*ordering)


HIGHEST_PRICE = Decimal("9999999999.99")  # what DecimalField(max_digits=12, decimal_places=2) holds


def _nth(ordered: QuerySet[Product], n: int) -> Decimal | None:
    """The `n`-th list price in that order (None when there are fewer)."""
    return ordered.values_list("display_price", flat=True)[n - 1 : n].first()


def order_products(
    queryset: QuerySet[Product], filters: BrowseFilters, *, through: int | None = None
) -> QuerySet[Product]:
    """`through`: how many rows the caller reads at most (lets a price sort use an index)."""
    if filters.sort == "relevance" and filters.q:
        ranked = search.order_by_rank(queryset, filters.q)
        if ranked is not None:
            return ranked
    if filters.sort in ("price_asc", "price_desc"):
        return order_by_price(queryset, descending=filters.sort == "price_desc", through=through)
    ordering = {"ending": ["auction__ends_at", "pk"]}.get(filters.sort, ["-created_at", "-pk"])
    return queryset.order_by(*ordering)


def browse_products(filters: BrowseFilters, *, through: int | None = None) -> QuerySet[Product]:
    """Visible products matching the filters, sorted; not yet sliced (to `through` at most)."""
    base = filter_products(filters)
    if filters.q and search.forgives_typos():
        if base.values("pk")[:TYPOS_BELOW].count() < TYPOS_BELOW:
            base = filter_products(filters, typos=True)
    return order_products(base, filters, through=through)


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
