"""Catalogue: browse and search, product detail, shops, favourites, the seller's listings."""

from collections.abc import Callable

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.contrib.auth.views import redirect_to_login
from django.core.paginator import Page
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST
from django.views.decorators.vary import vary_on_headers
from django_htmx.http import HttpResponseClientRedirect

from marketplace import delivery, fragments
from marketplace.exceptions import ListingError
from marketplace.forms.catalog import FixedPriceListingForm
from marketplace.models import (
    Favourite,
    FixedPriceListing,
    Product,
    SellerProfile,
    ShopSlugRedirect,
)
from marketplace.page_cache import detail_generations, shared_page, shared_piece, shows_products
from marketplace.queries import feedback as feedback_queries
from marketplace.queries import search
from marketplace.queries.browse import CappedPaginator, browse_page, get_page
from marketplace.queries.catalog import (
    DASHBOARD_STATUSES,
    LISTING_TYPES,
    MAX_QUERY_LENGTH,
    PAGE_SIZES,
    SORTS,
    BrowseFilters,
    card_queryset,
    favourite_ids,
    favourite_products,
    reference_data,
)
from marketplace.services import listings, payouts, upload_limits
from marketplace.services.auctions import relistable_auction_ids
from marketplace.views.access import get_own_fixed_price_product
from marketplace.views.decorators import seller_required
from marketplace.views.fulfilment import product_reviews_context

RESULTS_CAP = 1000
DID_YOU_MEAN_BELOW = 3  # results at most this many: offer a closer term


def _filter_choices() -> dict:
    return {
        "sorts": SORTS,
        "listing_types": LISTING_TYPES,
        "page_sizes": PAGE_SIZES,
    }


def _page_querystring(request: HttpRequest) -> str:
    params = request.GET.copy()
    params.pop("page", None)
    return params.urlencode()


@shared_page()
@vary_on_headers("HX-Request")
def product_list(request: HttpRequest) -> HttpResponse:
    filters = BrowseFilters.from_query(request.GET)
    page, paginator, did_you_mean = _browse_results(request, filters)
    products = page.object_list
    context = {
        "filters": filters,
        "page": page,
        "paginator": paginator,
        "products": products,
        "favourites": favourite_ids(request.user, products),
        "querystring": _page_querystring(request),
        "did_you_mean": did_you_mean,
        "selects": fragments.filter_selects(reference_data(), filters),
    }
    # A history restore (back button after hx-push-url) needs the whole page.
    if request.htmx and not request.htmx.boosted and not request.htmx.history_restore_request:
        # The city list narrows to the chosen province beside the results (out of band).
        context["city_out_of_band"] = True
        return render(request, "marketplace/catalog/product_list.html#results", context)
    return render(
        request, "marketplace/catalog/product_list.html", {**context, **_filter_choices()}
    )


def _browse_results(request: HttpRequest, filters: BrowseFilters):
    """The page of results, its paginator and a closer term, read once per query for everyone
    (page_cache.shared_piece): a signed-in visitor's browse runs only its personal queries."""

    # Another sort or page of the same filters has the same count (the costliest query of a
    # search at 100,000 products): it is counted once for all of them.
    counted = sorted((k, v) for k, v in request.GET.lists() if k not in ("sort", "page"))

    def remember_count(kind: str, count: Callable[[], int]) -> int:
        return shared_piece("browse-count", (kind, counted), count)

    def read() -> dict:
        page, paginator = browse_page(
            filters, request.GET.get("page"), cap=RESULTS_CAP, remember_count=remember_count
        )
        return {
            "count": paginator.count,
            "number": page.number,
            "products": list(page.object_list),
            "notices": filters.notices,
            "sort": filters.sort,
            "did_you_mean": _did_you_mean(filters, paginator),
        }

    results = shared_piece("browse", sorted(request.GET.lists()), read)
    filters.notices[:] = results["notices"]
    filters.sort = results["sort"]
    paginator = CappedPaginator(None, filters.per_page, cap=RESULTS_CAP)
    paginator.count = results["count"]
    page = Page(results["products"], results["number"], paginator)
    return page, paginator, results["did_you_mean"]


def _did_you_mean(filters: BrowseFilters, paginator: CappedPaginator) -> str | None:
    """A closer known term when a search finds little (the count is already known)."""
    if not filters.q or paginator.count > DID_YOU_MEAN_BELOW:
        return None
    return search.did_you_mean(filters.q)


