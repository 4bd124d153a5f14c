"""After payment: ship, confirm delivery, feedback and reviews. Thin views over services."""

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.template.loader import render_to_string
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST
from django.views.decorators.vary import vary_on_headers

from marketplace import queries
from marketplace.couriers import get_courier
from marketplace.exceptions import FeedbackRejected, OrderActionRefused
from marketplace.forms.feedback import FeedbackForm, FeedbackReplyForm, ReviewForm
from marketplace.forms.fulfilment import BookParcelForm, ShipForm
from marketplace.models import Feedback, Order, OrderItem, Parcel, Product
from marketplace.services import feedback as feedback_service
from marketplace.services import fulfilment, parcels
from marketplace.views.access import get_order_for_party
from marketplace.views.returns import return_context

ORDER_TEMPLATE = "marketplace/orders/order_detail.html"


def order_progress_context(request: HttpRequest, order: Order, **extra) -> dict:
    """What the order page's after-sale parts need (timeline, actions, feedback)."""
    is_buyer = order.buyer_id == request.user.pk
    is_seller = order.seller_id == request.user.pk
    feedback = Feedback.objects.filter(order=order).first()
    context = {
        "order": order,
        "is_buyer": is_buyer,
        "is_seller": is_seller,
        "timeline": queries.order_timeline(order),
        "can_ship": order.can_ship(request.user),
        "can_confirm": order.can_confirm_delivery(request.user),
        "can_confirm_cod": order.can_confirm_cod(request.user),
        "feedback": feedback,
        "can_leave_feedback": is_buyer
        and order.status == Order.Status.DELIVERED
        and feedback is None,
        "can_reply": is_seller and feedback is not None and feedback.replied_at is None,
        "reviewable": queries.reviewable_items(order, request.user) if is_buyer else [],
        "auto_confirm_days": settings.AUTO_CONFIRM_DELIVERY_DAYS,
    }
    context.setdefault("ship_form", ShipForm() if context["can_ship"] else None)
    context.update(_parcel_context(order, context["can_ship"], is_seller))
    if context["can_leave_feedback"]:
        context["feedback_form"] = FeedbackForm()
    if context["can_reply"]:
        context["reply_form"] = FeedbackReplyForm()
    context.update(extra)
    return context


def _parcel_context(order: Order, can_ship: bool, is_seller: bool) -> dict:
    """The courier booking form (seller, before shipping) and the parcel's tracking."""
    parcel = Parcel.objects.filter(order=order).prefetch_related("events").first()
    can_book = can_ship and parcels.booking_enabled() and parcel is None
    return {
        "parcel": parcel,
        "parcel_events": list(parcel.events.all()) if parcel else [],
        "parcel_tracking_url": parcels.tracking_url(parcel) if parcel else "",
        "can_book_parcel": can_book,
        "booking_courier": get_courier().name if can_book else "",
        "parcel_form": BookParcelForm(initial={"cod_amount": parcels.cod_amount_for(order)})
        if can_book
        else None,
    }


def _progress(request: HttpRequest, order: Order, **extra) -> HttpResponse:
    """#order-progress after ship/confirm (status badge and feedback swapped out of band)."""
    context = order_progress_context(request, order, swap_status=True, **extra)
    html = render_to_string(f"{ORDER_TEMPLATE}#order-progress", context, request)
    if context["can_leave_feedback"]:
        # The feedback form appears once delivered, and the offer of a return.
        html += _oob_feedback(request, context)
        html += _oob_return(request, order)
    return HttpResponse(html)


def _oob_feedback(request: HttpRequest, context: dict) -> str:
    html = render_to_string(f"{ORDER_TEMPLATE}#order-feedback", context, request)
    return html.replace('id="order-feedback"', 'id="order-feedback" hx-swap-oob="true"', 1)


def _oob_return(request: HttpRequest, order: Order) -> str:
    context = {"order": order, "is_buyer": True, **return_context(request, order)}
    html = render_to_string("marketplace/orders/_return.html", context, request)
    return html.replace('id="order-return"', 'id="order-return" hx-swap-oob="true"', 1)


def _feedback_part(request: HttpRequest, order: Order, **extra) -> HttpResponse:
    """#order-feedback after a feedback post, with the timeline (#order-progress) out of band."""
    context = order_progress_context(request, order, **extra)
    html = render_to_string(f"{ORDER_TEMPLATE}#order-feedback", context, request)
    html += render_to_string(f"{ORDER_TEMPLATE}#order-progress", {**context, "oob": True}, request)
    return HttpResponse(html)


@login_required
@require_POST
@vary_on_headers("HX-Request")
def order_ship(request: HttpRequest, number: str) -> HttpResponse:
    order = get_order_for_party(request, number)
    form = ShipForm(request.POST)
    error = ""
    if form.is_valid():
        try:
            order = fulfilment.mark_shipped(
                order=order,
                by=request.user,
                courier=form.cleaned_data["courier"],
                tracking_number=form.cleaned_data["tracking_number"],
            )
        except OrderActionRefused as refused:
            error = refused.message
        else:
            if request.htmx:
                return _progress(request, order, notice=_("Marked as shipped. The buyer is told."))
            messages.success(request, _("Marked as shipped. The buyer is told."))
            return redirect("order_detail", number=order.number)
    if request.htmx:
        return _progress(request, order, ship_form=form, action_error=error)
    if error:
        messages.error(request, error)
        return redirect("order_detail", number=order.number)
    # Without JavaScript: the whole page again, with the form's errors in place.
    context = order_progress_context(request, order, ship_form=form)
    return render(request, ORDER_TEMPLATE, context)


