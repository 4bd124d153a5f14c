"""The account's apps and devices: API tokens listed, and revoked one by one."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST, require_safe

from marketplace.models import ApiToken


@login_required
@require_safe
def api_token_list(request: HttpRequest) -> HttpResponse:
    tokens = ApiToken.objects.filter(user=request.user)
    return render(request, "marketplace/accounts/api_tokens.html", {"tokens": tokens})


@login_required
@require_POST
def api_token_revoke(request: HttpRequest, pk: int) -> HttpResponse:
    token = get_object_or_404(ApiToken.objects.filter(user=request.user), pk=pk)
    token.delete()
    messages.success(
        request,
        _("Signed out “%(name)s”: it can no longer use your account.")
        % {"name": token.name or token.prefix},
    )
    return redirect("api_token_list")
