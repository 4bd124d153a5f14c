"""Helpers for the payment tests: sellers able to be paid, auction orders, signed events."""

import json
import time
from datetime import timedelta
from decimal import Decimal

from django.utils import timezone

from marketplace import models
from marketplace.models.orders import new_reference
from marketplace.tests.factories.accounts import lose_payouts
from marketplace.tests.factories.catalog import AuctionProductFactory
from marketplace.tests.stripe_support import WEBHOOK_SECRET
from stripe_emulator import sign_payload


def ready_to_be_paid(seller, account_id: str | None = None) -> models.ConnectedAccount:
    """A connected account row that says the seller can receive transfers (no provider call)."""
    account, _ = models.ConnectedAccount.objects.update_or_create(
        user=seller,
        defaults={
            "stripe_account_id": account_id or f"acct_test{seller.pk}",
            "payouts_enabled": True,
            "charges_enabled": False,
            "details_submitted": True,
            "transfers_active": True,
        },
    )
    return account


def won_auction_order(
    seller,
    winner,
    *,
    price: str = "5000.00",
    overdue: bool = False,
    bidders=(),
    seller_ready: bool = True,
) -> models.Order:
    """An auction `winner` won at `price`: bids by `bidders` (each below the winner's) and the
    winner, the auction ended sold, and a checkout of one order with no address yet. The seller
    can be paid unless `seller_ready` is False."""
    now = timezone.now()
    if seller_ready:
        ready_to_be_paid(seller)
    else:
        lose_payouts(seller)
    product = AuctionProductFactory(
        seller=seller,
        auction__starting_price=Decimal("1000.00"),
        auction__current_price=Decimal(price),
        auction__starts_at=now - timedelta(days=3),
        auction__ends_at=now - timedelta(days=2),
        auction__status=models.AuctionListing.Status.ENDED_SOLD,
    )
    auction = product.auction
    for step, bidder in enumerate(bidders, start=1):
        models.Bid.objects.create(
            auction=auction, bidder=bidder, amount=Decimal(price) - 500 * step
        )
    models.Bid.objects.create(auction=auction, bidder=winner, amount=Decimal(price))
    auction.winner = winner
    auction.save(update_fields=["winner"])
    checkout = models.Checkout.objects.create(number=new_reference("C-"), buyer=winner)
    deadline = now - timedelta(minutes=1) if overdue else now + timedelta(hours=24)
    order = models.Order.objects.create(
        number=new_reference("MPK-"),
        checkout=checkout,
        buyer=winner,
        seller=seller,
        auction=auction,
        subtotal=Decimal(price),
        total=Decimal(price),
        payment_deadline=deadline,
    )
    models.OrderItem.objects.create(
        order=order,
        product=product,
        title=product.title,
        unit_price=Decimal(price),
        quantity=1,
        line_total=Decimal(price),
    )
    return order


def signed_event(body: dict, *, secret: str = WEBHOOK_SECRET, age: int = 0) -> tuple[bytes, str]:
    payload = json.dumps(body).encode()
    return payload, sign_payload(payload, secret, int(time.time()) - age)
