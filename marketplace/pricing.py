"""The published bid increment table (PKR), shown on the help page."""

from decimal import Decimal

# (upper bound of the price band, increment). The last band has no upper bound.
BID_INCREMENTS: list[tuple[Decimal | None, Decimal]] = [
    (Decimal("1000"), Decimal("50")),
    (Decimal("5000"), Decimal("100")),
    (Decimal("25000"), Decimal("500")),
    (Decimal("100000"), Decimal("1000")),
    (None, Decimal("2500")),
]


def bid_increment(price: Decimal) -> Decimal:
    """The smallest raise over `price`: the band is chosen by the current price."""
    for upper, step in BID_INCREMENTS:
        if upper is None or price < upper:
            return step
    raise AssertionError("unreachable: the last band is open-ended")