@vary_on_headers("HX-Request")
def product_suggest(request: HttpRequest) -> HttpResponse:
    """Known terms completing what is typed in the search box (HTMX); a plain search without."""
    text = request.GET.get("q", "")[:MAX_QUERY_LENGTH]
    if not request.htmx:
        return redirect(f"{reverse('product_list')}?{request.GET.urlencode()}")
    return render(
        request,
        "marketplace/catalog/product_list.html#search-suggestions",
        {"suggestions": search.suggestions(text)},
    )


@shared_page(detail_generations("product"))
def product_detail(request: HttpRequest, pk: int) -> HttpResponse:
    product = get_object_or_404(
        card_queryset().select_related("category__parent", "city__province"), pk=pk
    )
    if product.is_auction:
        return redirect(product.get_absolute_url())
    if not product.is_visible_to(request.user):
        raise Http404
    shows_products(request, [product])
    listing = product.fixed_price
    is_owner = request.user.is_authenticated and product.seller_id == request.user.pk
    return render(
        request,
        "marketplace/catalog/product_detail.html",
        {
            "product": product,
            "listing": listing,
            "images": list(product.images.all()),
            "profile": getattr(product.seller, "seller_profile", None),
            "is_owner": is_owner,
            "seller_can_be_paid": payouts.can_receive_payouts(product.seller),
            "favourites": favourite_ids(request.user, [product]),
            **product_reviews_context(request, product),
            **delivery.product_delivery_context(product, request.user),
        },
    )


@shared_page()
def shop_detail(request: HttpRequest, slug: str) -> HttpResponse:
    profile = SellerProfile.objects.select_related("user", "city").filter(slug=slug).first()
    if profile is None:
        # A shop renamed since the link was made: its old address leads to the new one.
        old = get_object_or_404(ShopSlugRedirect.objects.select_related("profile"), slug=slug)
        return redirect("shop_detail", slug=old.profile.slug, permanent=True)
    queryset = card_queryset(Product.objects.visible().filter(seller=profile.user)).order_by(
        "-created_at", "-pk"
    )
    notices: list[str] = []
    page = get_page(
        CappedPaginator(queryset, 24, cap=RESULTS_CAP), request.GET.get("page"), notices
    )
    products = list(page.object_list)
    return render(
        request,
        "marketplace/catalog/shop_detail.html",
        {
            "profile": profile,
            "page": page,
            "products": products,
            "notices": notices,
            "favourites": favourite_ids(request.user, products),
            "querystring": "",
            "rating": feedback_queries.seller_rating(profile.user),
            "recent_feedback": feedback_queries.recent_feedback(profile.user),
        },
    )


# --- Favourites -----------------------------------------------------------------------------


def _safe_next(request: HttpRequest, fallback: str) -> str:
    target = request.POST.get("next") or request.headers.get("referer") or ""
    if url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return target
    return fallback


@require_POST
@vary_on_headers("HX-Request")
def favourite_toggle(request: HttpRequest, pk: int) -> HttpResponse:
    product = get_object_or_404(Product.objects.visible(), pk=pk)
    if not request.user.is_authenticated:
        login = f"{reverse('login')}?next={product.get_absolute_url()}"
        if request.htmx:
            return HttpResponseClientRedirect(login)
        return redirect_to_login(product.get_absolute_url())
    deleted, _rows = Favourite.objects.filter(user=request.user, product=product).delete()
    if not deleted:
        Favourite.objects.get_or_create(user=request.user, product=product)
    saved = not deleted
    if request.htmx:
        return render(
            request,
            "marketplace/components.html#heart",
            {"product": product, "favourites": {product.pk} if saved else set()},
        )
    messages.success(
        request,
        _("Saved “%(title)s”.") % {"title": product.title}
        if saved
        else _("Removed “%(title)s” from your saved items.") % {"title": product.title},
    )
    return redirect(_safe_next(request, product.get_absolute_url()))


@login_required
def favourite_list(request: HttpRequest) -> HttpResponse:
    queryset = favourite_products(request.user)
    notices: list[str] = []
    page = get_page(
        CappedPaginator(queryset, 24, cap=RESULTS_CAP), request.GET.get("page"), notices
    )
    products = list(page.object_list)
    return render(
        request,
        "marketplace/catalog/favourite_list.html",
        {
            "page": page,
            "products": products,
            "notices": notices,
            "favourites": {p.pk for p in products},
            "querystring": "",
        },
    )


# --- Seller dashboard -----------------------------------------------------------------------


