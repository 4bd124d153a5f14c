"""Placeholder views: replaced by the auctions work."""

from django.http import Http404, HttpRequest, HttpResponse


def auction_list(request: HttpRequest, **kwargs) -> HttpResponse:
    raise Http404


def auction_detail(request: HttpRequest, **kwargs) -> HttpResponse:
    raise Http404


def auction_bid(request: HttpRequest, **kwargs) -> HttpResponse:
    raise Http404


def auction_panel(request: HttpRequest, **kwargs) -> HttpResponse:
    raise Http404


def auction_create(request: HttpRequest, **kwargs) -> HttpResponse:
    raise Http404


def my_bids(request: HttpRequest, **kwargs) -> HttpResponse:
    raise Http404
