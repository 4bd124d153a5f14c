"""Cart, checkout and orders: thin views over marketplace.services.orders."""

import uuid
from decimal import Decimal
from urllib.parse import urlencode

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST
from django.views.decorators.vary import vary_on_headers

from marketplace import delivery
from marketplace.exceptions import MarketplaceError, PurchaseRejected
from marketplace.forms.addresses import AddressForm
from marketplace.forms.ledger import RefundAccountForm
from marketplace.forms.orders import CheckoutForm, QuantityForm
from marketplace.i18n import isolate
from marketplace.models import (
    Address,
    Checkout,
    City,
    FixedPriceListing,
    Order,
    Refund,
    SellerTransfer,
)
from marketplace.money import format_pkr, parse_amount
from marketplace.queries.orders import Basket, build_basket, cart_basket, listings_with_products
from marketplace.services import ledger, manual_refunds, payouts
from marketplace.services.addresses import save_address
from marketplace.services.cancellation import cancel_order
from marketplace.services.cart import add_to_cart, remove_cart_item, update_cart_item
from marketplace.services.orders import check_listing_purchase, place_checkout
from marketplace.views.access import (
    get_cart_item_for_user,
    get_checkout_for_buyer,
    get_order_for_party,
    orders_with_items,
)
from marketplace.views.cod import checkout_cod_context
from marketplace.views.decorators import seller_required
from marketplace.views.fulfilment import order_progress_context
from marketplace.views.payments import method_options, payment_context
from marketplace.views.returns import refund_context, return_context

ORDERS_PER_PAGE = 20


def _next_url(request: HttpRequest, fallback: str) -> str:
    """Where to go back to after a form post: `next` if it is on this site, else `fallback`."""
    target = request.POST.get("next") or request.GET.get("next")
    if target and url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return target
    return fallback


def _get_listing(pk: object) -> FixedPriceListing | None:
    try:
        pk = int(str(pk))
    except ValueError:
        return None
    if not 0 < pk < 2**63:
        return None
    return listings_with_products().filter(pk=pk).first()


def _quantity(data) -> tuple[int | None, str]:
    """The quantity posted (or in the query string), or None and the reason it is wrong."""
    form = QuantityForm(data)
    if form.is_valid():
        return form.cleaned_data["quantity"], ""
    return None, str(form.errors["quantity"][0])


def _no_such_listing(request: HttpRequest) -> HttpResponse:
    messages.error(request, _("That item does not exist or is no longer for sale."))
    return redirect("product_list")


# --- Cart -----------------------------------------------------------------------------------


def _render_cart(request: HttpRequest, *, errors: dict[int, str] | None = None) -> HttpResponse:
    basket = cart_basket(request.user)
    for line in basket.lines:
        line.error = (errors or {}).get(line.item.pk, "")
    template = "marketplace/orders/cart.html"
    if request.htmx:
        template += "#cart-panel"
    return render(request, template, {"basket": basket})


@login_required
@vary_on_headers("HX-Request")
def cart_detail(request: HttpRequest) -> HttpResponse:
    return _render_cart(request)


@login_required
@require_POST
@vary_on_headers("HX-Request")
def cart_add(request: HttpRequest, listing_pk: int) -> HttpResponse:
    listing = _get_listing(listing_pk)
    if listing is None and not request.htmx:
        return _no_such_listing(request)
    quantity, error = _quantity(request.POST)
    success = ""
    if listing is None:
        error = _("That item does not exist or is no longer for sale.")
    elif quantity is not None:
        try:
            add_to_cart(user=request.user, listing=listing, quantity=quantity)
        except PurchaseRejected as rejected:
            error = rejected.message
        else:
            success = _("Added “%(title)s” to your cart.") % {"title": listing.product.title}
    if request.htmx:
        context = {"listing": listing, "buy_box_error": error, "buy_box_success": success}
        return render(request, "marketplace/orders/_buy_box.html", context)
    if error:
        messages.error(request, error)
    else:
        messages.success(request, success)
    return redirect(_next_url(request, listing.product.get_absolute_url()))


@login_required
@require_POST
@vary_on_headers("HX-Request")
def cart_update(request: HttpRequest, pk: int) -> HttpResponse:
    item = get_cart_item_for_user(request, pk)
    quantity, error = _quantity(request.POST)
    if quantity is not None:
        try:
            update_cart_item(item=item, quantity=quantity)
        except PurchaseRejected as rejected:
            error = rejected.message
    if request.htmx:
        return _render_cart(request, errors={item.pk: error} if error else None)
    if error:
        messages.error(request, error)
    else:
        messages.success(request, _("Your cart is updated."))
    return redirect("cart_detail")


