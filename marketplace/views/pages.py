from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from marketplace.models import Category
from marketplace.pricing import BID_INCREMENTS


def home(request: HttpRequest) -> HttpResponse:
    categories = Category.objects.filter(parent=None)
    return render(request, "marketplace/home.html", {"categories": categories})


def help_page(request: HttpRequest) -> HttpResponse:
    return render(request, "marketplace/help.html", {"increments": BID_INCREMENTS})
