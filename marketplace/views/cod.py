"""Cash on delivery: the buyer confirms an order (button or signed link), an auction winner
switches to it. Thin views over marketplace.services.cod."""

from decimal import Decimal

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from marketplace.exceptions import MarketplaceError
from marketplace.i18n import isolate
from marketplace.models import Order
from marketplace.services import cod_rules
from marketplace.services.cod import choose_cash_on_delivery, confirm_cod_order
from marketplace.services.orders import shop_profiles
from marketplace.views.access import get_checkout_for_buyer, get_order_for_party, orders_with_items


def checkout_cod_context(request: HttpRequest, checkout, awaiting: list[Order]) -> dict:
    """For the checkout page: whether an auction win may be switched to cash on delivery, or
    why not (said only when the shop allows COD for wins, so other wins are not cluttered)."""
    context = {"cod_switch": False, "cod_switch_refusal": ""}
    is_win = bool(awaiting) and all(
        o.auction_id or hasattr(o, "second_chance_offer") for o in awaiting
    )
    if not is_win or not all(o.has_shipping_address for o in awaiting):
        return context
    profiles = shop_profiles(o.seller_id for o in awaiting)
    refusal = cod_rules.cod_refusal(
        buyer=request.user,
        profiles=[profiles.get(o.seller_id) for o in awaiting],
        total=sum((o.total for o in awaiting), Decimal("0.00")),
        for_auction=True,
    )
    context["cod_switch"] = refusal is None
    if refusal is not None and refusal.code != "cod_not_accepted":
        context["cod_switch_refusal"] = refusal.message
    return context


def _confirmed_message(order: Order) -> str:
    return _(
        "Thank you: order %(number)s is confirmed. The seller sends it now; pay the courier "
        "in cash when it arrives."
    ) % {"number": isolate(order.number)}


@login_required
@require_POST
def order_cod_confirm(request: HttpRequest, number: str) -> HttpResponse:
    """The Confirm button on the buyer's order page."""
    order = get_order_for_party(request, number)
    try:
        order = confirm_cod_order(order=order, by=request.user)
    except MarketplaceError as error:
        messages.error(request, error.message)
    else:
        messages.success(request, _confirmed_message(order))
    return redirect("order_detail", number=order.number)


@require_http_methods(["GET", "POST"])
def order_cod_confirm_link(request: HttpRequest, number: str, token: str) -> HttpResponse:
    """The signed link in the notice and e-mail: it works without logging in (the token names
    the order and its buyer). GET only shows the question; the POST confirms, so a mail
    scanner that opens links never confirms anything."""
    signed = cod_rules.read_confirm_token(token)
    if signed is None:
        raise Http404
    order_pk, buyer_pk = signed
    queryset = orders_with_items(
        Order.objects.filter(pk=order_pk, buyer_id=buyer_pk).select_related(
            "buyer", "seller__seller_profile", "checkout"
        )
    )
    order = get_object_or_404(queryset, number=number)
    error = ""
    if request.method == "POST":
        try:
            order = confirm_cod_order(order=order, by=order.buyer)
        except MarketplaceError as refused:
            error = refused.message
        else:
            messages.success(request, _confirmed_message(order))
            if request.user.pk == order.buyer_id:
                return redirect("order_detail", number=order.number)
    context = {"order": order, "error": error}
    return render(request, "marketplace/orders/cod_confirm.html", context)


@login_required
@require_POST
def checkout_cod(request: HttpRequest, number: str) -> HttpResponse:
    """An auction winner pays in cash on delivery instead of online (where allowed)."""
    checkout = get_checkout_for_buyer(request, number)
    try:
        choose_cash_on_delivery(checkout=checkout, buyer=request.user)
    except MarketplaceError as error:
        messages.error(request, error.message)
    else:
        messages.success(
            request,
            _("You will pay in cash on delivery. Please confirm the order so the seller sends it."),
        )
    return redirect("checkout_detail", number=checkout.number)
