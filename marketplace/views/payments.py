"""Paying for checkouts, the Stripe webhook, sellers' payout onboarding, second-chance offers.

Thin views over marketplace.services.payments; only the webhook marks anything paid.
"""

import json
import logging
from collections.abc import Iterable

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db.models import Prefetch
from django.http import HttpRequest, HttpResponse, HttpResponseBadRequest
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_POST
from django.views.decorators.vary import vary_on_headers
from django_htmx.http import HttpResponseClientRedirect

from marketplace import payments
from marketplace.exceptions import MarketplaceError, PaymentProviderError, WebhookRejected
from marketplace.models import (
    Address,
    Checkout,
    ConnectedAccount,
    Order,
    OrderItem,
    Payment,
    PaymentAttempt,
)
from marketplace.services import deadlines, payouts
from marketplace.services import payments as payment_services
from marketplace.services.payment_methods import PaymentChoice, online_methods
from marketplace.views.access import get_checkout_for_buyer, get_offer_for_bidder, offers_for_bidder
from marketplace.views.decorators import seller_required
from marketplace.views.wallets import wallet_notice

log = logging.getLogger(__name__)


def _to_checkout(request: HttpRequest, checkout: Checkout) -> HttpResponse:
    url = reverse("checkout_detail", args=[checkout.number])
    return HttpResponseClientRedirect(url) if request.htmx else redirect(url)


def payment_context(request: HttpRequest, orders: list[Order]) -> dict:
    """What a checkout or order page needs to offer payment for these unpaid orders."""
    awaiting = [o for o in orders if o.can_pay(request.user)]
    unready = payouts.unready_sellers(o.seller_id for o in awaiting)
    missing_address = [o for o in awaiting if not o.has_shipping_address]
    return {
        "unready_sellers": sorted(
            {o.seller.public_name for o in awaiting if o.seller_id in unready}
        ),
        "needs_address": bool(missing_address),
        "addresses": (
            list(
                Address.objects.filter(user=request.user)
                .select_related("city__province")
                .order_by("-is_default", "pk")
            )
            if missing_address
            else []
        ),
        "can_pay": bool(awaiting) and not unready and not missing_address,
        "payment_methods": payment_methods(),
    }


# How each way of paying looks on the choice (logo, line under its name); which apply, and why
# one is refused, is the service's answer (`services.payment_methods.payment_choices`).
METHOD_LOOKS = {
    Checkout.PaymentMethod.CARD: (
        "img/pay/card.svg",
        gettext_lazy("Debit or credit card enabled for online payments, on Stripe's secure page"),
    ),
    Checkout.PaymentMethod.JAZZCASH: (
        "img/pay/jazzcash.svg",
        gettext_lazy("From your JazzCash mobile account, on JazzCash's page"),
    ),
    Checkout.PaymentMethod.COD: (
        "img/pay/cod.svg",
        gettext_lazy(
            "Pay the courier in cash when it arrives. You confirm the order first; the seller "
            "sends it only after that."
        ),
    ),
}


def method_options(choices: Iterable[PaymentChoice]) -> list[dict]:
    """The payment choices as `_method_choice.html` shows them (a refused one with its reason)."""
    options = []
    for choice in choices:
        logo, note = METHOD_LOOKS[choice.method]
        options.append(
            {
                "value": choice.method,
                "label": Checkout.PaymentMethod(choice.method).label,
                "logo": logo,
                "note": note,
                "refusal": choice.refusal.message if choice.refusal is not None else "",
            }
        )
    return options


def payment_methods() -> list[dict]:
    """The ways to pay a placed checkout online that apply now (`online_methods`)."""
    return method_options(PaymentChoice(method) for method in online_methods())


def notice_state(notice: dict | None) -> str:
    return notice["state"] if notice else ""


# --- Buyer pays ---------------------------------------------------------------------------------
@login_required
@require_POST
def checkout_pay(request: HttpRequest, number: str) -> HttpResponse:
    checkout = get_checkout_for_buyer(request, number)
    method = request.POST.get("method") or Checkout.PaymentMethod.CARD
    if method not in Checkout.PaymentMethod.values:
        messages.error(request, _("This way of paying is not available."))
        return _to_checkout(request, checkout)
    success_url, cancel_url = checkout.payment_return_urls(request.build_absolute_uri, method)
    try:
        page = payment_services.open_checkout_payment(
            checkout=checkout,
            buyer=request.user,
            success_url=success_url,
            cancel_url=cancel_url,
            method=method,
        )
    except MarketplaceError as error:
        messages.error(request, error.message)
        return _to_checkout(request, checkout)
    if page.form_fields:
        # The wallet's page is reached by a form POST: a page of ours posts it (the checkout
        # page's form is a plain one when wallets are offered, so this is never an htmx swap).
        context = {"checkout": checkout, "page": page, "method": method}
        return render(request, "marketplace/payments/wallet_redirect.html", context)
    if request.htmx:
        return HttpResponseClientRedirect(page.url)
    return redirect(page.url)


@login_required
@require_POST
def checkout_address(request: HttpRequest, number: str) -> HttpResponse:
    """Choose the delivery address of a checkout's orders that have none (won auctions)."""
    checkout = get_checkout_for_buyer(request, number)
    address = None
    raw = request.POST.get("address", "")
    if raw.isdigit() and len(raw) < 19:
        address = Address.objects.filter(user=request.user, pk=int(raw)).first()
    if address is None:
        messages.error(request, _("Choose one of your addresses."))
        return _to_checkout(request, checkout)
    try:
        payment_services.choose_checkout_address(
            checkout=checkout, buyer=request.user, address=address
        )
    except MarketplaceError as error:
        messages.error(request, error.message)
    else:
        messages.success(request, _("Delivery address saved. You can pay now."))
    return _to_checkout(request, checkout)


