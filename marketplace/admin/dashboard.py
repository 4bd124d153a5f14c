# --- Staff dashboard: the numbers staff check daily -----------------------------------------
"""`/admin/dashboard/`: GMV and fees, live auctions, orders by status, overdue payments,
blocked users, open complaints and a chart of daily sales. Read-only; staff only."""

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal

from django.contrib import admin
from django.db.models import Count
from django.http import HttpRequest, HttpResponse
from django.template.response import TemplateResponse
from django.urls import NoReverseMatch, reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from marketplace.models import AuctionListing, Complaint, Order, User
from marketplace.payments import platform_fee
from marketplace.services import reconciliation

CHART_DAYS = 30
CHART_WIDTH = 600
CHART_HEIGHT = 160
CHART_LABEL_EVERY = 7  # days between date labels: at 30 bars, 7 slots hold "28 Nov" apart

# Orders whose money the platform has taken (refunded ones gave it back).
SOLD = [Order.Status.PAID, Order.Status.SHIPPED, Order.Status.DELIVERED]


@dataclass
class Period:
    label: str
    orders: int
    gmv: Decimal
    fees: Decimal


@dataclass
class Bar:
    day: date
    gmv: Decimal
    x: float
    y: float
    height: float
    width: float
    labelled: bool = False  # a date under this bar: one a week, counted back from today


def _paid_between(start: datetime, end: datetime) -> list[tuple[datetime, Decimal, Decimal]]:
    """(paid at, total, items) of each order paid in the period."""
    return list(
        Order.objects.filter(status__in=SOLD, paid_at__gte=start, paid_at__lte=end).values_list(
            "paid_at", "total", "subtotal"
        )
    )


def _period(label: str, rows: list[tuple[datetime, Decimal, Decimal]]) -> Period:
    # The fee is per order (rounded per order, on its items), as the payments code charges it.
    return Period(
        label=label,
        orders=len(rows),
        gmv=sum((total for _paid, total, _items in rows), Decimal("0.00")),
        fees=sum((platform_fee(items) for _paid, _total, items in rows), Decimal("0.00")),
    )


def sales_periods(now: datetime) -> list[Period]:
    today = timezone.localtime(now).replace(hour=0, minute=0, second=0, microsecond=0)
    month_rows = _paid_between(today - timedelta(days=29), now)
    return [
        _period(str(_("Today")), [r for r in month_rows if r[0] >= today]),
        _period(
            str(_("Last 7 days")), [r for r in month_rows if r[0] >= today - timedelta(days=6)]
        ),
        _period(str(_("Last 30 days")), month_rows),
    ]


def daily_sales(now: datetime, days: int = CHART_DAYS) -> list[Bar]:
    """GMV per Pakistan-time day for the last `days` days, as bars of an inline SVG chart."""
    today = timezone.localdate(now)
    first = today - timedelta(days=days - 1)
    start = timezone.localtime(now).replace(hour=0, minute=0, second=0, microsecond=0)
    start -= timedelta(days=days - 1)
    totals = {first + timedelta(days=n): Decimal("0.00") for n in range(days)}
    for paid_at, total, _items in _paid_between(start, now):
        totals[timezone.localdate(paid_at)] += total
    peak = max(totals.values()) or Decimal(1)
    slot = CHART_WIDTH / days
    bars = []
    for index, (day, gmv) in enumerate(sorted(totals.items())):
        height = float(gmv / peak) * (CHART_HEIGHT - 10)
        bars.append(
            Bar(
                day=day,
                gmv=gmv,
                x=round(index * slot + 1, 1),
                y=round(CHART_HEIGHT - height, 1),
                height=round(height, 1),
                width=round(slot - 2, 1),
                labelled=(days - 1 - index) % CHART_LABEL_EVERY == 0,
            )
        )
    return bars


def dashboard_context(now: datetime | None = None) -> dict:
    now = now or timezone.now()
    by_status = dict(
        Order.objects.order_by()
        .values_list("status")
        .annotate(count=Count("pk"))
        .values_list("status", "count")
    )
    overdue = Order.objects.filter(
        status=Order.Status.AWAITING_PAYMENT, payment_deadline__lt=now
    ).select_related("buyer", "seller")
    blocked = User.objects.filter(blocked_at__isnull=False).order_by("-blocked_at")
    return {
        "periods": sales_periods(now),
        "bars": daily_sales(now),
        "chart_width": CHART_WIDTH,
        "chart_height": CHART_HEIGHT,
        "live_auctions": AuctionListing.objects.live(now).count(),
        "orders_by_status": [
            (status, label, by_status.get(status, 0)) for status, label in Order.Status.choices
        ],
        "overdue_count": overdue.count(),
        "overdue": overdue.order_by("payment_deadline")[:10],
        "blocked_count": blocked.count(),
        "blocked": blocked[:10],
        "ledger": reconciliation.platform_totals(),
        "open_complaints": Complaint.objects.open().count(),
        "unassigned_complaints": Complaint.objects.open().filter(assigned_to=None).count(),
        "now": now,
    }


def _admin_url(name: str) -> str:
    """A changelist link, or "" while that model has no admin (another area registers it)."""
    try:
        return reverse(f"admin:{name}")
    except NoReverseMatch:
        return ""


def staff_dashboard(request: HttpRequest) -> HttpResponse:
    context = {
        **admin.site.each_context(request),
        "title": _("Dashboard"),
        "auctions_url": _admin_url("marketplace_auctionlisting_changelist"),
        **dashboard_context(),
    }
    return TemplateResponse(request, "admin/marketplace/dashboard.html", context)


# admin_view: staff only, anyone else is sent to the admin log-in.
staff_dashboard_view = admin.site.admin_view(staff_dashboard)
