"""Which products a buyer can browse: a fixed price for sale or sold out, or an auction open now.

The condition every browse and search statement carries (queries.catalog.filter_products), as
each row's lookup of its one listing. Joined, the planner read a search's matches in the order
of a merge join (a search's count compared every row's document on the way: 20-40 ms); looked
up per row, it takes the full-text index and stops at the cap (about 10 ms).

Written as two `Subquery` aliases, the condition held two whole querysets: every `filter()` of
a browse copied them, and every statement compiled them again (four or five statements a
page: about a millisecond each). `OpenToBuyers` renders the same SQL from a few strings.
"""

from datetime import datetime

from django.db.models import BooleanField, DateTimeField, Expression

from marketplace.models import AuctionListing, FixedPriceListing, Product


class OpenToBuyers(Expression):
    """True for a product whose fixed price is for sale or sold out, or whose auction is live
    and ends after `now`: `Product.objects.filter(OpenToBuyers(now))`."""

    conditional = True

    def __init__(self, now: datetime) -> None:
        super().__init__(output_field=BooleanField())
        self.now = now

    def __repr__(self) -> str:
        return f"{self.__class__.__name__}({self.now!r})"

    def resolve_expression(
        self, query=None, allow_joins=True, reuse=None, summarize=False, for_save=False
    ):
        return self  # no columns to resolve: they are named in as_sql

    def get_group_by_cols(self):
        return []

    def as_sql(self, compiler, connection):
        quote = connection.ops.quote_name
        product = compiler.quote_name_unless_alias(compiler.query.base_table)

        def column(model, name: str) -> str:
            return quote(model._meta.get_field(name).column)

        listing, auction = quote("open_fixed"), quote("open_auction")
        sql = (
            f"((SELECT {listing}.{column(FixedPriceListing, 'status')} "  # noqa: S608 (names)
            f"FROM {quote(FixedPriceListing._meta.db_table)} {listing} "
            f"WHERE {listing}.{column(FixedPriceListing, 'id')} = "
            f"{product}.{column(Product, 'fixed_price')} LIMIT 1) IN (%s, %s) "
            f"OR (SELECT {auction}.{column(AuctionListing, 'id')} "
            f"FROM {quote(AuctionListing._meta.db_table)} {auction} "
            f"WHERE {auction}.{column(AuctionListing, 'ends_at')} > %s "
            f"AND {auction}.{column(AuctionListing, 'id')} = {product}.{column(Product, 'auction')} "
            f"AND {auction}.{column(AuctionListing, 'status')} = %s LIMIT 1) IS NOT NULL)"
        )
        ends_after = DateTimeField().get_db_prep_value(self.now, connection)
        params = (
            FixedPriceListing.Status.ACTIVE.value,
            FixedPriceListing.Status.SOLD_OUT.value,
            ends_after,
            AuctionListing.Status.LIVE.value,
        )
        return sql, params