@seller_required
def dashboard_listings(request: HttpRequest) -> HttpResponse:
    queryset = card_queryset(Product.objects.filter(seller=request.user)).select_related("category")
    status = request.GET.get("status", "")
    if status in DASHBOARD_STATUSES:
        queryset = queryset.filter(DASHBOARD_STATUSES[status])
    else:
        status = ""
    notices: list[str] = []
    page = get_page(
        CappedPaginator(queryset.order_by("-created_at", "-pk"), 25, cap=RESULTS_CAP),
        request.GET.get("page"),
        notices,
    )
    products = list(page.object_list)
    relistable = relistable_auction_ids([p.auction_id for p in products if p.auction_id])
    return render(
        request,
        "marketplace/catalog/dashboard_listings.html",
        {
            "page": page,
            "products": products,
            "relistable": relistable,
            "status": status,
            "statuses": [
                ("", _("All")),
                ("active", FixedPriceListing.Status.ACTIVE.label),
                ("sold_out", FixedPriceListing.Status.SOLD_OUT.label),
                ("withdrawn", FixedPriceListing.Status.WITHDRAWN.label),
                ("auction", _("Auctions")),
            ],
            "notices": notices,
            "querystring": f"status={status}" if status else "",
        },
    )


@seller_required
def listing_create(request: HttpRequest) -> HttpResponse:
    if not payouts.can_receive_payouts(request.user):
        return get_paid_first(request, _("Sell an item"))
    form = new_listing_form(request, FixedPriceListingForm)
    if request.method == "POST" and form.is_valid():
        try:
            product = listings.create_fixed_price_listing(
                seller=request.user, images=form.cleaned_data["images"], **form.service_kwargs()
            )
        except ListingError as error:
            form.add_error(None, error.message)
        else:
            messages.success(request, _("Your listing is live."))
            return redirect(product.get_absolute_url())
    ask_to_reselect_photos(request, form)
    return render(request, "marketplace/catalog/listing_form.html", {"form": form, "product": None})


def new_listing_form(request: HttpRequest, form_class):
    """The form for a new listing or auction, shipping from the shop's city by default.

    Over the seller's upload limit the photos are not even decoded, and the form says why
    (so it is not valid).
    """
    limited = request.method == "POST" and upload_limits.listing_limit_message(request.user)
    profile = getattr(request.user, "seller_profile", None)
    form = form_class(
        request.POST or None,
        None if limited else request.FILES or None,
        initial={"city": profile.city_id} if profile and profile.city_id else {},
    )
    if limited:
        form.add_error(None, limited)
    return form


def get_paid_first(request: HttpRequest, heading: str) -> HttpResponse:
    """What a seller nobody could pay sees instead of a listing form (a POST publishes nothing)."""
    return render(request, "marketplace/catalog/get_paid_first.html", {"heading": heading})


def ask_to_reselect_photos(request: HttpRequest, form) -> None:
    """After a refused form with photos, say that they must be chosen again."""
    if request.method == "POST" and request.FILES and not form.is_valid():
        messages.info(
            request,
            _("Browsers do not keep chosen files after an error: please choose your photos again."),
        )


@seller_required
def listing_edit(request: HttpRequest, pk: int) -> HttpResponse:
    product = get_own_fixed_price_product(request, pk)
    form = FixedPriceListingForm(request.POST or None, request.FILES or None, product=product)
    if request.method == "POST" and form.is_valid():
        try:
            listings.update_fixed_price_listing(
                seller=request.user,
                product=product,
                new_images=form.cleaned_data["images"],
                remove_image_ids=form.removed_image_ids(),
                image_order=form.image_order(),
                **form.service_kwargs(),
            )
        except ListingError as error:
            form.add_error(None, error.message)
        else:
            messages.success(request, _("Your changes are saved."))
            return redirect("dashboard_listings")
    return render(
        request, "marketplace/catalog/listing_form.html", {"form": form, "product": product}
    )


@seller_required
@require_http_methods(["GET", "POST"])
def listing_withdraw(request: HttpRequest, pk: int) -> HttpResponse:
    product = get_own_fixed_price_product(request, pk)
    if request.method == "POST":
        action = request.POST.get("action", "withdraw")
        try:
            if action == "relist":
                listings.relist_listing(seller=request.user, product=product)
                messages.success(
                    request, _("“%(title)s” is on sale again.") % {"title": product.title}
                )
            else:
                listings.withdraw_listing(seller=request.user, product=product)
                messages.success(
                    request,
                    _("“%(title)s” is withdrawn: buyers can no longer find or buy it.")
                    % {"title": product.title},
                )
        except ListingError as error:
            messages.error(request, error.message)
        return redirect("dashboard_listings")
    return render(request, "marketplace/catalog/listing_withdraw.html", {"product": product})
