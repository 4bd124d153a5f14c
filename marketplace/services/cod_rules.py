"""When cash on delivery (COD) may be chosen (issue 15): one rule for the checkout page, the
API and the services that place or switch orders (which apply it again under their locks)."""

from collections.abc import Iterable
from decimal import Decimal

from django.conf import settings
from django.core import signing
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext

from marketplace.exceptions import PurchaseRejected
from marketplace.i18n import lazy_format
from marketplace.models import CodRefusal, Notification, Order, SellerProfile, User
from marketplace.money import format_pkr, lazy_pkr
from marketplace.services.notifications import notify

CONFIRM_SALT = "marketplace.cod.confirm"


def refusals_counting(buyer: User) -> int:
    """The buyer's refused or uncollected COD parcels that still count (not cleared by staff)."""
    return CodRefusal.objects.counting().filter(buyer=buyer).count()


def buyer_cod_refusal(buyer: User) -> PurchaseRejected | None:
    """Why this buyer may not choose COD at all (too many refused parcels), or None."""
    limit = settings.COD_REFUSAL_LIMIT
    if refusals_counting(buyer) >= limit:
        return PurchaseRejected(
            _(
                "Cash on delivery is not available to you: %(count)s of your cash-on-delivery "
                "parcels were refused or could not be delivered. Please pay online, or contact "
                "us to have it reviewed."
            )
            % {"count": limit},
            code="cod_refused_before",
        )
    return None


def cod_refusal(
    *,
    buyer: User,
    profiles: Iterable[SellerProfile | None],
    total: Decimal,
    for_auction: bool = False,
) -> PurchaseRejected | None:
    """Why COD is not offered for a checkout from these shops worth `total` (delivery
    included), or None when it is: every shop accepts it (for an auction win, allows it for
    wins), the total is below COD_LIMIT, and the buyer is not over the refusal limit."""
    refusal = buyer_cod_refusal(buyer)
    if refusal is not None:
        return refusal
    profiles = list(profiles)
    if for_auction:
        refusing = [p for p in profiles if p is None or not p.cod_for_auctions]
    else:
        refusing = [p for p in profiles if p is None or not p.accepts_cod]
    if refusing:
        names = ", ".join(p.shop_name if p is not None else "?" for p in refusing)
        if for_auction:
            message = ngettext(
                "%(shops)s takes online payment only for auction wins.",
                "%(shops)s take online payment only for auction wins.",
                len(refusing),
            )
        else:
            message = ngettext(
                "%(shops)s does not accept cash on delivery.",
                "%(shops)s do not accept cash on delivery.",
                len(refusing),
            )
        return PurchaseRejected(message % {"shops": names}, code="cod_not_accepted")
    if total >= settings.COD_LIMIT:
        return PurchaseRejected(
            _(
                "Cash on delivery is only for orders below %(limit)s; this one is %(total)s. "
                "Please pay online."
            )
            % {"limit": format_pkr(settings.COD_LIMIT), "total": format_pkr(total)},
            code="cod_over_limit",
        )
    return None


# --- Asking the buyer to confirm -----------------------------------------------------------


def confirm_token(order: Order) -> str:
    """The signed part of the link that confirms `order` (it names the order and its buyer)."""
    return signing.dumps({"o": order.pk, "b": order.buyer_id}, salt=CONFIRM_SALT)


def read_confirm_token(token: str) -> tuple[int, int] | None:
    """(order pk, buyer pk) of a valid, unexpired link, or None. The order's own deadline is
    checked by the service; the signature lasts a little longer, never shorter."""
    try:
        data = signing.loads(
            token, salt=CONFIRM_SALT, max_age=(settings.COD_CONFIRM_HOURS + 1) * 3600
        )
    except signing.BadSignature:  # includes SignatureExpired
        return None
    if not isinstance(data, dict) or not all(isinstance(data.get(k), int) for k in ("o", "b")):
        return None
    return data["o"], data["b"]


def confirm_url(order: Order) -> str:
    return reverse("order_cod_confirm_link", args=[order.number, confirm_token(order)])


def ask_for_confirmation(order: Order) -> None:
    """Notify the buyer (on the site and by e-mail) with the signed link that confirms it."""
    notify(
        user=order.buyer,
        kind=Notification.Kind.COD_CONFIRM,
        title=lazy_format(
            gettext_lazy("Please confirm your cash-on-delivery order %(number)s"),
            number=order.number,
        ),
        body=lazy_format(
            gettext_lazy(
                "You will pay %(total)s in cash when it arrives. The seller sends it only "
                "after you confirm, within %(hours)s hours; unconfirmed, it is cancelled."
            ),
            total=lazy_pkr(order.total),
            hours=settings.COD_CONFIRM_HOURS,
        ),
        url=confirm_url(order),
        dedupe_key=f"order:{order.pk}:cod-confirm",
    )


def unconfirmed_cancelled(order: Order) -> None:
    """Tell both parties an unconfirmed COD order was cancelled at its deadline."""
    url = reverse("order_detail", args=[order.number])
    notify(
        user=order.buyer,
        kind=Notification.Kind.ORDER_CANCELLED,
        title=lazy_format(
            gettext_lazy("Order %(number)s is cancelled: not confirmed in time"),
            number=order.number,
        ),
        body=gettext_lazy("You did not confirm this cash-on-delivery order, so it was cancelled."),
        url=url,
        dedupe_key=f"order:{order.pk}",
    )
    notify(
        user=order.seller,
        kind=Notification.Kind.ORDER_CANCELLED,
        title=lazy_format(
            gettext_lazy("Order %(number)s was not confirmed and is cancelled"),
            number=order.number,
        ),
        body=gettext_lazy(
            "The buyer did not confirm this cash-on-delivery order; the items are back on sale. "
            "Please do not send it."
        ),
        url=url,
        dedupe_key=f"order:{order.pk}",
    )
