"""Read builders of the catalogue: browse and search filters and sorts, product cards, reference
data. One page of results, its cards and its paginator: queries/browse.py."""

import time
from dataclasses import dataclass, field
from decimal import Decimal

from django.conf import settings
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
    User,
)
from marketplace.models.catalog import MAX_SALE_PERCENT
from marketplace.money import parse_amount
from marketplace.queries import search
from marketplace.queries.feedback import with_seller_rating
from marketplace.queries.open_listings import OpenToBuyers

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