@login_required
@require_POST
@vary_on_headers("HX-Request")
def cart_remove(request: HttpRequest, pk: int) -> HttpResponse:
    item = get_cart_item_for_user(request, pk)
    remove_cart_item(item=item)
    if request.htmx:
        return _render_cart(request)
    messages.success(request, _("Removed from your cart."))
    return redirect("cart_detail")


# --- Buying ---------------------------------------------------------------------------------


@login_required
@require_POST
def buy_now(request: HttpRequest, listing_pk: int) -> HttpResponse:
    """Check the one item can be bought, then go to checkout for it alone (the cart stays)."""
    listing = _get_listing(listing_pk)
    if listing is None:
        return _no_such_listing(request)
    back = _next_url(request, listing.product.get_absolute_url())
    quantity, error = _quantity(request.POST)
    if quantity is not None:
        try:
            check_listing_purchase(
                buyer=request.user, listing=listing, product=listing.product, quantity=quantity
            )
        except PurchaseRejected as rejected:
            error = rejected.message
    if error:
        messages.error(request, error)
        return redirect(back)
    query = urlencode({"listing": listing.pk, "quantity": quantity})
    return redirect(f"{reverse('checkout_start')}?{query}")


def _checkout_basket(request: HttpRequest) -> tuple[Basket | None, bool, HttpResponse | None]:
    """The basket to check out: one item for "Buy now" (?listing=&quantity=), else the cart."""
    if "listing" in request.GET:
        listing = _get_listing(request.GET["listing"])
        if listing is None:
            return None, False, _no_such_listing(request)
        quantity, error = _quantity({"quantity": request.GET.get("quantity", "1")})
        if quantity is None:
            messages.error(request, error)
            return None, False, redirect(listing.product.get_absolute_url())
        return build_basket(request.user, [(listing, quantity, None)]), False, None
    basket = cart_basket(request.user)
    if not basket:
        messages.info(request, _("Your cart is empty."))
        return None, True, redirect("cart_detail")
    return basket, True, None


@login_required
@require_http_methods(["GET", "POST"])
@vary_on_headers("HX-Request")
def checkout_start(request: HttpRequest) -> HttpResponse:
    """The checkout form; an HTMX GET (the address or the new address's city changed) gets
    the summary and the payment choices priced to it."""
    if request.method == "POST":
        # The same form sent again (double click, back and resubmit): show what it placed.
        key = _checkout_key(request.POST.get("checkout_key"))
        placed = key and Checkout.objects.filter(buyer=request.user, idempotency_key=key).first()
        if placed:
            return redirect("checkout_detail", number=placed.number)
    basket, from_cart, response = _checkout_basket(request)
    if response is not None:
        return response
    has_addresses = Address.objects.filter(user=request.user).exists()
    data = request.POST if request.method == "POST" else None
    form = None
    if has_addresses:
        chosen = request.GET.get("address", "")
        initial = {"address": int(chosen)} if chosen.isascii() and chosen.isdigit() else {}
        form = CheckoutForm(data, user=request.user, initial=initial)
    address_form = None
    if not has_addresses:
        # Prefilled from the profile: most buyers ship to themselves.
        initial = {"full_name": request.user.get_full_name(), "phone": request.user.phone}
        address_form = AddressForm(data, prefix="address", initial=initial)
        # Their first address becomes the default: no need to ask.
        del address_form.fields["is_default"]
    error = ""
    if request.method == "POST":
        payment_method = request.POST.get("payment_method") or Checkout.PaymentMethod.CARD
        address = None
        if form is not None and form.is_valid():
            address = form.cleaned_data["address"]
        elif address_form is not None and address_form.is_valid():
            address = save_address(user=request.user, address=address_form.save(commit=False))
        if address is not None and not basket.buyable_lines:
            error = _("None of these items can be bought right now.")
        elif address is not None:
            try:
                checkout = place_checkout(
                    buyer=request.user,
                    lines=[(line.listing, line.quantity) for line in basket.buyable_lines],
                    address=address,
                    expected_total=parse_amount(request.POST.get("expected_total")),
                    from_cart=from_cart,
                    idempotency_key=_checkout_key(request.POST.get("checkout_key")),
                    payment_method=payment_method[:20],
                )
            except PurchaseRejected as rejected:
                error = rejected.message
                # Show the summary as it is now, with the reason nothing was bought.
                basket, _from_cart, response = _checkout_basket(request)
                if response is not None:
                    messages.error(request, error)
                    return response
            else:
                messages.success(request, _placed_message(checkout))
                return redirect("checkout_detail", number=checkout.number)
        if address_form is not None and address is not None:
            # The new address is saved; offer it as a choice from now on.
            form = CheckoutForm(user=request.user)
            address_form = None
    city = _destination_city(request, form, address_form)
    basket.deliver_to(city or delivery.buyer_city(request.user))
    methods = method_options(basket.payment_choices(request.user))
    chosen_method = (request.POST if request.method == "POST" else request.GET).get(
        "payment_method"
    )
    context = {
        "basket": basket,
        "payment_methods": methods,
        "selected_method": _selected_method(chosen_method, methods),
        "checkout_key": uuid.uuid4().hex,
        "from_cart": from_cart,
        "form": form,
        "address_form": address_form,
        "error": error,
    }
    template = "marketplace/orders/checkout.html"
    if request.htmx and request.method == "GET":
        template += "#checkout-reprice"
    return render(request, template, context)


