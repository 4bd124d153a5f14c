"""Rules of place_bid: every refusal, proxy bidding, ties, soft close, counters."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from marketplace.exceptions import BidRejected
from marketplace.models import AuctionListing, Bid, Notification
from marketplace.pricing import bid_increment
from marketplace.services.bidding import place_bid
from marketplace.tests.auction_helpers import (
    amounts,
    assert_counters_match_bids,
    bid,
    make_auction,
)
from marketplace.tests.factories.accounts import UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def auction(seller):
    return make_auction(seller, starting_price="1000")


def rejected_code(auction, user, amount, max_amount=None) -> str:
    with pytest.raises(BidRejected) as info:
        bid(auction, user, amount, max_amount)
    return info.value.code


# --- Refusals -----------------------------------------------------------------------------


def test_first_bid_at_the_starting_price_is_accepted(auction, buyer):
    result = bid(auction, buyer, "1000")
    assert result.is_leading
    assert result.current_price == Decimal("1000")
    assert result.minimum_next_bid == Decimal("1100")  # 1,000 is in the Rs 100 band


def test_first_bid_below_the_starting_price_is_too_low(auction, buyer):
    assert rejected_code(auction, buyer, "999") == "too_low"


def test_bid_below_current_price_plus_increment_is_too_low(auction, buyer, rival):
    bid(auction, buyer, "1000")
    assert rejected_code(auction, rival, "1049") == "too_low"


def test_too_low_message_names_the_minimum(auction, buyer):
    with pytest.raises(BidRejected) as info:
        bid(auction, buyer, "500")
    assert "1,000" in info.value.message


def test_seller_cannot_bid_on_own_auction(auction, seller):
    assert rejected_code(auction, seller, "5000") == "own_auction"


def test_blocked_bidder_is_refused(auction, buyer):
    buyer.block("Did not pay for three orders")
    assert rejected_code(auction, buyer, "1000") == "blocked"


def test_block_state_is_reread_not_taken_from_the_stale_user_object(auction, buyer):
    stale = type(buyer).objects.get(pk=buyer.pk)  # as a socket loaded it at connect time
    buyer.block("Unpaid orders")
    assert rejected_code(auction, stale, "1000") == "blocked"


def test_anonymous_bidder_is_refused(auction):
    from django.contrib.auth.models import AnonymousUser

    assert rejected_code(auction, AnonymousUser(), "1000") == "login_required"


def test_auction_past_its_end_is_closed_even_before_the_closing_job(seller, buyer):
    auction = make_auction(seller, ends_in=timedelta(seconds=-1))
    assert auction.status == AuctionListing.Status.LIVE
    assert rejected_code(auction, buyer, "1000") == "auction_closed"


def test_ended_auction_is_closed(auction, buyer):
    AuctionListing.objects.filter(pk=auction.pk).update(status=AuctionListing.Status.ENDED_UNSOLD)
    assert rejected_code(auction, buyer, "1000") == "auction_closed"


def test_cancelled_auction_is_closed(auction, buyer):
    AuctionListing.objects.filter(pk=auction.pk).update(status=AuctionListing.Status.CANCELLED)
    assert rejected_code(auction, buyer, "1000") == "auction_closed"


def test_auction_not_started_yet_is_refused(auction, buyer):
    AuctionListing.objects.filter(pk=auction.pk).update(
        starts_at=timezone.now() + timedelta(hours=1)
    )
    assert rejected_code(auction, buyer, "1000") == "not_started"


def test_unknown_auction_is_refused(buyer):
    with pytest.raises(BidRejected) as info:
        place_bid(auction_id=999_999, bidder=buyer, amount=Decimal("1000"))
    assert info.value.code == "not_found"


@pytest.mark.parametrize("amount", [Decimal("0"), Decimal("-5"), Decimal("10.001"), Decimal("NaN")])
def test_malformed_amount_is_invalid(auction, buyer, amount):
    with pytest.raises(BidRejected) as info:
        place_bid(auction_id=auction.pk, bidder=buyer, amount=amount)
    assert info.value.code == "invalid_amount"


def test_float_amount_is_invalid(auction, buyer):
    with pytest.raises(BidRejected) as info:
        place_bid(auction_id=auction.pk, bidder=buyer, amount=1000.0)
    assert info.value.code == "invalid_amount"


def test_amount_above_max_price_is_refused(auction, buyer, settings):
    assert rejected_code(auction, buyer, str(settings.MAX_PRICE + 1)) == "too_high"


def test_maximum_below_the_bid_is_refused(auction, buyer):
    assert rejected_code(auction, buyer, "2000", "1500") == "max_below_amount"


def test_refused_bid_changes_nothing(auction, buyer, rival):
    bid(auction, buyer, "1000")
    rejected_code(auction, rival, "1010")
    assert_counters_match_bids(auction)
    assert auction.bid_count == 1


# --- Increments ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("price", "step"),
    [
        ("0.01", "50"),
        ("999.99", "50"),
        ("1000", "100"),
        ("4999", "100"),
        ("5000", "500"),
        ("24999", "500"),
        ("25000", "1000"),
        ("99999", "1000"),
        ("100000", "2500"),
        ("5000000", "2500"),
    ],
)
def test_increment_table_by_price_band(price, step):
    assert bid_increment(Decimal(price)) == Decimal(step)


def test_minimum_next_bid_follows_the_band_of_the_current_price(seller, buyer, rival):
    auction = make_auction(seller, starting_price="4900")
    result = bid(auction, buyer, "5000")
    assert result.minimum_next_bid == Decimal("5500")
    assert rejected_code(auction, rival, "5499") == "too_low"
    assert bid(auction, rival, "5500").is_leading


# --- Proxy bidding ------------------------------------------------------------------------


def test_proxy_answers_a_lower_challenger_one_increment_above(auction, buyer, rival):
    bid(auction, buyer, "1000", max_amount="3000")
    result = bid(auction, rival, "1500")
    assert not result.is_leading
    assert result.current_price == Decimal("1600")
    assert amounts(auction) == [
        ("bilal", Decimal("1000"), False),
        ("rabia", Decimal("1500"), False),
        ("bilal", Decimal("1600"), True),
    ]
    auction.refresh_from_db()
    assert auction.leading_bid.bidder == buyer
    assert_counters_match_bids(auction)


def test_proxy_reply_is_capped_at_the_leaders_maximum(auction, buyer, rival):
    bid(auction, buyer, "1000", max_amount="1550")
    result = bid(auction, rival, "1500")
    assert result.current_price == Decimal("1550")
    assert not result.is_leading


def test_tie_goes_to_the_earlier_maximum(auction, buyer, rival):
    bid(auction, buyer, "1000", max_amount="2000")
    result = bid(auction, rival, "2000")
    assert not result.is_leading
    auction.refresh_from_db()
    assert auction.current_price == Decimal("2000")
    assert auction.leading_bid.bidder == buyer
    assert_counters_match_bids(auction)


def test_challenger_above_the_maximum_leads_by_one_increment(auction, buyer, rival):
    bid(auction, buyer, "1000", max_amount="2000")
    result = bid(auction, rival, "1100", max_amount="5000")
    assert result.is_leading
    assert result.current_price == Decimal("2100")
    assert amounts(auction) == [
        ("bilal", Decimal("1000"), False),
        ("bilal", Decimal("2000"), True),
        ("rabia", Decimal("2100"), True),
    ]
    assert_counters_match_bids(auction)


def test_challenger_bid_above_maximum_plus_increment_is_taken_as_entered(auction, buyer, rival):
    bid(auction, buyer, "1000", max_amount="2000")
    result = bid(auction, rival, "3000")
    assert result.current_price == Decimal("3000")
    assert result.is_leading


def test_challenger_maximum_just_above_leaders_wins_at_its_own_maximum(auction, buyer, rival):
    bid(auction, buyer, "1000", max_amount="2000")
    result = bid(auction, rival, "1100", max_amount="2050")
    assert result.is_leading
    assert result.current_price == Decimal("2050")


def test_two_proxies_fight_up_to_the_lower_maximum(auction, buyer, rival, outsider):
    bid(auction, buyer, "1000", max_amount="4000")
    bid(auction, rival, "1100", max_amount="6000")
    auction.refresh_from_db()
    assert auction.current_price == Decimal("4100")
    result = bid(auction, outsider, "4200", max_amount="5000")
    assert not result.is_leading
    auction.refresh_from_db()
    assert auction.current_price == Decimal("5500")  # 5000 + the 500 step of its band
    assert auction.leading_bid.bidder == rival
    assert_counters_match_bids(auction)


def test_leader_raising_own_maximum_does_not_bid_against_themselves(auction, buyer):
    bid(auction, buyer, "1000", max_amount="2000")
    result = bid(auction, buyer, "1100", max_amount="5000")
    assert result.is_leading
    assert result.bid_id is None
    assert not result.bid_placed
    assert result.raised_maximum == Decimal("5000")
    assert result.current_price == Decimal("1000")
    auction.refresh_from_db()
    assert auction.bid_count == 1
    assert auction.leading_max_amount == Decimal("5000")


def test_raised_maximum_is_used_against_the_next_challenger(auction, buyer, rival):
    bid(auction, buyer, "1000", max_amount="2000")
    bid(auction, buyer, "1100", max_amount="5000")
    result = bid(auction, rival, "3000")
    assert not result.is_leading
    assert result.current_price == Decimal("3100")


def test_leader_lowering_their_maximum_is_refused(auction, buyer):
    bid(auction, buyer, "1000", max_amount="2000")
    assert rejected_code(auction, buyer, "1500") == "already_leading"


def test_every_bid_in_a_proxy_war_is_not_below_the_one_before(auction, buyer, rival, outsider):
    bid(auction, buyer, "1000", max_amount="2500")
    bid(auction, rival, "1200", max_amount="2400")
    bid(auction, outsider, "2600", max_amount="9000")
    bid(auction, buyer, "9000")
    bid(auction, rival, "12000")
    values = [amount for _, amount, _ in amounts(auction)]
    assert values == sorted(values)
    assert_counters_match_bids(auction)


def test_outbid_leader_is_notified_once(auction, buyer, rival):
    bid(auction, buyer, "1000")
    bid(auction, rival, "1100")
    notices = Notification.objects.filter(user=buyer, kind=Notification.Kind.OUTBID)
    assert notices.count() == 1
    assert "/auctions/" in notices.get().url


def test_challenger_beaten_by_proxy_at_once_is_notified(auction, buyer, rival):
    bid(auction, buyer, "1000", max_amount="5000")
    bid(auction, rival, "1100")
    assert Notification.objects.filter(user=rival, kind=Notification.Kind.OUTBID).exists()
    assert not Notification.objects.filter(user=buyer).exists()


# --- Soft close ---------------------------------------------------------------------------


def test_bid_in_the_last_minutes_extends_the_end(seller, buyer, settings):
    settings.AUCTION_SOFT_CLOSE_WINDOW_SECONDS = 120
    settings.AUCTION_SOFT_CLOSE_EXTENSION_SECONDS = 120
    auction = make_auction(seller, ends_in=timedelta(seconds=30))
    before = timezone.now()
    result = bid(auction, buyer, "1000")
    assert result.extended
    assert result.ends_at >= before + timedelta(seconds=120)
    auction.refresh_from_db()
    assert auction.ends_at == result.ends_at
    assert auction.original_ends_at is not None


def test_bid_well_before_the_end_does_not_extend(auction, buyer):
    ends_at = auction.ends_at
    result = bid(auction, buyer, "1000")
    assert not result.extended
    auction.refresh_from_db()
    assert auction.ends_at == ends_at


def test_soft_close_numbers_are_settings(seller, buyer, settings):
    settings.AUCTION_SOFT_CLOSE_WINDOW_SECONDS = 600
    settings.AUCTION_SOFT_CLOSE_EXTENSION_SECONDS = 900
    auction = make_auction(seller, ends_in=timedelta(minutes=8))
    before = timezone.now()
    result = bid(auction, buyer, "1000")
    assert result.extended
    assert result.ends_at >= before + timedelta(seconds=900)


# --- Counters and side effects ------------------------------------------------------------


def test_counters_and_display_price_follow_every_bid(auction, buyer, rival):
    for user, amount in [(buyer, "1000"), (rival, "1100"), (buyer, "1500"), (rival, "2000")]:
        bid(auction, user, amount)
        assert_counters_match_bids(auction)
    assert Bid.objects.filter(auction=auction).count() == 4


def test_broadcast_is_sent_only_after_commit(
    auction, buyer, django_capture_on_commit_callbacks, monkeypatch
):
    sent = []
    monkeypatch.setattr(
        "marketplace.realtime._send_change",
        lambda change: sent.append((change.auction.pk, change.prev_seq, change.seq)),
    )
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        bid(auction, buyer, "1000")
    assert sent == []
    for callback in callbacks:
        callback()
    assert sent == [(auction.pk, 0, 1)]


def test_many_bidders_keep_counters_consistent(auction):
    users = [UserFactory() for _ in range(5)]
    price = Decimal("1000")
    for _ in range(4):
        for user in users:
            bid(auction, user, str(price))
            price += bid_increment(price)
        assert_counters_match_bids(auction)
    assert auction.bid_count == 20


def test_broker_or_channel_layer_down_does_not_fail_a_committed_bid(
    auction, buyer, rival, django_capture_on_commit_callbacks, monkeypatch
):
    def down(*args, **kwargs):
        raise ConnectionError("redis is down")

    monkeypatch.setattr("marketplace.services.notifications.async_task", down)
    monkeypatch.setattr("marketplace.realtime.get_channel_layer", down)
    bid(auction, buyer, "1000")
    with django_capture_on_commit_callbacks(execute=True):
        result = bid(auction, rival, "1100")  # outbids: queues an e-mail and a broadcast
    assert result.is_leading
    assert Notification.objects.filter(user=buyer, emailed_at__isnull=True).exists()


# --- Reserve and proxy maximums -----------------------------------------------------------


@pytest.fixture
def reserved(seller):
    return make_auction(seller, starting_price="1000", reserve_price="5000")


def test_maximum_reaching_the_reserve_lifts_the_price_to_it(reserved, buyer):
    result = bid(reserved, buyer, "1000", max_amount="8000")
    assert result.current_price == Decimal("5000")
    reserved.refresh_from_db()
    assert reserved.reserve_met
    assert reserved.leading_max_amount == Decimal("8000")


def test_maximum_below_the_reserve_leaves_the_price_alone(reserved, buyer):
    result = bid(reserved, buyer, "1000", max_amount="4000")
    assert result.current_price == Decimal("1000")
    reserved.refresh_from_db()
    assert not reserved.reserve_met


def test_leader_raising_maximum_past_the_reserve_lifts_the_price(reserved, buyer):
    bid(reserved, buyer, "1000")
    result = bid(reserved, buyer, "1100", max_amount="6000")
    assert result.current_price == Decimal("5000")
    assert result.bid_id is not None
    assert_counters_match_bids(reserved)
    assert reserved.reserve_met


def test_proxy_answer_lifts_to_the_reserve_when_the_leader_can(reserved, buyer, rival):
    bid(reserved, buyer, "1000", max_amount="4000")
    result = bid(reserved, rival, "1100", max_amount="6000")
    assert result.is_leading
    assert result.current_price == Decimal("5000")
    values = [amount for _, amount, _ in amounts(reserved)]
    assert values == sorted(values)
    assert_counters_match_bids(reserved)


# --- Minimums seen a moment ago -------------------------------------------------------------


@pytest.fixture
def committed_bid(django_capture_on_commit_callbacks):
    """Place a bid and run its after-commit work (what this process remembers included)."""

    def place(auction, user, amount):
        with django_capture_on_commit_callbacks(execute=True):
            return bid(auction, user, amount)

    return place


def test_a_bid_below_a_minimum_seen_a_moment_ago_is_refused_without_a_query(
    auction, buyer, rival, committed_bid, django_assert_num_queries
):
    committed_bid(auction, buyer, "1000")

    with django_assert_num_queries(0), pytest.raises(BidRejected) as info:
        bid(auction, rival, "1000")

    assert info.value.code == "too_low"
    assert "Rs 1,100" in str(info.value.message)  # 1,000 + the Rs 100 increment


def test_a_sighting_is_trusted_only_briefly(auction, buyer, rival, committed_bid, monkeypatch):
    committed_bid(auction, buyer, "1000")
    AuctionListing.objects.filter(pk=auction.pk).update(status=AuctionListing.Status.CANCELLED)
    assert rejected_code(auction, rival, "1000") == "too_low"  # within the second

    monkeypatch.setattr("marketplace.services.bid_floor.KNOWN_MINIMUM_SECONDS", 0)

    assert rejected_code(auction, rival, "1000") == "auction_closed"


def test_a_sighting_is_not_trusted_near_the_end(seller, buyer, rival, committed_bid, settings):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    settings.AUCTION_SOFT_CLOSE_WINDOW_SECONDS = 0  # the bid leaves the end where it is
    auction = make_auction(seller, starting_price="1000")
    AuctionListing.objects.filter(pk=auction.pk).update(
        ends_at=timezone.now() + timedelta(seconds=5)
    )
    committed_bid(auction, buyer, "1000")

    with CaptureQueriesContext(connection) as queries, pytest.raises(BidRejected) as info:
        bid(auction, rival, "1000")

    assert info.value.code == "too_low"
    assert len(queries) > 0  # judged from the database, not from what was remembered


def test_a_bid_rolled_back_leaves_no_minimum_behind(auction, buyer, rival):
    from django.db import transaction

    with pytest.raises(RuntimeError), transaction.atomic():
        bid(auction, buyer, "1000")
        raise RuntimeError("rolled back")

    result = bid(auction, rival, "1000")

    assert result.is_leading


def test_an_outbid_takes_one_locked_read_and_no_savepoint(
    auction, buyer, rival, committed_bid, django_assert_num_queries
):
    """With a fresh known minimum the bid is at or above, no unlocked read; the bidder's
    state and the clock come with the locked row; the outbid notice is a plain INSERT; on
    PostgreSQL the product's price is updated in the auction's statement (issue 19)."""
    from django.db import connection

    committed_bid(auction, buyer, "1000")
    statements = 4 if connection.vendor == "postgresql" else 5
    # Inside the test's transaction, place_bid's own BEGIN and COMMIT are a savepoint.
    with django_assert_num_queries(statements + 2) as captured:
        place_bid(auction_id=auction.pk, bidder=rival, amount=Decimal("1100"), limit_rate=False)
    sql = [query["sql"].upper() for query in captured.captured_queries]
    assert sql[0].startswith("SAVEPOINT") and sql[-1].startswith("RELEASE SAVEPOINT")
    body = sql[1:-1]
    assert not any("SAVEPOINT" in statement for statement in body)
    assert "JOIN MARKETPLACE_USER BIDDER" in body[0]  # the bidder's state, with the lock
    assert AuctionListing.objects.get(pk=auction.pk).product.display_price == Decimal("1100")
    assert Notification.objects.filter(user=buyer, kind=Notification.Kind.OUTBID).count() == 1
