"""Notices (in-app and e-mail, through notify()) about payments, deadlines and blocks.

Called inside the transaction that makes the change; notify() writes the row there and sends
the e-mail after commit, once per dedupe key. Text is lazy: rendered in the reader's language.
"""

from decimal import Decimal
from zoneinfo import ZoneInfo

from django.conf import settings
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy

from marketplace.i18n import lazy_format
from marketplace.models import (
    Checkout,
    LedgerEntry,
    Notification,
    Order,
    Payment,
    SecondChanceOffer,
    User,
)
from marketplace.money import lazy_pkr, quantize
from marketplace.services.notifications import notify


def _pkt(when) -> str:
    """A time for the reader, in Pakistan time and a format that needs no translation."""
    return timezone.localtime(when, ZoneInfo("Asia/Karachi")).strftime("%Y-%m-%d %H:%M")


def checkout_paid(*, checkout: Checkout, payment: Payment, orders: list[Order]) -> None:
    """The buyer's receipt and, for each seller, "paid: please send it"."""
    paid = sum((order.total for order in orders), Decimal("0.00"))
    notify(
        user=checkout.buyer,
        kind=Notification.Kind.PAYMENT_RECEIVED,
        title=lazy_format(
            gettext_lazy("Payment received for checkout %(number)s"), number=checkout.number
        ),
        body=lazy_format(
            gettext_lazy(
                "Thank you: %(amount)s is paid. The seller will now prepare your items for "
                "delivery."
            ),
            amount=lazy_pkr(paid),
        ),
        url=reverse("checkout_detail", args=[checkout.number]),
        dedupe_key=f"payment:{payment.pk}",
    )
    for order in orders:
        share = LedgerEntry.objects.filter(order=order).totals()["pending"]
        notify(
            user=order.seller,
            kind=Notification.Kind.PAYMENT_RECEIVED,
            title=lazy_format(
                gettext_lazy("Order %(number)s is paid: please send it"), number=order.number
            ),
            body=lazy_format(
                gettext_lazy(
                    "The buyer paid %(total)s. Your share after the MadeInPK fee, %(share)s, "
                    "is held by MadeInPK until %(days)s days after the buyer confirms "
                    "delivery, then paid to your payout method."
                ),
                total=lazy_pkr(order.total),
                share=lazy_pkr(quantize(share)),
                days=settings.LEDGER_RELEASE_DAYS,
            ),
            url=reverse("order_detail", args=[order.number]),
            dedupe_key=f"order:{order.pk}:paid",
        )


def payment_reminder(*, order: Order) -> Notification | None:
    return notify(
        user=order.buyer,
        kind=Notification.Kind.PAYMENT_REMINDER,
        title=lazy_format(
            gettext_lazy("Reminder: please pay for order %(number)s"), number=order.number
        ),
        body=lazy_format(
            gettext_lazy("Pay %(total)s by %(when)s (Pakistan time), or the order is cancelled."),
            total=lazy_pkr(order.total),
            when=_pkt(order.payment_deadline),
        ),
        url=reverse("checkout_detail", args=[order.checkout.number]),
        dedupe_key=f"order:{order.pk}:reminder",
    )


def order_unpaid(*, order: Order, violation: bool, offer: SecondChanceOffer | None) -> None:
    """An order cancelled at its deadline: the buyer is told (and warned when it counts as a
    violation); the seller learns what happens to the item."""
    if violation:
        count = order.buyer.payment_violations.count()
        body = lazy_format(
            gettext_lazy(
                "You did not pay for an item you won, so the order was cancelled. This is "
                "non-payment %(count)s of %(limit)s: at %(limit)s you can no longer bid or buy."
            ),
            count=count,
            limit=settings.PAYMENT_VIOLATIONS_BEFORE_BLOCK,
        )
    else:
        body = gettext_lazy("It was not paid by its deadline, so it was cancelled.")
    notify(
        user=order.buyer,
        kind=Notification.Kind.ORDER_UNPAID,
        title=lazy_format(
            gettext_lazy("Order %(number)s is cancelled: not paid in time"), number=order.number
        ),
        body=body,
        url=reverse("order_detail", args=[order.number]),
        dedupe_key=f"order:{order.pk}:unpaid",
    )
    if offer is not None:
        seller_body = lazy_format(
            gettext_lazy(
                "The buyer did not pay. We offered the item to the next highest bidder at "
                "their last bid, %(amount)s, until %(when)s (Pakistan time)."
            ),
            amount=lazy_pkr(offer.amount),
            when=_pkt(offer.expires_at),
        )
    elif order.auction_id:
        seller_body = gettext_lazy("The buyer did not pay and nobody else can be offered the item.")
    else:
        seller_body = gettext_lazy("The buyer did not pay; the items are back on sale.")
    notify(
        user=order.seller,
        kind=Notification.Kind.ORDER_UNPAID,
        title=lazy_format(
            gettext_lazy("Order %(number)s was not paid and is cancelled"), number=order.number
        ),
        body=seller_body,
        url=reverse("order_detail", args=[order.number]),
        dedupe_key=f"order:{order.pk}:unpaid",
    )


def second_chance_offered(*, offer: SecondChanceOffer, title: str) -> None:
    notify(
        user=offer.bidder,
        kind=Notification.Kind.SECOND_CHANCE_OFFER,
        title=lazy_format(
            gettext_lazy("Second chance: buy “%(title)s” for %(amount)s"),
            title=title,
            amount=lazy_pkr(offer.amount),
        ),
        body=lazy_format(
            gettext_lazy(
                "The winner did not pay. You may buy it at your last bid until %(when)s "
                "(Pakistan time)."
            ),
            when=_pkt(offer.expires_at),
        ),
        url=reverse("offer_list"),
        dedupe_key=f"offer:{offer.pk}",
    )


def account_blocked(*, user: User, violations: int) -> None:
    notify(
        user=user,
        kind=Notification.Kind.ACCOUNT_BLOCKED,
        title=gettext_lazy("Your account is blocked from bidding and buying"),
        body=lazy_format(
            gettext_lazy(
                "%(count)s items you won were not paid for by their deadline. You can still "
                "see your orders; contact us through the help page to ask for the block to be "
                "lifted."
            ),
            count=violations,
        ),
        url=reverse("profile"),
        dedupe_key=f"blocked:{violations}",
    )
