"""Refunds staff send by hand (cash on delivery; the `manual` payment provider).

`refunds.refund_in_full` writes such a refund as owed and asks the buyer for an account. Then:
the buyer gives a bank account (IBAN) or a JazzCash/Easypaisa wallet, checked as sellers'
payout methods are (`give_refund_account`); staff send the money outside the site and mark
the refund sent with their reference (`mark_refund_sent`) or failed with the reason
(`mark_refund_failed`: the buyer then gives an account again). Both marks go through
`refunds.send_refund`, the one path that records a refund's outcome (and makes the order
REFUNDED). Each step locks the refund row first, as `send_refund` does; doing it twice
changes nothing the second time.
"""

from datetime import datetime

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from marketplace.exceptions import PaymentRejected
from marketplace.models import OrderEvent, Refund, User
from marketplace.payments.manual_provider import FAILED_REASON, SENT_REFERENCE
from marketplace.services import refund_notices
from marketplace.services.orders import record_event
from marketplace.services.refunds import send_refund
from marketplace.validators import normalize_pk_iban, normalize_wallet_number

REFERENCE_MAX_LENGTH = 100


def _locked(refund: Refund) -> Refund:
    return (
        Refund.objects.select_for_update(of=("self",))
        .select_related("order__buyer")
        .get(pk=refund.pk)
    )


def _payee(kind: str, iban: str, wallet_number: str, account_title: str) -> dict[str, str]:
    """The account as stored, or PaymentRejected with the first problem in it."""
    title = " ".join(str(account_title or "").split())
    try:
        if kind == Refund.PayeeKind.BANK:
            account = {"payee_iban": normalize_pk_iban(iban), "payee_wallet": ""}
        elif kind in Refund.WALLETS:
            account = {"payee_iban": "", "payee_wallet": normalize_wallet_number(wallet_number)}
        else:
            raise PaymentRejected(_("Choose where to send the refund."), code="bad_kind")
    except ValidationError as error:
        raise PaymentRejected(error.messages[0], code="bad_account") from None
    if not title:
        raise PaymentRejected(_("Enter the account title."), code="no_title")
    if len(title) > 100:
        raise PaymentRejected(
            _("Please keep it under %(max)s characters.") % {"max": 100}, code="too_long"
        )
    return {"payee_kind": kind, "payee_title": title, **account}


def give_refund_account(
    *,
    refund: Refund,
    by: User,
    kind: str,
    iban: str = "",
    wallet_number: str = "",
    account_title: str = "",
    now: datetime | None = None,
) -> Refund:
    """The buyer says where their refund goes: while none is given, or after staff could not
    send it to the last one (the refund is owed again)."""
    payee = _payee(kind, iban, wallet_number, account_title)
    with transaction.atomic():
        refund = _locked(refund)
        order = refund.order
        if order is None or by.pk != order.buyer_id:
            raise PaymentRejected(
                _("Only the buyer can say where a refund goes."), code="not_buyer"
            )
        if not refund.needs_payee:
            raise PaymentRejected(
                _("This refund's account is given already; staff are sending it."),
                code="payee_given",
            )
        for name, value in payee.items():
            setattr(refund, name, value)
        refund.payee_given_at = now or timezone.now()
        refund.status, refund.last_error = Refund.Status.PENDING, ""
        refund.save()
        record_event(
            order=order,
            kind=OrderEvent.Kind.REFUND_ACCOUNT,
            actor=by,
            note=f"{refund.get_payee_kind_display()} {refund.payee_masked}",
        )
        refund_notices.tell_staff_account_given(refund)
    return refund


def _check_staff(by: User) -> None:
    if not by.is_staff:
        raise PaymentRejected(_("Only staff can mark a refund sent."), code="not_staff")


def _check_staff_may_mark(refund: Refund) -> None:
    if not refund.is_manual:
        raise PaymentRejected(
            _("Refund %(key)s goes back through its payment provider, not by hand.")
            % {"key": refund.idempotency_key},
            code="not_manual",
        )
    if refund.needs_payee:
        raise PaymentRejected(
            _("Refund %(key)s has no account to send it to yet: the buyer gives one first.")
            % {"key": refund.idempotency_key},
            code="no_payee",
        )


def mark_refund_sent(*, refund: Refund, by: User, reference: str) -> Refund:
    """Staff sent the money to the buyer's account: the refund succeeds with their reference
    (through `send_refund`), the order becomes refunded, the buyer is told. Marking it again
    with the same reference is a no-op."""
    reference = " ".join(str(reference or "").split())
    if not reference:
        raise PaymentRejected(_("Enter the bank's or wallet's reference."), code="no_reference")
    if len(reference) > REFERENCE_MAX_LENGTH:
        raise PaymentRejected(
            _("Please keep it under %(max)s characters.") % {"max": REFERENCE_MAX_LENGTH},
            code="too_long",
        )
    _check_staff(by)
    with transaction.atomic():
        refund = _locked(refund)
        if refund.status == Refund.Status.SUCCEEDED and refund.stripe_refund_id == reference:
            return refund
        if refund.status == Refund.Status.SUCCEEDED:
            raise PaymentRejected(
                _("Refund %(key)s was marked sent already, with reference %(reference)s.")
                % {"key": refund.idempotency_key, "reference": refund.stripe_refund_id},
                code="sent",
            )
        _check_staff_may_mark(refund)
        refund = send_refund(refund.pk, raise_errors=True, staff_word={SENT_REFERENCE: reference})
        _settled(refund, by)
        refund_notices.tell_sent(refund)
    return refund


def mark_refund_failed(*, refund: Refund, by: User, reason: str) -> Refund:
    """Staff could not send it (the account was wrong, say): the refund fails with the reason,
    and the buyer is asked for an account again. Marking a failed refund again is a no-op."""
    reason = " ".join(str(reason or "").split())[:300]
    if not reason:
        raise PaymentRejected(_("Say why the refund could not be sent."), code="no_reason")
    _check_staff(by)
    with transaction.atomic():
        refund = _locked(refund)
        if refund.status == Refund.Status.FAILED and refund.is_manual:
            return refund
        if refund.status == Refund.Status.SUCCEEDED:
            raise PaymentRejected(
                _("Refund %(key)s was marked sent already.") % {"key": refund.idempotency_key},
                code="sent",
            )
        _check_staff_may_mark(refund)
        refund = send_refund(refund.pk, staff_word={FAILED_REASON: reason})
        _settled(refund, by)
        record_event(order=refund.order, kind=OrderEvent.Kind.REFUND_FAILED, actor=by, note=reason)
        refund_notices.tell_failed(refund)
    return refund


def _settled(refund: Refund, by: User) -> None:
    refund.settled_by, refund.settled_at = by, timezone.now()
    refund.save(update_fields=["settled_by", "settled_at"])
