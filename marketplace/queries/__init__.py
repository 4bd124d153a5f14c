"""Read builders, one module per area (as services/ and views/): annotated, select_related.

Import from the area's module (`from marketplace.queries.catalog import card_queryset`). The
names below are re-exported only because views/auctions.py and views/fulfilment.py read them as
`queries.<name>`; orders (the cart) is left out, since it imports services.orders, which would
make a circle through realtime.
"""

from marketplace.queries.auctions import (
    auction_cards,
    auction_for_panel,
    auctions_with_product,
    bids_by_user,
    mask_name,
    panel_auctions,
    panel_context,
)
from marketplace.queries.browse import get_page
from marketplace.queries.catalog import favourite_ids
from marketplace.queries.feedback import (
    product_reviews,
    review_summary,
    reviewable_items,
    seller_rating,
)
from marketplace.queries.fulfilment import order_timeline

__all__ = [
    "auction_cards",
    "auction_for_panel",
    "auctions_with_product",
    "bids_by_user",
    "favourite_ids",
    "get_page",
    "mask_name",
    "order_timeline",
    "panel_auctions",
    "panel_context",
    "product_reviews",
    "review_summary",
    "reviewable_items",
    "seller_rating",
]
