"""Parcels booked through a courier: booking, the printable label, the courier's callback."""

import logging

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseBadRequest
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_POST

from marketplace.couriers import COURIERS
from marketplace.exceptions import CourierError, OrderActionRefused, WebhookRejected
from marketplace.forms.fulfilment import BookParcelForm
from marketplace.models import Parcel
from marketplace.services import parcels
from marketplace.views.access import get_order_for_party
from marketplace.views.fulfilment import ORDER_TEMPLATE, order_progress_context

log = logging.getLogger(__name__)


@login_required
@require_POST
def order_book_parcel(request: HttpRequest, number: str) -> HttpResponse:
    order = get_order_for_party(request, number)
    form = BookParcelForm(request.POST, initial={"cod_amount": parcels.cod_amount_for(order)})
    if form.is_valid():
        try:
            parcel = parcels.book_parcel(
                order=order,
                by=request.user,
                weight_kg=form.cleaned_data["weight_kg"],
                pieces=form.cleaned_data["pieces"],
                cod_amount=form.cleaned_data["cod_amount"],
            )
        except (OrderActionRefused, CourierError) as refused:
            messages.error(request, refused.message)
        else:
            messages.success(
                request,
                _("Parcel booked, tracking number %(tracking)s. Print the label and stick it on.")
                % {"tracking": parcel.tracking_number},
            )
        return redirect("order_detail", number=order.number)
    context = order_progress_context(request, order, parcel_form=form)
    return render(request, ORDER_TEMPLATE, context)


# Code 39 patterns (bar, space, bar, ...; w = wide) for digits and the start/stop "*".
_CODE39 = {
    "0": "nnnwwnwnn",
    "1": "wnnwnnnnw",
    "2": "nnwwnnnnw",
    "3": "wnwwnnnnn",
    "4": "nnnwwnnnw",
    "5": "wnnwwnnnn",
    "6": "nnwwwnnnn",
    "7": "nnnwnnwnw",
    "8": "wnnwnnwnn",
    "9": "nnwwnnwnn",
    "*": "nwnnwnwnn",
}


def code39_bars(text: str) -> dict | None:
    """The bars of `text` as Code 39 ({"width", "bars": [(x, width)]}) for an SVG on the
    label; None when it has other characters than digits."""
    if not text.isdigit():
        return None
    x, bars = 0, []
    for char in f"*{text}*":
        for position, element in enumerate(_CODE39[char]):
            width = 3 if element == "w" else 1
            if position % 2 == 0:
                bars.append((x, width))
            x += width
        x += 1  # the gap between characters
    return {"width": x, "bars": bars}


@login_required
@require_GET
def parcel_label(request: HttpRequest, number: str) -> HttpResponse:
    order = get_order_for_party(request, number)
    if order.seller_id != request.user.pk:
        raise Http404
    parcel = Parcel.objects.filter(order=order).first()
    if parcel is None:
        raise Http404
    context = {
        "order": order,
        "parcel": parcel,
        "courier_name": COURIERS[parcel.courier].name,
        "sandbox": settings.COURIER_MODE != "live",
        "shop": order.seller.public_name,
        "barcode": code39_bars(parcel.tracking_number),
    }
    return render(request, "marketplace/orders/parcel_label.html", context)


@csrf_exempt
@require_POST
def courier_callback(request: HttpRequest, courier: str) -> HttpResponse:
    """The courier's status callback: signed, and safe to receive twice or out of order."""
    if courier not in COURIERS:
        raise Http404
    try:
        parcel = parcels.handle_callback(
            courier_key=courier, body=request.body, headers=request.headers
        )
    except WebhookRejected as rejected:
        log.info("courier callback rejected: %s", rejected.message)
        return HttpResponseBadRequest(rejected.message)
    # An unknown parcel is answered 200 too: another site's parcel is not ours to retry.
    return HttpResponse("ok" if parcel else "unknown parcel", content_type="text/plain")
