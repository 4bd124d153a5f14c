"""Placeholder views: replaced by the cart and orders work."""

from django.http import Http404, HttpRequest, HttpResponse


def cart_detail(request: HttpRequest, **kwargs) -> HttpResponse:
    raise Http404


def cart_add(request: HttpRequest, **kwargs) -> HttpResponse:
    raise Http404


def cart_update(request: HttpRequest, **kwargs) -> HttpResponse:
    raise Http404


def cart_remove(request: HttpRequest, **kwargs) -> HttpResponse:
    raise Http404


def buy_now(request: HttpRequest, **kwargs) -> HttpResponse:
    raise Http404


def checkout_start(request: HttpRequest, **kwargs) -> HttpResponse:
    raise Http404


def checkout_detail(request: HttpRequest, **kwargs) -> HttpResponse:
    raise Http404


def checkout_pay(request: HttpRequest, **kwargs) -> HttpResponse:
    raise Http404


def order_list(request: HttpRequest, **kwargs) -> HttpResponse:
    raise Http404


def sale_list(request: HttpRequest, **kwargs) -> HttpResponse:
    raise Http404


def order_detail(request: HttpRequest, **kwargs) -> HttpResponse:
    raise Http404


def order_cancel(request: HttpRequest, **kwargs) -> HttpResponse:
    raise Http404