@login_required
@require_POST
@vary_on_headers("HX-Request")
def order_confirm_delivery(request: HttpRequest, number: str) -> HttpResponse:
    order = get_order_for_party(request, number)
    try:
        order = fulfilment.confirm_delivery(order=order, by=request.user)
    except OrderActionRefused as refused:
        if request.htmx:
            return _progress(request, order, action_error=refused.message)
        messages.error(request, refused.message)
    else:
        notice = _(
            "Thank you! Delivery confirmed. How did it go? You can now leave feedback on this page."
        )
        if request.htmx:
            return _progress(request, order, notice=notice)
        messages.success(request, notice)
    return redirect("order_detail", number=order.number)


# --- Feedback -------------------------------------------------------------------------------


@login_required
@require_http_methods(["GET", "POST"])
@vary_on_headers("HX-Request")
def feedback_create(request: HttpRequest, number: str) -> HttpResponse:
    """The buyer's feedback form: on the order page (HTMX) or on its own page (e-mail link)."""
    order = get_order_for_party(request, number)
    if request.method == "GET":
        if order.buyer_id != request.user.pk:
            raise Http404
        context = order_progress_context(request, order)
        if not context["can_leave_feedback"]:
            return redirect("order_detail", number=order.number)
        return render(request, "marketplace/orders/feedback_form.html", context)
    form = FeedbackForm(request.POST)
    error = ""
    if form.is_valid():
        try:
            feedback_service.leave_feedback(order=order, by=request.user, **form.cleaned_data)
        except FeedbackRejected as rejected:
            error = rejected.message
        else:
            notice = _("Thank you for your feedback!")
            if request.htmx:
                return _feedback_part(request, order, feedback_notice=notice)
            messages.success(request, notice)
            return redirect("order_detail", number=order.number)
    if error and not request.htmx:
        messages.error(request, error)
        return redirect("order_detail", number=order.number)
    if request.htmx:
        return _feedback_part(request, order, feedback_form=form, feedback_error=error)
    context = order_progress_context(request, order, feedback_form=form)
    return render(request, "marketplace/orders/feedback_form.html", context)


@login_required
@require_POST
@vary_on_headers("HX-Request")
def feedback_reply(request: HttpRequest, number: str) -> HttpResponse:
    order = get_order_for_party(request, number)
    feedback = get_object_or_404(Feedback, order=order)
    form = FeedbackReplyForm(request.POST)
    error = ""
    if form.is_valid():
        try:
            feedback_service.reply_to_feedback(
                feedback=feedback, by=request.user, reply=form.cleaned_data["reply"]
            )
        except FeedbackRejected as rejected:
            error = rejected.message
        else:
            if request.htmx:
                return _feedback_part(request, order, feedback_notice=_("Your reply is published."))
            messages.success(request, _("Your reply is published."))
            return redirect("order_detail", number=order.number)
    if request.htmx:
        return _feedback_part(request, order, reply_form=form, feedback_error=error)
    if error:
        messages.error(request, error)
        return redirect("order_detail", number=order.number)
    context = order_progress_context(request, order, reply_form=form)
    return render(request, ORDER_TEMPLATE, context)


# --- Product reviews ------------------------------------------------------------------------

REVIEWS_ON_PRODUCT_PAGE = 20


def product_reviews_context(request: HttpRequest, product: Product) -> dict:
    """Reviews, their summary and whether the visitor may write one (for the product page)."""
    return {
        "reviews": list(queries.product_reviews(product)[:REVIEWS_ON_PRODUCT_PAGE]),
        "review_summary": queries.review_summary(product),
        "can_review": feedback_service.can_review(product=product, user=request.user),
        "seller_rating": queries.seller_rating(product.seller),
    }


@login_required
@require_http_methods(["GET", "POST"])
def review_create(request: HttpRequest, pk: int) -> HttpResponse:
    product = get_object_or_404(Product.objects.select_related("seller__seller_profile"), pk=pk)
    # Only someone who bought it may even see the form; to anyone else it does not exist.
    bought = OrderItem.objects.filter(product=product, order__buyer=request.user).exists()
    if not bought:
        raise Http404
    form = ReviewForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            feedback_service.leave_review(product=product, by=request.user, **form.cleaned_data)
        except FeedbackRejected as rejected:
            form.add_error(None, rejected.message)
        else:
            messages.success(request, _("Thank you! Your review is published."))
            return redirect(product.get_absolute_url())
    elif request.method == "GET" and not feedback_service.can_review(
        product=product, user=request.user
    ):
        messages.info(
            request,
            _("You can review an item once, after it has been delivered to you."),
        )
    return render(
        request, "marketplace/orders/review_form.html", {"form": form, "product": product}
    )
