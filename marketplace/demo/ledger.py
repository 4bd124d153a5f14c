"""Demo money for `load_demo`: one seller (Imran) with money in every state of the ledger, so
a newcomer's first look at /sell/statement/ is a real statement.

Five orders by the demo buyer Zainab, each paid (a Payment row and the ledger's sale, as a
payment through the provider would leave them; no provider is called): one only paid
(pending), one delivered today (pending, in the return window), one delivered past the window
and released (available), one released and paid out in a paid payout line, and one delivered
with a return request waiting for the seller. Demo data only: the payments have no charge at
the provider, so accepting the demo return leaves its refund failed (the ledger's reversal is
still shown). Idempotent: does nothing once Zainab has bought from Imran.
"""

from collections.abc import Callable
from datetime import timedelta

from django.db import transaction
from django.utils import timezone

from marketplace.models import (
    Address,
    City,
    FixedPriceListing,
    Order,
    OrderEvent,
    Payment,
    PayoutBatch,
    PayoutMethod,
    User,
)
from marketplace.payments import platform_fee
from marketplace.services import fulfilment, ledger, payout_batches, returns
from marketplace.services.orders import place_checkout, record_event

SELLER, BUYER = "imran", "zainab"
PAST_THE_WINDOW = timedelta(days=30)


def load_demo_ledger(*, out: Callable[[str], None], err: Callable[[str], None]) -> None:
    seller = User.objects.filter(username=SELLER).first()
    buyer = User.objects.filter(username=BUYER).first()
    if seller is None or buyer is None:
        err("Demo money: run `manage.py load_demo` first.")
        return
    if Order.objects.filter(seller=seller, buyer=buyer).exists():
        out("Demo money: already there.")
        return
    listings = list(
        FixedPriceListing.objects.filter(product__seller=seller, status="active", quantity__gte=1)
        .select_related("product")
        .order_by("pk")
    )
    if len(listings) < 5:
        err("Demo money: needs five of the seller's listings.")
        return
    address = buyer.addresses.first() or Address.objects.create(
        user=buyer,
        full_name="Zainab Baloch",
        phone="+923211234567",
        line1="7 Jinnah Road",
        city=City.objects.get(name="Quetta"),
        is_default=True,
    )
    with transaction.atomic():
        _only_paid, in_window, available, paid_out, returned = (
            _paid(buyer, listing, address) for listing in listings[:5]
        )
        for order in (in_window, available, paid_out, returned):
            _delivered(order, seller, buyer)
        for order in (available, paid_out):
            Order.objects.filter(pk=order.pk).update(delivered_at=timezone.now() - PAST_THE_WINDOW)
        ledger.release_order(order=paid_out)
        _paid_out(seller)
        ledger.release_order(order=available)
        returns.open_return(
            order=returned,
            by=buyer,
            reason="damaged",
            details="One corner of the frame is cracked; photos sent in our messages.",
        )
    balances = ledger.balances(seller)
    out(
        f"Demo money for {SELLER}: pending {balances.pending}, available {balances.available},"
        f" paid out {balances.paid_out}; one return waiting (/sell/statement/)."
    )


def _paid(buyer: User, listing: FixedPriceListing, address) -> Order:
    order = place_checkout(buyer=buyer, lines=[(listing, 1)], address=address).orders.get()
    order.transition_to(Order.Status.PAID)
    order.save(update_fields=["status", "paid_at"])
    record_event(order=order, kind=OrderEvent.Kind.PAID)
    payment = Payment.objects.create(
        checkout=order.checkout,
        session_id=f"cs_demo_{order.number}",
        amount=order.total,
        currency="PKR",
        platform_fee=platform_fee(order.total),
    )
    ledger.record_sale(order=order, payment=payment)
    return order


def _delivered(order: Order, seller: User, buyer: User) -> None:
    fulfilment.mark_shipped(
        order=order, by=seller, courier="Leopards", tracking_number=f"LP-{order.pk:07d}"
    )
    fulfilment.confirm_delivery(order=order, by=buyer)


def _paid_out(seller: User) -> None:
    """A payout line for the seller's available money, paid by bank reference (the demo's own
    batch, so the weekly job's batch is left to the real flow)."""
    batch, _ = PayoutBatch.objects.get_or_create(key="demo")
    method = PayoutMethod.objects.current().get(seller=seller)
    line = payout_batches.draft_payout(batch=batch, seller_id=seller.pk, method=method)
    payout_batches.mark_payout_paid(line=line, reference="DEMO-IBFT-0001")
