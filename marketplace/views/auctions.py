"""Auction pages: thin views around place_bid and the shared read builders."""

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.contrib.auth.views import redirect_to_login
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from django.views.decorators.vary import vary_on_headers

from marketplace import delivery, queries
from marketplace.exceptions import BidRejected, ListingError
from marketplace.forms.auctions import AuctionForm, BidForm
from marketplace.models import AuctionListing
from marketplace.money import format_pkr
from marketplace.page_cache import detail_generations, shared_page, shows_products
from marketplace.services import payouts
from marketplace.services.auctions import create_auction, relist_auction
from marketplace.services.bidding import place_bid
from marketplace.views.catalog import ask_to_reselect_photos, get_paid_first, new_listing_form
from marketplace.views.decorators import seller_required

DETAIL = "marketplace/auctions/detail.html"


def _get_visible_auction(pk: int) -> AuctionListing:
    """Live or ended auctions with a product (`AuctionQuerySet.visible`); anything else is a 404."""
    return get_object_or_404(queries.panel_auctions().visible(), pk=pk)


def _page_context(request: HttpRequest, auction: AuctionListing, form: BidForm | None = None):
    context = queries.panel_context(auction, viewer=request.user)
    context["form"] = form or BidForm(minimum=context["minimum_next_bid"])
    context["images"] = list(auction.product.images.all())
    return context


@require_GET
@shared_page()
def auction_list(request: HttpRequest) -> HttpResponse:
    auctions = queries.auction_cards().ending_soon()
    page = Paginator(auctions, settings.PAGE_SIZE).get_page(request.GET.get("page"))
    products = [auction.product for auction in page.object_list]
    return render(
        request,
        "marketplace/auctions/list.html",
        {"page": page, "favourites": queries.favourite_ids(request.user, products)},
    )


@require_GET
@shared_page(detail_generations("auction"))
def auction_detail(request: HttpRequest, pk: int) -> HttpResponse:
    auction = _get_visible_auction(pk)
    shows_products(request, [auction.product])
    context = _page_context(request, auction)
    # Only the full page: the bid panel's resync endpoint stays as cheap as it was.
    context.update(delivery.product_delivery_context(auction.product, request.user))
    return render(request, DETAIL, context)


@require_GET
@vary_on_headers("HX-Request")
def auction_panel(request: HttpRequest, pk: int) -> HttpResponse:
    """The resync endpoint: #bid-panel as it is now, for this viewer."""
    auction = _get_visible_auction(pk)
    response = render(request, f"{DETAIL}#bid-panel", _page_context(request, auction))
    response["Cache-Control"] = "no-store"
    return response


@require_POST
@vary_on_headers("HX-Request")
def auction_bid(request: HttpRequest, pk: int) -> HttpResponse:
    auction = _get_visible_auction(pk)
    if not request.user.is_authenticated:
        return redirect_to_login(auction.product.get_absolute_url())
    form = BidForm(request.POST)
    accepted = None
    if form.is_valid():
        try:
            accepted = place_bid(
                auction_id=auction.pk,
                bidder=request.user,
                amount=form.cleaned_data["amount"],
                max_amount=form.cleaned_data["max_amount"],
            )
        except BidRejected as error:
            form.add_error(None, error.message)
    if accepted is not None and not request.htmx:
        # Outbid at once by another bidder's maximum is not a success: a warning says so.
        level = (
            messages.INFO
            if not accepted.bid_placed
            else messages.SUCCESS
            if accepted.is_leading
            else messages.WARNING
        )
        messages.add_message(request, level, _bid_message(accepted))
        return redirect("auction_detail", pk=auction.pk)
    auction = queries.auction_for_panel(auction.pk)
    context = _page_context(request, auction, form=None if accepted else form)
    if accepted is not None:
        context["accepted_message"] = _bid_message(accepted)
        context["accepted_kind"] = (
            "raised" if not accepted.bid_placed else "leading" if accepted.is_leading else "outbid"
        )
    if request.htmx:
        # #bid-form is the target; the fresh #bid-panel rides along out of band.
        return render(request, f"{DETAIL}#bid-area", context)
    return render(request, DETAIL, context)