def _selected_method(value: str | None, methods: list[dict]) -> str:
    """The method to show chosen on the checkout form: the one posted if it is offered, else
    the first (cards)."""
    offered = [method["value"] for method in methods if not method.get("refusal")]
    return value if value in offered else offered[0]


def _destination_city(
    request: HttpRequest, form: CheckoutForm | None, address_form: AddressForm | None
) -> City | None:
    """The city the summary prices delivery to: the address chosen (or preselected), or the
    city of the new address being entered (posted, or sent by HTMX as it is chosen)."""
    if form is not None:
        if form.is_bound and form.is_valid():
            return form.cleaned_data["address"].city
        chosen = form.initial.get("address")
        address = next((a for a in form.fields["address"].queryset if a.pk == chosen), None)
        return address.city if address is not None else None
    if address_form is None:
        return None
    if address_form.is_bound:  # validated by now: a valid city is kept whatever else is wrong
        return getattr(address_form, "cleaned_data", {}).get("city")
    try:
        return address_form.fields["city"].clean(request.GET.get(address_form["city"].html_name))
    except ValidationError:
        return None


def _placed_message(checkout: Checkout) -> str:
    if checkout.payment_method == Checkout.PaymentMethod.COD:
        return _(
            "Your order is placed, to pay in cash on delivery. Please confirm it within "
            "%(hours)s hours (the button below, or the link we sent you): the seller sends it "
            "only after that."
        ) % {"hours": settings.COD_CONFIRM_HOURS}
    return _(
        "Your order is placed. We hold the items for %(minutes)s minutes: pay by then to keep them."
    ) % {"minutes": settings.CHECKOUT_HOLD_MINUTES}


def _checkout_key(value: str | None) -> str | None:
    """The form's one-time token (32 hex digits), or None if missing or tampered with."""
    if value and len(value) == 32 and all(c in "0123456789abcdef" for c in value):
        return value
    return None


@login_required
def checkout_detail(request: HttpRequest, number: str) -> HttpResponse:
    checkout = get_checkout_for_buyer(request, number)
    orders = list(orders_with_items(checkout.orders.order_by("pk")))
    awaiting = [order for order in orders if order.status == Order.Status.AWAITING_PAYMENT]
    context = {
        "checkout": checkout,
        "orders": orders,
        "awaiting": awaiting,
        "amount_due": sum((order.total for order in awaiting), Decimal("0.00")),
        "total": sum((order.total for order in orders), Decimal("0.00")),
        "unconfirmed": [o for o in orders if o.status == Order.Status.UNCONFIRMED],
        **payment_context(request, orders),
        **checkout_cod_context(request, checkout, awaiting),
    }
    offered = [method["value"] for method in context["payment_methods"]]
    # The method chosen last (switchable until paid), or cards when it is not offered now.
    context["selected_method"] = (
        checkout.payment_method if checkout.payment_method in offered else offered[0]
    )
    return render(request, "marketplace/orders/checkout_detail.html", context)


# --- Orders ---------------------------------------------------------------------------------