@login_required
@require_GET
@vary_on_headers("HX-Request")
def checkout_success(request: HttpRequest, number: str) -> HttpResponse:
    """Where the payment page sends the buyer back. It never marks anything paid: it shows
    "confirming" and polls until the webhook has recorded the payment."""
    checkout = get_checkout_for_buyer(request, number)
    session_id = request.GET.get("session_id", "")[:255]
    attempt = PaymentAttempt.objects.filter(checkout=checkout, session_id=session_id).first()
    orders = list(
        checkout.orders.select_related("seller__seller_profile")
        .prefetch_related(Prefetch("items", queryset=OrderItem.objects.order_by("pk")))
        .order_by("pk")
    )
    payment = None
    if attempt is not None and attempt.status == PaymentAttempt.Status.COMPLETE:
        payment = checkout.payments.filter(session_id=session_id).first()
    notice = None if payment is not None else wallet_notice(attempt)
    context = {
        "checkout": checkout,
        "orders": orders,
        "attempt": attempt,
        "wallet": notice,
        "polling": attempt is not None and payment is None and notice_state(notice) != "failed",
        "confirmed": payment is not None,
        "unmatched": payment is not None and payment.status == Payment.Status.UNMATCHED,
        "poll_url": request.get_full_path(),
    }
    template = "marketplace/payments/checkout_success.html"
    if request.htmx:
        template += "#payment-status"
    return render(request, template, context)


@login_required
@require_GET
def checkout_cancelled(request: HttpRequest, number: str) -> HttpResponse:
    checkout = get_checkout_for_buyer(request, number)
    messages.info(
        request,
        _("Payment cancelled: nothing was charged. You can pay any time before the deadline."),
    )
    return redirect("checkout_detail", number=checkout.number)


# --- Webhook ------------------------------------------------------------------------------------
@csrf_exempt
@require_POST
def stripe_webhook(request: HttpRequest) -> HttpResponse:
    try:
        event = payments.construct_event(request.body, request.headers.get("Stripe-Signature", ""))
    except WebhookRejected as rejected:
        log.info("webhook rejected: %s", rejected.message)
        return HttpResponseBadRequest(rejected.message)
    try:
        handled = payment_services.handle_event(event, json.loads(request.body))
    except PaymentProviderError as error:
        # Not processed: Stripe delivers the event again later and it is handled then.
        log.warning("webhook %s not handled yet: %s", event.id, error.detail or error.message)
        return HttpResponse("provider unavailable", status=503, content_type="text/plain")
    return HttpResponse("ok" if handled else "duplicate", content_type="text/plain")


# --- Sellers get paid ---------------------------------------------------------------------------
@seller_required
@require_GET
def payouts_setup(request: HttpRequest) -> HttpResponse:
    account = ConnectedAccount.objects.filter(user=request.user).first()
    context = {
        "account": account,
        "fee_percent": (settings.PLATFORM_FEE_RATE * 100).normalize(),
        "release_days": settings.LEDGER_RELEASE_DAYS,
    }
    return render(request, "marketplace/payments/payouts_setup.html", context)


def _onboarding(request: HttpRequest, *, create: bool) -> HttpResponse:
    try:
        url = payouts.start_payouts_onboarding(
            seller=request.user,
            refresh_url=request.build_absolute_uri(reverse("payouts_refresh")),
            return_url=request.build_absolute_uri(reverse("payouts_return")),
            create=create,
        )
    except MarketplaceError as error:
        messages.error(request, error.message)
        return redirect("payouts_setup")
    if url is None:
        # A GET never creates the account: the seller starts from the page's button (a POST).
        return redirect("payouts_setup")
    return redirect(url)


@seller_required
@require_POST
def payouts_start(request: HttpRequest) -> HttpResponse:
    """Create the seller's account if needed and go to the provider's onboarding."""
    return _onboarding(request, create=True)


@seller_required
@require_GET
def payouts_refresh(request: HttpRequest) -> HttpResponse:
    """The onboarding link expired or was used: a fresh one (never a new account: a GET)."""
    return _onboarding(request, create=False)


@seller_required
@require_GET
def payouts_return(request: HttpRequest) -> HttpResponse:
    try:
        account = payouts.refresh_connected_account(seller=request.user)
    except MarketplaceError as error:
        messages.error(request, error.message)
    else:
        if account is not None and account.ready:
            messages.success(request, _("You are ready to be paid."))
        elif account is not None:
            messages.warning(request, _("A few details are still missing: see below."))
    return redirect("payouts_setup")


# --- Second-chance offers -----------------------------------------------------------------------
@login_required
@require_GET
def offer_list(request: HttpRequest) -> HttpResponse:
    offers = offers_for_bidder(request).order_by("-created_at")[:50]
    return render(request, "marketplace/payments/offer_list.html", {"offers": offers})


@login_required
@require_POST
def offer_accept(request: HttpRequest, pk: int) -> HttpResponse:
    offer = get_offer_for_bidder(request, pk)
    try:
        checkout = deadlines.accept_second_chance_offer(offer=offer, buyer=request.user)
    except MarketplaceError as error:
        messages.error(request, error.message)
        return redirect("offer_list")
    messages.success(request, _("The item is yours. Choose the delivery address and pay."))
    return redirect("checkout_detail", number=checkout.number)


@login_required
@require_POST
def offer_decline(request: HttpRequest, pk: int) -> HttpResponse:
    offer = get_offer_for_bidder(request, pk)
    try:
        deadlines.decline_second_chance_offer(offer=offer, buyer=request.user)
    except MarketplaceError as error:
        messages.error(request, error.message)
    else:
        messages.info(request, _("Offer declined."))
    return redirect("offer_list")
