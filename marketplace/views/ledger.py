"""Seller ledger pages: the statement (with a CSV download) and the payout method form."""

import csv
from datetime import timedelta

from django.conf import settings
from django.contrib import messages
from django.core.paginator import Paginator
from django.db.models import Exists, OuterRef, Subquery, Sum
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods

from marketplace.exceptions import MarketplaceError
from marketplace.forms.ledger import PayoutMethodForm
from marketplace.models import ConnectedAccount, LedgerEntry, Order, PayoutMethod, ReturnRequest
from marketplace.models.returns import ESCALATION_DAYS
from marketplace.services import ledger, payout_batches
from marketplace.views.decorators import seller_required

ENTRIES_PER_PAGE = 50


def _entries(request: HttpRequest):
    return (
        LedgerEntry.objects.filter(seller=request.user)
        .select_related("order", "payout")
        .order_by("-created_at", "-pk")
    )


def _pending_orders(request: HttpRequest) -> list[Order]:
    """The seller's orders with money still pending (net of fee and refunds), each with the
    day it becomes available (None until delivery is confirmed) and whether a return holds it.
    """
    # The sum runs over all of the order's entries: a filter on the same relation would narrow
    # it to the sale alone (gross, and blind to a refund).
    # A refused return holds the money while the buyer may still take it to staff.
    refused = ReturnRequest.objects.holding_money(timezone.now()).filter(
        order=OuterRef("pk"), status=ReturnRequest.Status.REFUSED
    )
    orders = list(
        Order.objects.filter(seller=request.user)
        .exclude(ledger_entries__kind=LedgerEntry.Kind.RELEASE)
        .annotate(
            held=Sum("ledger_entries__pending"),
            return_open=Exists(ReturnRequest.objects.open().filter(order=OuterRef("pk"))),
            refused_at=Subquery(refused.values("answered_at")[:1]),
        )
        .filter(held__gt=0)
        .order_by("-created_at")
    )
    window = timedelta(days=settings.LEDGER_RELEASE_DAYS)
    for order in orders:
        order.releases_on = order.delivered_at + window if order.delivered_at else None
        if order.releases_on and order.refused_at:
            escalation_ends = order.refused_at + timedelta(days=ESCALATION_DAYS)
            order.releases_on = max(order.releases_on, escalation_ends)
    return orders


@seller_required
@require_GET
def ledger_statement(request: HttpRequest) -> HttpResponse:
    page = Paginator(_entries(request), ENTRIES_PER_PAGE).get_page(request.GET.get("page"))
    context = {
        "balances": ledger.balances(request.user),
        "page": page,
        "pending_orders": _pending_orders(request),
        "method": PayoutMethod.objects.current().filter(seller=request.user).first(),
        "minimum": settings.PAYOUT_MINIMUM,
        "release_days": settings.LEDGER_RELEASE_DAYS,
        "now": timezone.now(),
    }
    return render(request, "marketplace/ledger/statement.html", context)


@seller_required
@require_GET
def ledger_statement_csv(request: HttpRequest) -> HttpResponse:
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    today = timezone.localdate().isoformat()
    response["Content-Disposition"] = f'attachment; filename="madeinpk-statement-{today}.csv"'
    response.write("\ufeff")  # so spreadsheet programs read the Urdu as UTF-8
    writer = csv.writer(response)
    writer.writerow(
        [
            _("Date"),
            _("Entry"),
            _("Order"),
            _("Pending (Rs)"),
            _("Available (Rs)"),
            _("Paid out (Rs)"),
            _("Reference"),
            _("Reason"),
        ]
    )
    for entry in _entries(request).iterator():
        writer.writerow(
            [
                timezone.localtime(entry.created_at).strftime("%Y-%m-%d %H:%M"),
                entry.get_kind_display(),
                entry.order.number if entry.order else "",
                entry.pending,
                entry.available,
                entry.paid_out,
                entry.payout.transfer_reference if entry.payout else "",
                ledger.csv_text(entry.reason),
            ]
        )
    return response


@seller_required
@require_http_methods(["GET", "POST"])
def payout_method(request: HttpRequest) -> HttpResponse:
    current = PayoutMethod.objects.current().filter(seller=request.user).first()
    stripe_ready = ConnectedAccount.objects.ready().filter(user=request.user).exists()
    form = PayoutMethodForm(
        request.POST or None,
        user=request.user,
        stripe_ready=stripe_ready,
        initial={"kind": current.kind if current else PayoutMethod.Kind.BANK},
    )
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            method = payout_batches.set_payout_method(
                seller=request.user,
                kind=data["kind"],
                iban=data.get("iban", ""),
                account_title=data.get("account_title", "").strip(),
                wallet_number=data.get("wallet_number", ""),
            )
        except MarketplaceError as error:
            form.add_error(None, error.message)
        else:
            messages.success(
                request,
                _(
                    "Saved. We have e-mailed you about the change. For your safety, payouts "
                    "wait until %(when)s."
                )
                % {"when": timezone.localtime(method.hold_until).strftime("%d %b %Y, %H:%M")},
            )
            return redirect("payout_method")
    context = {
        "form": form,
        "current": current,
        "hold_hours": settings.PAYOUT_METHOD_HOLD_HOURS,
        "now": timezone.now(),
    }
    return render(request, "marketplace/ledger/payout_method.html", context)
