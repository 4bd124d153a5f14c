"""The benchmark modules run end to end at tiny sizes (figures are never asserted)."""

import os
import re

import pytest
from django.conf import settings
from django.core.management import CommandError
from django.db import connection

from benchmarks import bids, closing, fanout, pages
from marketplace.models import AuctionListing, Bid, Order


class Lines(list):
    """Collects what a benchmark writes, one entry per write()."""

    def write(self, text: str) -> None:
        self.append(text)

    def rows(self) -> list[list[str]]:
        """Cells of the Markdown table rows after the header."""
        table = [line for line in self if line.startswith("| ")]
        return [[cell.strip() for cell in line.strip("|").split("|")] for line in table[1:]]


def require_redis() -> None:
    if not settings.REDIS_URL:
        if os.environ.get("CI"):
            pytest.fail("CI must run with REDIS_URL set")
        pytest.skip("needs Redis (REDIS_URL)")


@pytest.mark.django_db
@pytest.mark.parametrize("module", [bids, fanout, closing])
def test_benchmark_refuses_sqlite_clearly(module, monkeypatch):
    monkeypatch.setattr(connection, "vendor", "sqlite")

    with pytest.raises(CommandError, match="needs PostgreSQL"):
        module.main(Lines())


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_bid_benchmark_counts_bids_through_the_service_and_the_raw_floor():
    out = Lines()

    bids.main(out, seconds=1, bidders="1,2", paths="raw,service")

    rows = out.rows()
    assert [(row[0], row[1]) for row in rows] == [
        ("raw", "1"),
        ("service", "1"),
        ("raw", "2"),
        ("service", "2"),
    ]
    assert all(int(row[2]) > 0 for row in rows)
    for auction in AuctionListing.objects.filter(bid_count__gt=0):
        assert Bid.objects.filter(auction=auction).count() == auction.bid_count


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_bid_benchmark_bids_over_websockets_through_daphne():
    require_redis()
    out = Lines()

    bids.main(out, seconds=1, bidders="2", paths="websocket")

    (row,) = out.rows()
    assert row[0] == "websocket"
    assert int(row[2]) > 0


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_fanout_benchmark_delivers_every_bid_to_every_watcher():
    require_redis()
    out = Lines()

    fanout.main(out, watchers="4", bids=3, interval=50)

    (row,) = out.rows()
    assert row[3] == "12 / 12"


@pytest.mark.postgres
@pytest.mark.django_db
def test_closing_benchmark_closes_each_auction_once():
    out = Lines()

    closing.main(out, size=10)

    (row,) = out.rows()
    assert row[1] == "10"  # closed by the task
    assert row[8] == "0"  # a second run finds nothing left
    assert Order.objects.count() == 5
    assert re.match(r"5 \(5\)", row[2])


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_pages_benchmark_measures_each_page_both_ways_beside_the_bare_view(monkeypatch):
    monkeypatch.setenv("BENCH_ANY_DATABASE", "1")  # the test database is a scratch one
    out = Lines()

    pages.main(out, size=200, seconds=1, clients=2)

    rows = out.rows()
    assert rows[0][0] == "bare Django view" and rows[-1][0] == "bare Django view, again"
    measured = [(row[0], row[1]) for row in rows[1:-1]]
    assert measured == [
        (page, visitor)
        for page in ("home", "browse", "search", "product", "auction")
        for visitor in ("anonymous", "signed in")
    ]
    assert all(float(row[2]) > 0 for row in rows)
    anonymous_cached = [row[4] for row in rows[1:-1] if row[1] == "anonymous"]
    assert any(share != "0%" for share in anonymous_cached)
