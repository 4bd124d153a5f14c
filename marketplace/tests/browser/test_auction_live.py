"""Live bidding in Chromium: two bidders on one auction page, updates without reload.

Under CI the Daphne subprocess and these tests share PostgreSQL and Redis; locally Daphne runs
on the SQLite test file with its in-memory channel layer (every bid goes through that one
process, so broadcasts still reach both pages).
"""

import re
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from marketplace.models import AuctionListing
from marketplace.money import format_pkr
from marketplace.pricing import bid_increment
from marketplace.tests.auction_helpers import bid, make_auction
from marketplace.tests.browser.conftest import PHONE, login_as, overflows_horizontally

# The pages have no polling: whatever reaches the *other* page came over its WebSocket. These
# waits are generous on purpose (CI shares two cores between Chromium, Daphne, PostgreSQL and
# the test workers); how fast a bid reaches watchers is measured by `make bench`, not here.
LIVE = 10_000  # ms: a bid reaches the other page, without a reload
OWN = 10_000  # ms: the bidder's own page waits for its HTMX answer
PAGE_LOAD = 10_000


@pytest.fixture
def new_context(browser, live_url):
    """`new_context(user, **args)`: a browser context logged in as `user`, closed after the test.

    Closing matters: an open auction page keeps its socket and timers, and must not touch the
    server while the next test's database is being reset.
    """
    contexts = []

    def make(user=None, **context_args):
        context = browser.new_context(base_url=live_url, **context_args)
        contexts.append(context)
        if user is not None:
            login_as(context, live_url, user)
        return context

    yield make
    for context in contexts:
        context.close()


@pytest.fixture
def open_auction(new_context):
    """`open_auction(user, auction)`: that user's page on the auction, its socket connected."""

    def open_page(user, auction, **context_args):
        page = new_context(user, **context_args).new_page()
        page.goto(f"/auctions/{auction.pk}/")
        expect(page.locator("#auction[data-ws-state=open]")).to_have_count(1, timeout=PAGE_LOAD)
        return page

    return open_page


def place_bid(page, amount: str) -> None:
    form = page.locator("#bid-form")
    form.get_by_label("Your bid (Rs)").fill(amount)
    form.get_by_role("button", name="Place bid").click()


def seconds_left(page) -> int:
    text = page.locator("[data-countdown]").inner_text()
    hours, minutes, seconds = (int(part) for part in text.split()[-1].split(":"))
    return hours * 3600 + minutes * 60 + seconds


def ends_at(page) -> datetime:
    return datetime.fromisoformat(page.locator("#bid-panel").get_attribute("data-ends-at"))


def test_a_bid_in_one_browser_appears_in_the_other_without_a_reload(
    open_auction, seller, buyer, rival, screenshot
):
    auction = make_auction(seller, starting_price="1000", title="Multani blue pottery vase")
    bilal = open_auction(buyer, auction)
    rabia = open_auction(rival, auction)
    expect(rabia.locator("#bid-panel-count")).to_have_text("0 bids")
    rabia.evaluate("window.sameDocument = true")  # gone if the page were reloaded

    place_bid(bilal, "1200")

    expect(rabia.locator("#bid-panel-price")).to_have_text("Rs 1,200", timeout=LIVE)
    expect(rabia.locator("#bid-panel-count")).to_have_text("1 bid", timeout=LIVE)
    expect(rabia.locator(".bid-history")).to_contain_text("b***l", timeout=LIVE)
    expect(rabia.locator("#bid-panel")).to_contain_text("Bid Rs 1,300 or more")
    expect(rabia.get_by_label("Your bid (Rs)")).to_have_attribute("placeholder", "1300.00")
    expect(bilal.locator("#bid-panel-price")).to_have_text("Rs 1,200", timeout=OWN)
    assert rabia.evaluate("window.sameDocument") is True
    screenshot(rabia, "watching")


def test_the_outbid_bidder_is_told_and_the_leader_is_told_they_lead(
    open_auction, seller, buyer, rival, screenshot
):
    auction = make_auction(seller, starting_price="1000")
    bilal = open_auction(buyer, auction)
    rabia = open_auction(rival, auction)

    place_bid(bilal, "1000")
    expect(rabia.locator("#bid-panel-count")).to_have_text("1 bid", timeout=LIVE)
    expect(bilal.get_by_text("You are leading")).to_be_visible(timeout=OWN)
    expect(rabia.get_by_text("You have been outbid")).to_be_hidden()

    place_bid(rabia, "1500")
    expect(bilal.get_by_text("You have been outbid")).to_be_visible(timeout=LIVE)
    expect(bilal.get_by_text("You are leading")).to_be_hidden()
    expect(rabia.get_by_text("You are leading")).to_be_visible(timeout=OWN)
    expect(bilal.locator("#bid-panel-price")).to_have_text("Rs 1,500")
    screenshot(bilal, "outbid")


