"""A mobile wallet's callbacks: the buyer's browser coming back (return URL) and the wallet's
server-to-server notice (IPN). Thin views over marketplace.services.wallets; neither marks
anything paid on the callback's word (the status inquiry does)."""

import json
import logging

from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from marketplace import payments
from marketplace.exceptions import PaymentProviderError, WebhookRejected
from marketplace.models import PaymentAttempt
from marketplace.services import wallets

log = logging.getLogger(__name__)


PAID_CODES = {"000", "121"}
PENDING_CODES = {"124", "157"}


def wallet_notice(attempt: PaymentAttempt | None) -> dict | None:
    """What the buyer is told about a wallet payment not recorded yet, from the wallet's last
    verified code: {"state": "paid" | "pending" | "failed", "message": ...}; None for cards."""
    if attempt is None or attempt.provider == "stripe":
        return None
    code = attempt.response_code
    failures = {
        "112": _("You cancelled the payment on JazzCash. Nothing was charged."),
        "115": _(
            "JazzCash could not verify our payment request. Nothing was charged; please try again."
        ),
        "004": _("Your JazzCash account does not have enough balance. Nothing was charged."),
        "116": _("The JazzCash payment expired before it was completed. Nothing was charged."),
    }
    if code in PAID_CODES and attempt.status != PaymentAttempt.Status.EXPIRED:
        message = _("JazzCash reports the payment as received. We are confirming it with JazzCash…")
        return {"state": "paid", "message": message}
    if attempt.status == PaymentAttempt.Status.OPEN and (code in PENDING_CODES or not code):
        message = _(
            "Your payment is pending at JazzCash. Approve it in your JazzCash account; this page "
            "updates as soon as JazzCash confirms it. There is no need to pay again."
        )
        return {"state": "pending", "message": message}
    message = failures.get(code) or _(
        "JazzCash did not complete the payment (code %(code)s). Nothing was charged; you can try "
        "again or pay another way."
    ) % {"code": code or "?"}
    return {"state": "failed", "message": message}


def _provider(name: str) -> str:
    if name not in payments.wallet_providers():
        raise Http404
    return name


def _fields(request: HttpRequest) -> dict:
    """The callback's fields, sent as a form or as JSON (JazzCash's IPN uses either)."""
    if request.content_type == "application/json":
        try:
            data = json.loads(request.body or b"{}")
        except ValueError:
            return {}
        return data if isinstance(data, dict) else {}
    return request.POST.dict()


# Cross-site POSTs from the wallet's page: no CSRF token and no session cookie (SameSite=Lax),
# so the view trusts only the signature, then sends the browser to a page of ours by GET.
@csrf_exempt
@require_POST
def wallet_return(request: HttpRequest, provider: str) -> HttpResponse:
    provider = _provider(provider)
    try:
        attempt = wallets.receive_wallet_return(provider=provider, fields=_fields(request))
    except WebhookRejected:
        # Forged, altered or not ours: nothing to show but that (logged by the service).
        return render(request, "marketplace/payments/wallet_refused.html", status=400)
    url = reverse("checkout_success", args=[attempt.checkout.number])
    return redirect(f"{url}?session_id={attempt.session_id}")


@csrf_exempt
@require_POST
def wallet_ipn(request: HttpRequest, provider: str) -> HttpResponse:
    provider = _provider(provider)
    try:
        wallets.receive_wallet_ipn(provider=provider, fields=_fields(request))
    except WebhookRejected as rejected:
        return JsonResponse(
            {"pp_ResponseCode": "115", "pp_ResponseMessage": rejected.message}, status=400
        )
    except PaymentProviderError as error:
        # Not settled: an answer other than 000 makes the wallet send the notice again.
        log.warning("%s IPN not handled yet: %s", provider, error.detail or error.message)
        return JsonResponse({"pp_ResponseCode": "199", "pp_ResponseMessage": "retry"}, status=503)
    return JsonResponse(payments.wallet_ipn_answer(provider=provider))