def _order_page(request: HttpRequest, queryset) -> object:
    orders = orders_with_items(queryset.order_by("-created_at", "-pk"))
    return Paginator(orders, ORDERS_PER_PAGE).get_page(request.GET.get("page"))


@login_required
def order_list(request: HttpRequest) -> HttpResponse:
    page = _order_page(request, Order.objects.bought_by(request.user))
    return render(request, "marketplace/orders/order_list.html", {"page": page, "as_seller": False})


@seller_required
def sale_list(request: HttpRequest) -> HttpResponse:
    page = _order_page(request, Order.objects.sold_by(request.user))
    context = {
        "page": page,
        "as_seller": True,
        "payouts_ready": not payouts.unready_sellers([request.user.pk]),
    }
    return render(request, "marketplace/orders/order_list.html", context)


@login_required
def order_detail(request: HttpRequest, number: str) -> HttpResponse:
    return _order_detail_page(request, get_order_for_party(request, number, with_items=True))


def _order_detail_page(
    request: HttpRequest, order: Order, *, refund_form: RefundAccountForm | None = None
) -> HttpResponse:
    context = order_progress_context(request, order)
    context["can_cancel"] = order.can_cancel(request.user)
    context.update(refund_context(request, order, form=refund_form))
    context.update(return_context(request, order))
    if context["is_buyer"]:
        context.update(payment_context(request, [order]))
        context["protection"] = ledger.buyer_protection(order)
    else:
        # The seller sees what the payment brought them: the fee and their transfer.
        context["transfer"] = SellerTransfer.objects.filter(order=order).first()
        context["ledger_money"] = ledger.order_money(order)
    return render(request, "marketplace/orders/order_detail.html", context)


@login_required
@require_POST
def order_refund_account(request: HttpRequest, number: str) -> HttpResponse:
    """The buyer of a cash-on-delivery order says where staff send their refund; a form with
    errors is shown again on the order page, as typed."""
    order = get_order_for_party(request, number, with_items=True)
    if order.buyer_id != request.user.pk:
        raise Http404
    refund = Refund.objects.filter(order=order).first()
    if refund is None or not refund.needs_payee:
        messages.info(request, _("This refund needs no account from you now."))
        return redirect("order_detail", number=order.number)
    form = RefundAccountForm(request.POST)
    if form.is_valid():
        try:
            manual_refunds.give_refund_account(refund=refund, by=request.user, **form.cleaned_data)
        except MarketplaceError as error:
            form.add_error(None, error.message)
        else:
            messages.success(
                request, _("Thank you. MadeInPK staff send your refund to this account.")
            )
            return redirect("order_detail", number=order.number)
    return _order_detail_page(request, order, refund_form=form)


@login_required
@require_http_methods(["GET", "POST"])
def order_cancel(request: HttpRequest, number: str) -> HttpResponse:
    """Confirm page (GET) and the cancellation itself (POST): before payment it only puts the
    stock back; paid and not shipped, the buyer also gets the total back (`cancel_order`
    decides which)."""
    order = get_order_for_party(request, number, with_items=True)
    if request.method == "POST":
        reason = request.POST.get("reason", "").strip()[:200]
        try:
            order = cancel_order(order=order, by=request.user, reason=reason)
        except MarketplaceError as error:
            messages.error(request, error.message)
        else:
            messages.success(request, _cancelled_message(order, request.user))
        return redirect("order_detail", number=order.number)
    refusal = order.cancel_refusal(request.user)
    if refusal is not None:
        messages.info(request, refusal.message)
        return redirect("order_detail", number=order.number)
    context = {"order": order, "paid": order.status == Order.Status.PAID}
    return render(request, "marketplace/orders/order_cancel.html", context)


def _cancelled_message(order: Order, user) -> str:
    params = {"number": isolate(order.number), "total": isolate(format_pkr(order.total))}
    if order.status == Order.Status.REFUNDED:
        if user.pk == order.buyer_id:
            return _("Order %(number)s is cancelled and %(total)s is on its way back to you.") % (
                params
            )
        return _("Order %(number)s is cancelled and the buyer is refunded %(total)s.") % params
    if order.paid_at is not None:
        return (
            _(
                "Order %(number)s is cancelled. The refund of %(total)s could not be sent yet; "
                "it is retried automatically."
            )
            % params
        )
    return _("Order %(number)s is cancelled.") % {"number": isolate(order.number)}