def test_a_late_bid_moves_the_other_pages_countdown_later(open_auction, seller, buyer, rival):
    # Ends in 90 s: inside the 120 s soft-close window, so any bid extends it to now + 120 s.
    auction = make_auction(seller, starting_price="1000", ends_in=timedelta(seconds=90))
    rabia = open_auction(rival, auction)
    bilal = open_auction(buyer, auction)
    panel = rabia.locator("#bid-panel")
    before_attribute = panel.get_attribute("data-ends-at")
    before_end, before_left = ends_at(rabia), seconds_left(rabia)
    assert before_left <= 90

    place_bid(bilal, "1000")

    expect(panel).not_to_have_attribute("data-ends-at", before_attribute, timeout=LIVE)
    assert ends_at(rabia) > before_end
    expect(rabia.locator("[data-countdown]")).to_have_text(re.compile(r"00:0[12]:\d\d"))
    assert seconds_left(rabia) > before_left
    auction.refresh_from_db()
    assert auction.original_ends_at is not None
    assert abs(ends_at(rabia) - auction.ends_at) < timedelta(seconds=1)


def test_an_auction_shows_ended_by_itself_at_its_end_time(open_auction, seller, buyer):
    auction = make_auction(seller, starting_price="1000")
    bid(auction, buyer, "1000")
    # Bring the end near after bidding (a bid this late would have extended it).
    AuctionListing.objects.filter(pk=auction.pk).update(
        ends_at=timezone.now() + timedelta(seconds=6)
    )
    auction.refresh_from_db()
    bilal = open_auction(buyer, auction)
    expect(bilal.locator("[data-ended-note]")).to_be_hidden()
    expect(bilal.get_by_text("You are leading")).to_be_visible()
    expect(bilal.get_by_label("Your bid (Rs)")).to_be_enabled()

    expect(bilal.locator("[data-countdown]")).to_have_text("Ended", timeout=PAGE_LOAD)

    # Not before the end (the page counts by the server's clock; a little slack for rounding).
    assert timezone.now() >= auction.ends_at - timedelta(seconds=1)
    expect(bilal.locator("[data-ended-note]")).to_be_visible()
    expect(bilal.get_by_text("This auction has ended.")).to_be_visible()
    expect(bilal.get_by_text("The result follows shortly.")).to_be_visible()
    expect(bilal.get_by_text("You are leading")).to_be_hidden()
    # The bid form is gone: its fields are removed and "Bidding is closed." shows instead.
    expect(bilal.get_by_text("Bidding is closed.")).to_be_visible()
    expect(bilal.get_by_label("Your bid (Rs)")).to_have_count(0)
    expect(bilal.get_by_role("button", name="Place bid")).to_have_count(0)
    # The closing job has not run: the page needed no server event to show the end.
    assert AuctionListing.objects.get(pk=auction.pk).status == AuctionListing.Status.LIVE


def test_without_javascript_a_bid_goes_through_the_plain_form(new_context, seller, buyer, rival):
    auction = make_auction(seller, starting_price="1000")
    bid(auction, rival, "1000")
    page = new_context(buyer, java_script_enabled=False).new_page()
    page.goto(f"/auctions/{auction.pk}/")
    assert page.locator("#auction").get_attribute("data-ws-state") is None

    place_bid(page, "1100")

    expect(page.get_by_text("Your bid is in: you are the highest bidder.")).to_be_visible()
    expect(page.locator("#bid-panel-price")).to_have_text("Rs 1,100")
    expect(page.locator("#bid-panel-count")).to_have_text("2 bids")
    expect(page.get_by_text("You are leading")).to_be_visible()
    assert page.url.endswith(f"/auctions/{auction.pk}/")


def test_without_javascript_a_too_low_bid_is_refused_in_place(new_context, seller, buyer):
    auction = make_auction(seller, starting_price="1000")
    page = new_context(buyer, java_script_enabled=False).new_page()
    page.goto(f"/auctions/{auction.pk}/")

    place_bid(page, "500")

    expect(page.locator("#bid-form .alert-danger")).to_have_text("Bid at least Rs 1,000.")
    expect(page.locator("#bid-panel-count")).to_have_text("0 bids")


def test_the_auction_page_fits_a_phone(open_auction, seller, buyer, rival, screenshot):
    auction = make_auction(seller, starting_price="45000", reserve_price="60000")
    bid(auction, rival, "45000")
    page = open_auction(buyer, auction, viewport=PHONE)
    expect(page.locator("#bid-panel")).to_contain_text("Reserve not met")
    assert not overflows_horizontally(page)
    screenshot(page, "auction")


