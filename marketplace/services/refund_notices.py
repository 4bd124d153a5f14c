"""Notices about a refund MadeInPK staff send by hand (cash on delivery), in each reader's
language: the buyer is asked for an account, staff are told one was given, and the buyer hears
that the money was sent or did not go through. Written in the caller's transaction."""

from django.urls import reverse
from django.utils.translation import gettext_lazy

from marketplace.i18n import lazy_format
from marketplace.models import Notification, Refund, User
from marketplace.money import lazy_pkr
from marketplace.services.notifications import notify


def _tell_buyer(refund: Refund, event: str, title, body) -> None:
    order = refund.order
    notify(
        user=order.buyer,
        kind=Notification.Kind.REFUND_UPDATED,
        title=title,
        body=body,
        url=reverse("order_detail", args=[order.number]),
        dedupe_key=f"refund:{refund.pk}:{event}",
    )


def ask_for_account(refund: Refund) -> None:
    """The refund is owed: the buyer paid in cash, so they say where it should go."""
    _tell_buyer(
        refund,
        "owed",
        lazy_format(
            gettext_lazy("Order %(number)s: where should we send your refund?"),
            number=refund.order.number,
        ),
        lazy_format(
            gettext_lazy(
                "You get %(total)s back. You paid in cash, so please tell us on the order page "
                "which bank account (IBAN), JazzCash or Easypaisa wallet to send it to."
            ),
            total=lazy_pkr(refund.amount),
        ),
    )


def tell_staff_account_given(refund: Refund) -> None:
    """Staff have a refund to send now."""
    order = refund.order
    url = reverse("admin:marketplace_refund_change", args=[refund.pk])
    for staff in User.objects.filter(is_staff=True, is_active=True):
        notify(
            user=staff,
            kind=Notification.Kind.REFUND_UPDATED,
            title=lazy_format(
                gettext_lazy("Refund to send: order %(number)s"), number=order.number
            ),
            body=lazy_format(
                gettext_lazy(
                    "Send %(total)s to the buyer's account, then mark the refund sent with "
                    "your reference."
                ),
                total=lazy_pkr(refund.amount),
            ),
            url=url,
            dedupe_key=f"refund:{refund.pk}:account:{refund.payee_given_at.isoformat()}",
        )


def tell_sent(refund: Refund) -> None:
    _tell_buyer(
        refund,
        "sent",
        lazy_format(gettext_lazy("Refund of %(total)s sent"), total=lazy_pkr(refund.amount)),
        lazy_format(
            gettext_lazy(
                "Sent to %(account)s (order %(number)s), reference %(reference)s. It can take "
                "a working day to show in your account."
            ),
            account=refund.payee_masked,
            number=refund.order.number,
            reference=refund.stripe_refund_id,
        ),
    )


def tell_failed(refund: Refund) -> None:
    _tell_buyer(
        refund,
        f"failed:{refund.attempts}",
        lazy_format(
            gettext_lazy("Order %(number)s: your refund did not go through"),
            number=refund.order.number,
        ),
        lazy_format(
            gettext_lazy(
                "We could not send %(total)s to %(account)s: “%(reason)s”. Please check the "
                "account and give it again on the order page."
            ),
            total=lazy_pkr(refund.amount),
            account=refund.payee_masked,
            reason=refund.last_error,
        ),
    )
