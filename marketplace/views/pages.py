from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.middleware.csrf import CsrfViewMiddleware
from django.shortcuts import render
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST
from django.views.i18n import set_language as django_set_language

from marketplace.i18n import supported
from marketplace.models import Category, Product
from marketplace.page_cache import shared_page, shared_piece
from marketplace.pricing import BID_INCREMENTS
from marketplace.queries.auctions import ending_soon_auctions
from marketplace.queries.catalog import card_queryset, favourite_ids

HOME_NEW_LISTINGS = 8
HOME_ENDING_SOON = 4


@shared_page()
def home(request: HttpRequest) -> HttpResponse:
    categories = Category.objects.filter(parent=None).prefetch_related("children")
    # Read once for everyone (page_cache.shared_piece): a signed-in home runs only its own
    # queries.
    new_listings, ending_soon = shared_piece("home", (), _home_cards)
    return render(
        request,
        "marketplace/home.html",
        {
            "categories": categories,
            "new_listings": new_listings,
            "ending_soon": ending_soon,
            "favourites": favourite_ids(
                request.user, new_listings + [auction.product for auction in ending_soon]
            ),
        },
    )


def _home_cards() -> tuple[list[Product], list]:
    new_listings = list(
        card_queryset(Product.objects.visible().filter(fixed_price__status="active")).order_by(
            "-created_at", "-pk"
        )[:HOME_NEW_LISTINGS]
    )
    return new_listings, ending_soon_auctions(HOME_ENDING_SOON)


@shared_page()
def help_page(request: HttpRequest) -> HttpResponse:
    context = {
        "increments": BID_INCREMENTS,
        "fee_percent": format((settings.PLATFORM_FEE_RATE * 100).normalize(), "f"),  # 2, 2.5
        "hold_minutes": settings.CHECKOUT_HOLD_MINUTES,
        "max_unpaid": settings.MAX_OPEN_UNPAID_CHECKOUTS,
        "auction_hours": settings.AUCTION_PAYMENT_DEADLINE_HOURS,
        "violations": settings.PAYMENT_VIOLATIONS_BEFORE_BLOCK,
        "auto_confirm_days": settings.AUTO_CONFIRM_DELIVERY_DAYS,
    }
    return render(request, "marketplace/help.html", context)


@csrf_exempt
@require_POST
def set_language(request: HttpRequest) -> HttpResponse:
    """Django's set_language (cookie, safe `next`), also saved on the user when logged in.

    A signed-in user's choice changes their account, so it needs the CSRF token. A visitor's
    only sets the language cookie, which any site could set by sending them to a link in the
    other language anyway: the shared anonymous pages carry no token, so it is not asked for.
    """
    if request.user.is_authenticated:
        refused = CsrfViewMiddleware(lambda request: None).process_view(request, None, (), {})
        if refused is not None:
            return refused
    response = django_set_language(request)
    code = supported(request.POST.get("language"))
    if code and code == request.POST.get("language") and request.user.is_authenticated:
        if request.user.language != code:
            request.user.language = code
            request.user.save(update_fields=["language"])
    return response