def test_a_winner_sees_the_result_by_itself_without_any_live_event(
    open_auction, seller, buyer, monkeypatch
):
    """Under `make run` the worker's auction_ended cannot reach Daphne's in-memory layer: the
    page fetches its final panel over HTTP. Here no event is sent at all, whatever the layer."""
    from marketplace import realtime, tasks

    auction = make_auction(seller, starting_price="1000")
    bid(auction, buyer, "1000")
    AuctionListing.objects.filter(pk=auction.pk).update(
        ends_at=timezone.now() + timedelta(seconds=4)
    )
    bilal = open_auction(buyer, auction)
    expect(bilal.get_by_text("The result follows shortly.")).to_be_visible(timeout=PAGE_LOAD)
    # A few refetches find it still live; the closing job runs later, silently.
    bilal.wait_for_timeout(4000)
    monkeypatch.setattr(realtime, "watched_auctions", lambda auction_ids: set())
    # In a thread of its own: Playwright's event loop lives in this one (async_to_sync).
    with ThreadPoolExecutor(1) as executor:
        assert executor.submit(tasks.check_auction_endings).result() == 1

    expect(bilal.get_by_text("You won this auction.")).to_be_visible(timeout=12_000)
    expect(bilal.get_by_role("link", name="Pay for it from My bids")).to_be_visible()
    refetches = bilal.locator("#auction").get_attribute("data-refetches")
    bilal.wait_for_timeout(3000)
    # Closed: the page stopped asking.
    assert bilal.locator("#auction").get_attribute("data-refetches") == refetches


# Lets a test play the server's part on the page's socket (dispatching messages to it).
CAPTURE_SOCKETS = """
window.__sockets = [];
const NativeWebSocket = window.WebSocket;
window.WebSocket = function (...args) {
  const socket = new NativeWebSocket(...args);
  window.__sockets.push(socket);
  return socket;
};
window.WebSocket.prototype = NativeWebSocket.prototype;
"""

GAP_EVENTS = """(count) => {
  const socket = window.__sockets[window.__sockets.length - 1];
  for (let i = 1; i <= count; i++) {
    const event = {type: "new_bid", seq: 100 + i, prev_seq: 99 + i, html: "", data: {}};
    socket.dispatchEvent(new MessageEvent("message", {data: JSON.stringify(event)}));
  }
}"""


def test_missed_events_refetch_one_at_a_time_coalesced(new_context, seller, buyer):
    auction = make_auction(seller, starting_price="1000")
    context = new_context(buyer)
    context.add_init_script(CAPTURE_SOCKETS)
    page = context.new_page()
    held = []
    page.route(re.compile(r"/auctions/\d+/panel/$"), lambda route: held.append(route))
    page.goto(f"/auctions/{auction.pk}/")
    expect(page.locator("#auction[data-ws-state=open]")).to_have_count(1, timeout=PAGE_LOAD)

    # Thirty events each showing a gap while the first refetch is on its way: one request.
    page.evaluate(GAP_EVENTS, 30)
    page.wait_for_timeout(500)
    assert len(held) == 1
    # When it answers, exactly one more follows for everything missed meanwhile.
    held.pop().continue_()
    page.wait_for_timeout(1000)
    assert len(held) == 1
    held.pop().continue_()
    page.wait_for_timeout(1000)
    assert held == []
    assert page.locator("#auction").get_attribute("data-refetches") == "2"
    expect(page.locator("#bid-panel-count")).to_have_text("0 bids")


RACE_ROUNDS = 8


def test_an_own_bids_answer_arriving_after_a_newer_broadcast_leaves_the_newer_panel(
    open_auction, seller, buyer, rival
):
    """The bidder's own answer (HTMX, with #bid-panel out of band) and the broadcasts come
    in either order (issue 19: broadcasts leave the bid's path). Each round holds Bilal's
    answer back until Rabia's higher bid has reached his page, then lets it in: his page must
    keep the newer panel, and both pages end every round showing the database's state."""
    auction = make_auction(seller, starting_price="1000")
    bilal = open_auction(buyer, auction)
    rabia = open_auction(rival, auction)
    held = []
    bilal.route(
        re.compile(r"/auctions/\d+/bid/$"), lambda route: held.append((route, route.fetch()))
    )
    for _round in range(RACE_ROUNDS):
        auction.refresh_from_db()
        low = auction.minimum_next_bid()
        high = low + bid_increment(low)
        place_bid(bilal, str(low))
        for _wait in range(100):  # the bid reaches the server; its answer is held
            if held:
                break
            bilal.wait_for_timeout(50)
        assert len(held) == 1
        with rabia.expect_response(re.compile(r"/auctions/\d+/bid/$")):
            place_bid(rabia, str(high))
        auction.refresh_from_db()
        assert auction.current_price == high
        newest = str(auction.bid_count)
        expect(bilal.locator("#bid-panel")).to_have_attribute("data-seq", newest, timeout=LIVE)
        route, response = held.pop()
        route.fulfill(response=response)
        expect(bilal.locator("#bid-form [role=status]")).to_be_visible(timeout=OWN)
        for page in (bilal, rabia):
            expect(page.locator("#bid-panel")).to_have_attribute("data-seq", newest, timeout=LIVE)
            expect(page.locator("#bid-panel-price")).to_have_text(format_pkr(high))
        expect(bilal.get_by_text("You have been outbid")).to_be_visible()
    assert AuctionListing.objects.get(pk=auction.pk).bid_count == 2 * RACE_ROUNDS
