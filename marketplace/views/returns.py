"""Returns after delivery: the buyer asks, the seller accepts or refuses, the buyer may take a
refusal to staff. Thin views over marketplace.services.returns; plain posts that redirect to
the order page (they work without JavaScript)."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from marketplace.exceptions import MarketplaceError, ReturnActionRefused
from marketplace.forms.ledger import RefundAccountForm
from marketplace.forms.returns import ReturnDisputeForm, ReturnRefuseForm, ReturnRequestForm
from marketplace.models import Order, Refund, ReturnPhoto, ReturnRequest
from marketplace.services import returns, upload_limits
from marketplace.views.access import get_order_for_party, get_return_for_party


def return_context(request: HttpRequest, order: Order) -> dict:
    """What the order page's return part needs: the latest request and what the user may do."""
    user, now = request.user, timezone.now()
    latest = ReturnRequest.objects.filter(order=order).first()
    can_answer = latest is not None and latest.can_answer(user)
    can_dispute = latest is not None and latest.can_dispute(user, now)
    return {
        "return_request": latest,
        "can_ask_return": user.pk == order.buyer_id and returns.open_refusal(order, user) is None,
        "return_window_ends": returns.return_window_ends(order),
        "can_answer_return": can_answer,
        "refuse_form": ReturnRefuseForm() if can_answer else None,
        "can_dispute_return": can_dispute,
        "dispute_form": ReturnDisputeForm() if can_dispute else None,
    }


def refund_context(request: HttpRequest, order: Order, *, form=None) -> dict:
    """The order's refund, and for the buyer of a cash-on-delivery order whose refund waits for
    their account, the form to give it (`form`: one posted with errors)."""
    refund = Refund.objects.filter(order=order).first() if order.paid_at or order.is_cod else None
    needs_account = refund is not None and refund.needs_payee and order.buyer_id == request.user.pk
    return {
        "refund": refund,
        "refund_form": (form or RefundAccountForm()) if needs_account else None,
    }


def _back(request: HttpRequest, order: Order, refused: MarketplaceError | None, done: str):
    if refused is not None:
        messages.error(request, refused.message)
    else:
        messages.success(request, done)
    return redirect("order_detail", number=order.number)


@login_required
@require_http_methods(["GET", "POST"])
def order_return(request: HttpRequest, number: str) -> HttpResponse:
    """The buyer's return form (GET) and the request itself (POST)."""
    order = get_order_for_party(request, number, with_items=True)
    if order.buyer_id != request.user.pk:
        raise Http404
    refusal = returns.open_refusal(order, request.user)
    if refusal is not None:
        messages.info(request, refusal.message)
        return redirect("order_detail", number=order.number)
    # Over the limit, the photos are not even decoded; what was typed stays in the form.
    limited = request.FILES.getlist("photos") and upload_limits.return_photo_limit_message(
        request.user
    )
    form = ReturnRequestForm(request.POST or None, None if limited else request.FILES or None)
    if limited:
        form.add_error("photos", limited)
    elif request.method == "POST" and form.is_valid():
        try:
            returns.open_return(order=order, by=request.user, **form.cleaned_data)
        except ReturnActionRefused as refused:
            photo_error = refused.code in {"bad_photo", "too_many_photos"}
            form.add_error("photos" if photo_error else None, refused.message)
        else:
            messages.success(
                request,
                _(
                    "Your return request is sent. The seller is asked to answer; the money stays held."
                ),
            )
            return redirect("order_detail", number=order.number)
    context = {"order": order, "form": form, "window_ends": returns.return_window_ends(order)}
    return render(request, "marketplace/orders/return_form.html", context)


@login_required
@require_POST
def order_return_accept(request: HttpRequest, number: str) -> HttpResponse:
    return_request = get_return_for_party(request, number)
    refused = None
    try:
        returns.accept_return(request=return_request, by=request.user)
    except MarketplaceError as error:  # the return's rules, or the refund path's (not paid)
        refused = error
    done = _("Return accepted. The buyer is refunded the order's total.")
    return _back(request, return_request.order, refused, done)


def _answer(request: HttpRequest, number: str, form_class, field: str, act, done: str):
    """Validate the one-field form, call `act(return_request, value)`, back to the order."""
    return_request = get_return_for_party(request, number)
    form = form_class(request.POST)
    refused = None
    if not form.is_valid():
        refused = ReturnActionRefused(form.errors[field][0], code="invalid")
    else:
        try:
            act(return_request, form.cleaned_data[field])
        except ReturnActionRefused as error:
            refused = error
    return _back(request, return_request.order, refused, done)


@login_required
@require_POST
def order_return_refuse(request: HttpRequest, number: str) -> HttpResponse:
    return _answer(
        request,
        number,
        ReturnRefuseForm,
        "refusal_reason",
        lambda return_request, reason: returns.refuse_return(
            request=return_request, by=request.user, reason=reason
        ),
        _("Return refused. The buyer is told why."),
    )


@login_required
@require_POST
def order_return_dispute(request: HttpRequest, number: str) -> HttpResponse:
    return _answer(
        request,
        number,
        ReturnDisputeForm,
        "note",
        lambda return_request, note: returns.dispute_return(
            request=return_request, by=request.user, note=note
        ),
        _("Sent to MadeInPK staff. They decide, and you both hear from them."),
    )


@login_required
def return_photo(request: HttpRequest, number: str, pk: int) -> HttpResponse:
    """A re-encoded return photo, to the order's buyer and seller and to staff; 404 to others."""
    orders = Order.objects.all() if request.user.is_staff else Order.objects.for_user(request.user)
    photo = get_object_or_404(
        ReturnPhoto.objects.filter(return_request__order__in=orders.filter(number=number)), pk=pk
    )
    response = FileResponse(photo.image.open("rb"), content_type="image/jpeg")
    response["Cache-Control"] = "private, max-age=3600"
    response["X-Content-Type-Options"] = "nosniff"
    return response
