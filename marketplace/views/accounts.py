"""Placeholder views: replaced by the accounts work."""

from django.http import Http404, HttpRequest, HttpResponse


def register(request: HttpRequest, **kwargs) -> HttpResponse:
    raise Http404


def login_view(request: HttpRequest, **kwargs) -> HttpResponse:
    raise Http404


def logout_view(request: HttpRequest, **kwargs) -> HttpResponse:
    raise Http404


def profile(request: HttpRequest, **kwargs) -> HttpResponse:
    raise Http404


def profile_edit(request: HttpRequest, **kwargs) -> HttpResponse:
    raise Http404


def seller_profile_edit(request: HttpRequest, **kwargs) -> HttpResponse:
    raise Http404


def address_list(request: HttpRequest, **kwargs) -> HttpResponse:
    raise Http404


def address_create(request: HttpRequest, **kwargs) -> HttpResponse:
    raise Http404


def address_edit(request: HttpRequest, **kwargs) -> HttpResponse:
    raise Http404


def address_delete(request: HttpRequest, **kwargs) -> HttpResponse:
    raise Http404


def city_options(request: HttpRequest, **kwargs) -> HttpResponse:
    raise Http404
