"""Auction pages: thin views around place_bid and the shared read builders."""

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.contrib.auth.views import redirect_to_login
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from django.views.decorators.vary import vary_on_headers

from marketplace import queries
from marketplace.exceptions import BidRejected, ListingError
from marketplace.forms import AuctionForm, BidForm
from marketplace.models import AuctionListing
from marketplace.services.bidding import create_auction, place_bid
from marketplace.views.decorators import seller_required

DETAIL = "marketplace/auctions/detail.html"


def _get_visible_auction(pk: int) -> AuctionListing:
    """Live or ended auctions with a product; anything else (cancelled, scheduled) is a 404."""
    try:
        auction = queries.auction_for_panel(pk)
    except AuctionListing.DoesNotExist:
        raise Http404 from None
    if auction.status in {AuctionListing.Status.CANCELLED, AuctionListing.Status.SCHEDULED}:
        raise Http404
    return auction


def _page_context(request: HttpRequest, auction: AuctionListing, form: BidForm | None = None):
    context = queries.panel_context(auction, viewer=request.user)
    context["form"] = form or BidForm(minimum=context["minimum_next_bid"])
    context["images"] = list(auction.product.images.all())
    return context


@require_GET
def auction_list(request: HttpRequest) -> HttpResponse:
    auctions = queries.auctions_with_product().ending_soon().prefetch_related("product__images")
    page = Paginator(auctions, settings.PAGE_SIZE).get_page(request.GET.get("page"))
    return render(request, "marketplace/auctions/list.html", {"page": page})


@require_GET
def auction_detail(request: HttpRequest, pk: int) -> HttpResponse:
    auction = _get_visible_auction(pk)
    return render(request, DETAIL, _page_context(request, auction))


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
        messages.success(request, _bid_message(accepted))
        return redirect("auction_detail", pk=auction.pk)
    auction = queries.auction_for_panel(auction.pk)
    context = _page_context(request, auction, form=None if accepted else form)
    if accepted is not None:
        context["accepted_message"] = _bid_message(accepted)
    if request.htmx:
        # #bid-form is the target; the fresh #bid-panel rides along out of band.
        return render(request, f"{DETAIL}#bid-area", context)
    return render(request, DETAIL, context)


def _bid_message(result) -> str:
    if result.is_leading:
        return _("Your bid is in: you are the highest bidder.")
    return _("Your bid is in, but another bidder's maximum is higher: you have been outbid.")


@seller_required
@require_http_methods(["GET", "POST"])
def auction_create(request: HttpRequest) -> HttpResponse:
    form = AuctionForm(request.POST or None)
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
                images=request.FILES.getlist("images"),
            )
        except ListingError as error:
            form.add_error(None, error.message)
        else:
            messages.success(request, _("Your auction is live."))
            return redirect("auction_detail", pk=auction.pk)
    return render(request, "marketplace/auctions/create.html", {"form": form})


@login_required
@require_GET
def my_bids(request: HttpRequest) -> HttpResponse:
    now = timezone.now()
    groups: dict[str, list] = {"leading": [], "outbid": [], "won": [], "lost": []}
    for auction in queries.bids_by_user(request.user)[:200]:
        leader_id = auction.leading_bid.bidder_id if auction.leading_bid_id else None
        if auction.status == AuctionListing.Status.LIVE:
            # Past its end but not yet closed still counts as leading: closing decides.
            groups["leading" if leader_id == request.user.pk else "outbid"].append(auction)
        elif auction.winner_id == request.user.pk:
            groups["won"].append(auction)
        else:
            groups["lost"].append(auction)
    return render(request, "marketplace/auctions/my_bids.html", {"groups": groups, "now": now})
