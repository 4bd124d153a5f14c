"""The staff dashboard: who may open it and what its numbers mean."""

from datetime import datetime, timedelta
from decimal import Decimal
from itertools import pairwise

import pytest
from django.urls import reverse
from django.utils import timezone

from marketplace.admin.dashboard import daily_sales, dashboard_context
from marketplace.models import Complaint, Order
from marketplace.services.complaints import file_complaint
from marketplace.tests.factories.accounts import UserFactory
from marketplace.tests.factories.fulfilment import paid_order
from marketplace.tests.factories.orders import listing_by, order_for

pytestmark = pytest.mark.django_db

URL = "/admin/dashboard/"


@pytest.fixture
def staff(db):
    return UserFactory(username="sana", is_staff=True, is_superuser=True)


def test_the_dashboard_lives_under_admin_and_is_linked_from_the_admin_index(client, staff):
    client.force_login(staff)

    assert reverse("staff_dashboard") == URL
    assert URL in client.get(reverse("admin:index")).content.decode()


def test_staff_open_the_dashboard(client, staff):
    client.force_login(staff)

    response = client.get(URL)

    assert response.status_code == 200
    assert "<svg" in response.content.decode()


def test_a_regular_user_is_sent_to_the_admin_log_in(client, buyer):
    client.force_login(buyer)

    response = client.get(URL)

    assert response.status_code == 302
    assert response.url.startswith(reverse("admin:login"))


def test_an_anonymous_visitor_is_sent_to_the_admin_log_in(client):
    response = client.get(URL)

    assert response.status_code == 302
    assert response.url.startswith(reverse("admin:login"))


def test_gmv_and_fees_count_orders_paid_in_each_period(seller, buyer, settings):
    settings.PLATFORM_FEE_RATE = Decimal("0.02")
    today = paid_order(seller, buyer, price="1000.00")
    last_week = paid_order(seller, buyer, price="2000.00")
    last_month = paid_order(seller, buyer, price="4000.00")
    order_for(buyer, listing_by(seller, price="8000.00"))  # never paid: not a sale
    now = timezone.now()
    Order.objects.filter(pk=today.pk).update(paid_at=now)
    Order.objects.filter(pk=last_week.pk).update(paid_at=now - timedelta(days=3))
    Order.objects.filter(pk=last_month.pk).update(paid_at=now - timedelta(days=20))

    day, week, month = dashboard_context(now)["periods"]

    assert (day.orders, day.gmv, day.fees) == (1, Decimal("1000.00"), Decimal("20.00"))
    assert (week.orders, week.gmv, week.fees) == (2, Decimal("3000.00"), Decimal("60.00"))
    assert (month.orders, month.gmv, month.fees) == (3, Decimal("7000.00"), Decimal("140.00"))


def test_refunded_orders_are_not_counted_as_sales(seller, buyer):
    order = paid_order(seller, buyer, price="1000.00")
    Order.objects.filter(pk=order.pk).update(status=Order.Status.REFUNDED)

    assert dashboard_context()["periods"][2].gmv == Decimal("0.00")


def test_the_fee_is_rounded_per_order_like_the_payments_code(seller, buyer, settings):
    settings.PLATFORM_FEE_RATE = Decimal("0.02")
    paid_order(seller, buyer, price="10.25")  # 0.205 -> 0.21
    paid_order(seller, buyer, price="10.25")

    assert dashboard_context()["periods"][0].fees == Decimal("0.42")


def test_the_chart_has_one_bar_per_day_and_the_tallest_is_the_best_day(seller, buyer):
    paid_order(seller, buyer, price="5000.00")

    bars = dashboard_context()["bars"]

    assert len(bars) == 30
    assert bars[-1].gmv == Decimal("5000.00")
    assert bars[-1].height == max(bar.height for bar in bars)


@pytest.mark.parametrize("day_of_month", [1, 2, 15, 30, 31])
def test_the_chart_labels_one_day_a_week_so_the_dates_never_overlap(day_of_month):
    now = timezone.make_aware(datetime(2026, 12, day_of_month, 12))

    bars = daily_sales(now)

    labelled = [index for index, bar in enumerate(bars) if bar.labelled]
    assert labelled[-1] == len(bars) - 1  # today always has its date
    gaps = [b - a for a, b in pairwise(labelled)]
    assert gaps and min(gaps) == 7
    # "28 Nov" is about 40 units wide at font-size 11; labels sit 7 slots (140 units) apart.
    assert min(bars[b].x - bars[a].x for a, b in pairwise(labelled)) > 100


def test_overdue_blocked_and_open_complaints_are_counted(seller, buyer, outsider):
    late = order_for(buyer, listing_by(seller))
    Order.objects.filter(pk=late.pk).update(payment_deadline=timezone.now() - timedelta(hours=1))
    order_for(buyer, listing_by(seller))  # still within its deadline
    outsider.block("Did not pay three times")
    file_complaint(user=buyer, category="other", subject="A", description="B")
    closed = file_complaint(user=buyer, category="other", subject="C", description="D")
    Complaint.objects.filter(pk=closed.pk).update(status=Complaint.Status.CLOSED)

    context = dashboard_context()

    assert context["overdue_count"] == 1
    assert context["blocked_count"] == 1
    assert context["open_complaints"] == 1
    statuses = {status: count for status, _label, count in context["orders_by_status"]}
    assert statuses["awaiting_payment"] == 2


def test_the_dashboard_links_to_the_block_withdraw_and_refund_actions(client, staff):
    client.force_login(staff)

    page = client.get(URL).content.decode()

    for name in ("user", "product", "order", "complaint"):
        assert reverse(f"admin:marketplace_{name}_changelist") in page


def test_the_dashboard_shows_sellers_money_fees_and_payouts_due(client, staff, settings):
    """Issue 14: held for sellers, available, payouts drafted, fees earned."""
    from marketplace.services import ledger, payout_batches
    from marketplace.tests.factories.ledger import bank_method, deliver, sold

    settings.PAYOUT_MINIMUM = 1000
    seller, buyer = UserFactory(username="amina"), UserFactory(username="bilal")
    deliver(sold(seller, buyer, "2500.00"), days_ago=8)
    ledger.release_due()
    bank_method(seller)
    payout_batches.draft_payout_batch()
    sold(seller, buyer, "4000.00")
    client.force_login(staff)

    figures = dashboard_context()["ledger"]
    page = client.get(URL).content.decode()

    assert figures == {
        "pending": Decimal("3920.00"),
        "available": Decimal("0.00"),
        "fees": Decimal("130.00"),
        "payouts_due": Decimal("2450.00"),
    }
    assert 'id="ledger-money"' in page
    assert "Rs 3,920" in page and "Rs 2,450" in page and "Rs 130" in page
