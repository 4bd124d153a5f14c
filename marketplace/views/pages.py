from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from marketplace.models import AuctionListing, Category, Product
from marketplace.pricing import BID_INCREMENTS
from marketplace.queries import card_queryset, favourite_ids

HOME_NEW_LISTINGS = 8
HOME_ENDING_SOON = 4


def home(request: HttpRequest) -> HttpResponse:
    categories = Category.objects.filter(parent=None).prefetch_related("children")
    new_listings = list(
        card_queryset(Product.objects.visible().filter(fixed_price__status="active")).order_by(
            "-created_at", "-pk"
        )[:HOME_NEW_LISTINGS]
    )
    ending_soon = list(
        card_queryset(
            Product.objects.filter(auction__in=AuctionListing.objects.ending_soon().values("pk"))
        ).order_by("auction__ends_at")[:HOME_ENDING_SOON]
    )
    return render(
        request,
        "marketplace/home.html",
        {
            "categories": categories,
            "new_listings": new_listings,
            "ending_soon": ending_soon,
            "favourites": favourite_ids(request.user, new_listings + ending_soon),
        },
    )


def help_page(request: HttpRequest) -> HttpResponse:
    return render(request, "marketplace/help.html", {"increments": BID_INCREMENTS})
