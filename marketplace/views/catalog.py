"""Placeholder views: replaced by the catalogue work."""

from django.http import Http404, HttpRequest, HttpResponse


def product_list(request: HttpRequest, **kwargs) -> HttpResponse:
    raise Http404


def product_detail(request: HttpRequest, **kwargs) -> HttpResponse:
    raise Http404


def favourite_toggle(request: HttpRequest, **kwargs) -> HttpResponse:
    raise Http404


def favourite_list(request: HttpRequest, **kwargs) -> HttpResponse:
    raise Http404


def shop_detail(request: HttpRequest, **kwargs) -> HttpResponse:
    raise Http404


def dashboard_listings(request: HttpRequest, **kwargs) -> HttpResponse:
    raise Http404


def listing_create(request: HttpRequest, **kwargs) -> HttpResponse:
    raise Http404


def listing_edit(request: HttpRequest, **kwargs) -> HttpResponse:
    raise Http404


def listing_withdraw(request: HttpRequest, **kwargs) -> HttpResponse:
    raise Http404
