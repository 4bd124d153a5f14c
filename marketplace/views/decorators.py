"""Access helpers shared by views."""

from collections.abc import Callable
from functools import wraps

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render


def seller_required(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """Logged-in sellers only; anyone else is told how to become a seller (403 page)."""

    @login_required
    @wraps(view)
    def wrapper(request: HttpRequest, *args, **kwargs) -> HttpResponse:
        if not request.user.is_seller:
            return render(request, "marketplace/accounts/become_seller.html", status=403)
        return view(request, *args, **kwargs)

    return wrapper
