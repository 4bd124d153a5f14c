"""The proxy-bid rules as a table: `bidding.resolve_proxy` with no database."""

from decimal import Decimal

import pytest

from marketplace.services.bidding import ProxyBid, resolve_proxy


def D(value: str) -> Decimal:
    return Decimal(value)


def bids(*rows) -> tuple[ProxyBid, ...]:
    """(who, amount, maximum, automatic) with who "me" (the bidder) or "leader"."""
    return tuple(
        ProxyBid(who == "me", D(amount), D(ceiling), auto) for who, amount, ceiling, auto in rows
    )


# amount, ceiling, current price, reserve, leader's maximum, bidder leads -> kind, bids, winner max
CASES = {
    "first bid, no leader": (
        ("1000", "1000", "1000", None, None, False),
        ("bids", bids(("me", "1000", "1000", False)), "1000"),
    ),
    "first bid with a maximum bids only the amount": (
        ("1000", "5000", "1000", None, None, False),
        ("bids", bids(("me", "1000", "5000", False)), "5000"),
    ),
    "first bid whose maximum reaches the reserve goes straight to it": (
        ("1000", "5000", "1000", "3000", None, False),
        ("bids", bids(("me", "3000", "5000", True)), "5000"),
    ),
    "challenger below the leader's maximum: the proxy answers one increment up": (
        ("1100", "1100", "1000", None, "2000", False),
        ("bids", bids(("me", "1100", "1100", False), ("leader", "1200", "2000", True)), "2000"),
    ),
    "the proxy's answer is capped at the leader's maximum": (
        ("1950", "1950", "1000", None, "2000", False),
        ("bids", bids(("me", "1950", "1950", False), ("leader", "2000", "2000", True)), "2000"),
    ),
    "a tie goes to the earlier maximum": (
        ("1100", "2000", "1000", None, "2000", False),
        ("bids", bids(("me", "2000", "2000", True), ("leader", "2000", "2000", True)), "2000"),
    ),
    "challenger beats the maximum: leader's proxy bids all of it, challenger one step above": (
        ("1100", "5000", "1000", None, "2000", False),
        ("bids", bids(("leader", "2000", "2000", True), ("me", "2100", "5000", True)), "5000"),
    ),
    "challenger's own bid higher than one step above the maximum stands": (
        ("4000", "4000", "1000", None, "2000", False),
        ("bids", bids(("leader", "2000", "2000", True), ("me", "4000", "4000", False)), "4000"),
    ),
    "leader's maximum already the price: no proxy bid for it": (
        ("2100", "3000", "2000", None, "2000", False),
        ("bids", bids(("me", "2100", "3000", False)), "3000"),
    ),
    "leader raising their own maximum places no bid": (
        ("1100", "5000", "1000", None, "2000", True),
        ("raise_maximum", (), "5000"),
    ),
    "leader's raise that reaches the reserve lifts the price to it": (
        ("1100", "5000", "1000", "3000", "2000", True),
        ("bids", bids(("me", "3000", "5000", True)), "5000"),
    ),
    "leader's new maximum not above the old one is refused": (
        ("1100", "2000", "1000", None, "2000", True),
        ("already_leading", (), None),
    ),
}


@pytest.mark.parametrize("given, expected", CASES.values(), ids=CASES.keys())
def test_proxy_resolution(given, expected):
    amount, ceiling, price, reserve, leader_max, bidder_leads = given
    outcome = resolve_proxy(
        amount=D(amount),
        ceiling=D(ceiling),
        current_price=D(price),
        reserve=D(reserve) if reserve else None,
        leader_max=D(leader_max) if leader_max else None,
        bidder_leads=bidder_leads,
    )
    kind, new_bids, winner_max = expected
    assert (outcome.kind, outcome.bids, outcome.winner_max) == (
        kind,
        new_bids,
        D(winner_max) if winner_max else None,
    )