def _bid_message(result) -> str:
    if not result.bid_placed:
        return _(
            "You were already the highest bidder, so no new bid was placed: your maximum is "
            "now %(maximum)s. The price stays at %(price)s until someone bids against you."
        ) % {
            "maximum": format_pkr(result.raised_maximum),
            "price": format_pkr(result.current_price),
        }
    if result.is_leading:
        return _("Your bid is in: you are the highest bidder.")
    return _(
        "You have been outbid. Your bid was placed, but another bidder had set a higher "
        "maximum, so their bid rose automatically and they still lead. Bid again to lead."
    )


@seller_required
@require_http_methods(["GET", "POST"])
def auction_create(request: HttpRequest) -> HttpResponse:
    if not payouts.can_receive_payouts(request.user):
        return get_paid_first(request, _("Start an auction"))
    form = new_listing_form(request, AuctionForm)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            auction = create_auction(
                seller=request.user,
                title=data["title"],
                description=data["description"],
                category=data["category"],
                condition=data["condition"],
                city=data["city"],
                starting_price=data["starting_price"],
                reserve_price=data["reserve_price"],
                duration_days=data["duration_days"],
                images=data["images"],
            )
        except ListingError as error:
            form.add_error(None, error.message)
        else:
            messages.success(request, _("Your auction is live."))
            return redirect("auction_detail", pk=auction.pk)
    ask_to_reselect_photos(request, form)
    return render(
        request,
        "marketplace/auctions/create.html",
        {
            "form": form,
            "soft_close_window": settings.AUCTION_SOFT_CLOSE_WINDOW_SECONDS / 60,
            "soft_close_extension": settings.AUCTION_SOFT_CLOSE_EXTENSION_SECONDS / 60,
        },
    )


def _own_auction(request: HttpRequest, pk: int) -> AuctionListing:
    """The seller's own auction; anyone else's is a 404."""
    return get_object_or_404(
        queries.auctions_with_product().filter(product__seller=request.user), pk=pk
    )


@seller_required
@require_POST
def auction_relist(request: HttpRequest, pk: int) -> HttpResponse:
    auction = _own_auction(request, pk)
    try:
        new = relist_auction(seller=request.user, auction_id=auction.pk)
    except ListingError as error:
        messages.error(request, error.message)
        return redirect(f"{reverse('dashboard_listings')}?status=auction")
    messages.success(
        request,
        _("“%(title)s” is up for auction again.") % {"title": auction.product.title},
    )
    return redirect("auction_detail", pk=new.pk)


@seller_required
@require_GET
def auction_bids(request: HttpRequest, pk: int) -> HttpResponse:
    """Every bid on the seller's own auction, newest first.

    Bidders are masked as everywhere, and proxy maximums stay secret from the seller too.
    """
    auction = _own_auction(request, pk)
    bids = auction.bids.select_related("bidder").order_by("-id")
    notices: list[str] = []
    page = queries.get_page(Paginator(bids, 50), request.GET.get("page"), notices)
    rows = [
        {
            "bidder": queries.mask_name(bid.bidder.username),
            "amount": bid.amount,
            "time": bid.created_at,
            "is_automatic": bid.is_automatic,
        }
        for bid in page.object_list
    ]
    return render(
        request,
        "marketplace/auctions/bids.html",
        {
            "auction": auction,
            "product": auction.product,
            "page": page,
            "rows": rows,
            "notices": notices,
            "querystring": "",
        },
    )


@login_required
@require_GET
def my_bids(request: HttpRequest) -> HttpResponse:
    now = timezone.now()
    groups: dict[str, list] = {"leading": [], "outbid": [], "won": [], "lost": []}
    for auction in queries.bids_by_user(request.user)[:200]:
        groups[auction.standing_of(request.user)].append(auction)
    return render(request, "marketplace/auctions/my_bids.html", {"groups": groups, "now": now})
