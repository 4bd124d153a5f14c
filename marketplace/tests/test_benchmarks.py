"""The benchmark modules run end to end at tiny sizes (figures are never asserted)."""

import os
import re

import pytest
from django.conf import settings
from django.core.management import CommandError
from django.db import connection

from benchmarks import bids, browse, closing, fanout, pages
from marketplace.models import AuctionListing, Bid, FixedPriceListing, Order


class Lines(list):
    """Collects what a benchmark writes, one entry per write()."""

    def write(self, text: str) -> None:
        self.append(text)

    def rows(self) -> list[list[str]]:
        """Cells of the Markdown tables' rows, headers left out (a header precedes `|---`)."""
        lines = [line for text in self for line in text.splitlines()]
        table = [
            line
            for line, after in zip(lines, [*lines[1:], ""], strict=True)
            if line.startswith("| ") and not after.startswith("|---")
        ]
        return [[cell.strip() for cell in line.strip("|").split("|")] for line in table]


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
@pytest.mark.parametrize(
    ("watchers", "bids", "interval", "shown", "processes"),
    [
        ("4", 3, 50, "12 / 12", {}),
        # Back to back: bursts go out as fewer events, each showing all of its bids.
        ("3", 10, 0, "30 / 30", {}),
        # Watchers spread over two Daphnes (each hears the event once, through Redis) and
        # connected from two client processes.
        ("5", 3, 50, "15 / 15", {"daphnes": 2, "clients": 2}),
    ],
)
def test_fanout_benchmark_shows_every_bid_on_every_watchers_page(
    watchers, bids, interval, shown, processes
):
    require_redis()
    out = Lines()

    fanout.main(out, watchers=watchers, bids=bids, interval=interval, **processes)

    (row,) = out.rows()
    assert row[3] == shown
    assert row[8] == "0"  # no lost bid, gap or final page unlike the database


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_bid_benchmark_measures_a_baseline_checkout_beside_this_one():
    require_redis()
    out = Lines()

    # This checkout stands in for the earlier one (the option takes any checkout's path).
    bids.main(out, seconds=1, bidders="1", paths="websocket", baseline=str(settings.BASE_DIR))

    assert [row[0] for row in out.rows()] == ["websocket", "websocket-baseline"]
    assert all(int(row[2]) > 0 for row in out.rows())


@pytest.mark.postgres
@pytest.mark.django_db
def test_closing_benchmark_closes_each_auction_once():
    out = Lines()

    closing.main(out, size=10, workers=0)

    (row,) = out.rows()
    assert row[2] == "10"  # closed by the task
    assert row[9] == "0"  # a second run finds nothing left
    assert Order.objects.count() == 5
    assert re.match(r"5 \(5\)", row[3])


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)  # the cluster reads what this process wrote
def test_closing_benchmark_shares_a_backlog_with_a_qcluster(monkeypatch):
    from marketplace import tasks

    monkeypatch.setattr(tasks, "CLOSE_SHARE", 4)
    out = Lines()

    closing.main(out, size=10, workers=1)

    (row,) = out.rows()
    assert row[1] == "1"  # workers
    assert row[2] == "4"  # the task's own share; the cluster closed the other 6
    assert row[9] == "0"
    assert Order.objects.count() == 5
    assert not AuctionListing.objects.due_to_close().exists()


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)  # the seeding ends with VACUUM ANALYZE
def test_browse_benchmark_times_every_kind_of_search_and_the_price_sorts(monkeypatch):
    monkeypatch.setenv("BENCH_ANY_DATABASE", "1")
    out = Lines()

    browse.main(out, products=300, requests=2)

    labels = [row[0] for row in out.rows()]
    assert labels[:5] == [f"search: {kind}" for kind in browse.SEARCH_KINDS]
    # One table with the page cache as deployed, one timing the render with it off, and one
    # drawing every card afresh too.
    assert labels.count("browse: everything, price sort") == 3
    assert "every card drawn afresh" in "".join(out)
    assert all(row[1] == "2" for row in out.rows())
    assert FixedPriceListing.objects.filter(sale_percent__isnull=False).exists()


@pytest.mark.postgres  # the pages benchmark seeds with the browse benchmark's PostgreSQL data
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
