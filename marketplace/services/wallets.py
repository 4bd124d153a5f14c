"""Mobile-wallet payments (JazzCash): the buyer's return POST, the IPN, and the inquiry job.

Nothing here trusts a callback's word that money moved. A return POST or IPN is checked (the
provider's signature, a reference we issued, the amount we asked for) and then only prompts a
status inquiry; the inquiry's answer is what `fulfil_checkout` records, through the same path
(and the same checkout lock) as card payments. So a duplicate, replayed or out-of-order
callback changes nothing, and the IPN and the job settling one payment at once have one effect.
"""

import logging
from datetime import timedelta

from django.utils import timezone
from django.utils.translation import gettext as _

from marketplace import payments
from marketplace.exceptions import PaymentProviderError, WebhookRejected
from marketplace.models import Payment, PaymentAttempt
from marketplace.services.payments import fulfil_checkout, release_checkout_session

log = logging.getLogger(__name__)

# A payment still pending this long after its page expired is given up on (closed on our side;
# an IPN that still comes settles it, and a payment for orders cancelled since is refunded).
PENDING_GRACE = timedelta(hours=1)


def _verified_attempt(*, provider: str, fields: dict) -> tuple[PaymentAttempt, str]:
    """The attempt a signed callback is about, and its response code; WebhookRejected (logged)
    for a forged one, an unknown reference or another amount."""
    try:
        callback = payments.verify_wallet_callback(fields, provider=provider)
    except WebhookRejected as rejected:
        log.warning("%s callback refused: %s (%s)", provider, rejected.message, _ref(fields))
        raise
    attempt = (
        PaymentAttempt.objects.select_related("checkout")
        .filter(provider=provider, session_id=callback.reference)
        .first()
    )
    if attempt is None or attempt.amount != callback.amount:
        log.warning(
            "%s callback refused: %s %s for Rs %s does not match",
            provider,
            "reference" if attempt is None else "amount of",
            callback.reference,
            callback.amount,
        )
        raise WebhookRejected(_("The payment notice does not match a payment we asked for."))
    return attempt, callback.response_code


def _ref(fields: dict) -> str:
    return str(fields.get("pp_TxnRefNo", ""))[:40]


def receive_wallet_return(*, provider: str, fields: dict) -> PaymentAttempt:
    """The buyer's browser came back from the wallet's page. Its code is kept for the page to
    show; a payment is then settled only if the status inquiry says so."""
    attempt, code = _verified_attempt(provider=provider, fields=fields)
    # Only while the page is open: a late "cancelled" must not hide a payment settled since.
    PaymentAttempt.objects.filter(pk=attempt.pk, status=PaymentAttempt.Status.OPEN).update(
        response_code=code[:10]
    )
    try:
        settle_wallet_attempt(attempt.session_id)
    except PaymentProviderError as error:  # the IPN or the job settles it later
        log.info("could not ask about %s yet: %s", attempt.session_id, error.detail)
    attempt.refresh_from_db()
    return attempt


def receive_wallet_ipn(*, provider: str, fields: dict) -> Payment | None:
    """The wallet's server-to-server notice: checked, then settled by a status inquiry.
    Raises PaymentProviderError when the inquiry cannot be made (the wallet sends it again)."""
    attempt, _code = _verified_attempt(provider=provider, fields=fields)
    return settle_wallet_attempt(attempt.session_id)


def settle_wallet_attempt(session_id: str) -> Payment | None:
    """Ask the wallet about one payment: record it if paid, close the page if it failed."""
    attempt = PaymentAttempt.objects.get(session_id=session_id)
    session = payments.retrieve_checkout_session(session_id, attempt.provider)
    if session.is_paid:
        return fulfil_checkout(session_id=session_id, session=session)
    if session.status == "expired" or _overdue(attempt):
        if release_checkout_session(session_id=session_id):
            PaymentAttempt.objects.filter(pk=attempt.pk).update(
                response_code=session.response_code[:10] or attempt.response_code
            )
            log.info("%s payment %s closed (%s)", attempt.provider, session_id, session.status)
    return None


def _overdue(attempt: PaymentAttempt) -> bool:
    return attempt.expires_at is not None and attempt.expires_at + PENDING_GRACE < timezone.now()


def settle_pending_wallet_payments() -> int:
    """The job: ask about every open wallet page until it is paid, fails or expires; how many
    were settled as paid. A page the wallet never saw (the buyer did not get there) closes
    once it expires."""
    settled = 0
    open_pages = PaymentAttempt.objects.filter(status=PaymentAttempt.Status.OPEN).exclude(
        provider="stripe"
    )
    for attempt in open_pages.order_by("pk"):
        try:
            settled += settle_wallet_attempt(attempt.session_id) is not None
        except PaymentProviderError as error:
            if not error.retryable and attempt.expires_at and attempt.expires_at < timezone.now():
                release_checkout_session(session_id=attempt.session_id)
            log.info("could not ask about %s: %s", attempt.session_id, error.detail)
    return settled
