"""End to end in Chromium with the Stripe emulator: a seller gets paid for a won auction."""

from datetime import timedelta
from decimal import Decimal

from django.utils import timezone
from playwright.sync_api import expect

from marketplace.models import AuctionListing, Order, SellerTransfer
from marketplace.services.bidding import place_bid
from marketplace.services.closing import close_auction
from marketplace.tasks import send_pending_transfers
from marketplace.tests.browser.conftest import login
from marketplace.tests.factories.accounts import SellerFactory, UserFactory
from marketplace.tests.factories.catalog import AuctionProductFactory
from marketplace.tests.factories.orders import address_of
from marketplace.tests.stripe_support import control


def test_an_auction_won_is_paid_on_the_hosted_page_and_the_seller_sees_fee_and_held_share(
    page, browser, live_url, stripe_emulator, settings, screenshot
):
    settings.STRIPE_API_BASE = stripe_emulator.base_url
    settings.STRIPE_SECRET_KEY = "sk_test_browser"
    seller = SellerFactory(username="amina", seller_profile__shop_name="Amina Pottery")
    buyer = UserFactory(username="bilal", first_name="Bilal")
    rival = UserFactory(username="rabia")
    address_of(buyer)

    # The seller sets up payouts on Stripe's (the emulator's) onboarding page.
    login(page, seller)
    page.goto("/sell/payouts/")
    page.click("#payouts-start")
    page.click("#complete-onboarding")
    expect(page.locator("#payout-status")).to_contain_text("You are ready to be paid")

    # Two bidders; the auction ends and Bilal wins.
    product = AuctionProductFactory(
        seller=seller, title="Multani blue pottery vase", auction__starting_price=Decimal("5000")
    )
    auction = product.auction
    place_bid(auction_id=auction.pk, bidder=rival, amount=Decimal("5000"))
    place_bid(auction_id=auction.pk, bidder=buyer, amount=Decimal("6000"))
    AuctionListing.objects.filter(pk=auction.pk).update(
        ends_at=timezone.now() - timedelta(seconds=1)
    )
    close_auction(auction_id=auction.pk)
    order = Order.objects.get(auction=auction)

    # The winner chooses the delivery address and pays on the hosted page.
    buyer_page = browser.new_context(base_url=live_url).new_page()
    login(buyer_page, buyer)
    buyer_page.goto(f"/orders/{order.number}/")
    buyer_page.get_by_role("link", name="Choose address and pay").click()
    buyer_page.get_by_role("button", name="Deliver here").click()
    screenshot(buyer_page, "checkout")
    buyer_page.click("#pay-button")
    buyer_page.wait_for_url(f"{stripe_emulator.base_url}/**")
    buyer_page.get_by_role("button", name="Pay").first.click()
    expect(buyer_page.locator("#payment-status")).to_contain_text("Payment received")
    screenshot(buyer_page, "paid")
    order.refresh_from_db()
    assert order.status == Order.Status.PAID

    # Issue 14: nothing is transferred at payment; the seller sees the fee and their share,
    # held in the ledger until the return window after delivery ends.
    assert send_pending_transfers()["sent"] == 0
    page.goto(f"/orders/{order.number}/")
    panel = page.locator("#seller-payment")
    expect(panel).to_contain_text("Rs 120")  # 2% of Rs 6,000
    expect(panel).to_contain_text("Rs 5,880")
    expect(panel).to_contain_text("Held until the return window after delivery ends")
    screenshot(page, "seller-order")
    assert not SellerTransfer.objects.filter(order=order).exists()


def test_a_fixed_price_order_is_paid_and_the_buyer_sees_it_paid(
    page, live_url, stripe_emulator, settings, screenshot
):
    from marketplace.models import ConnectedAccount
    from marketplace.services.payouts import refresh_connected_account, start_payouts_onboarding
    from marketplace.tests.factories.orders import listing_by, order_for

    settings.STRIPE_API_BASE = stripe_emulator.base_url
    settings.STRIPE_SECRET_KEY = "sk_test_browser"
    seller = SellerFactory(username="zainab", seller_profile__shop_name="Zainab Rugs")
    start_payouts_onboarding(seller=seller, refresh_url="http://x/", return_url="http://x/")
    account_id = ConnectedAccount.objects.get(user=seller).stripe_account_id
    control(stripe_emulator.base_url, f"accounts/{account_id}/enable")
    refresh_connected_account(seller=seller)
    buyer = UserFactory(username="bilal", first_name="Bilal")
    order = order_for(buyer, listing_by(seller, price="18999.99", title="Hand-knotted rug"))

    login(page, buyer)
    page.goto(f"/checkouts/{order.checkout.number}/")
    page.click("#pay-button")
    page.wait_for_url(f"{stripe_emulator.base_url}/**")
    page.get_by_role("button", name="Pay").first.click()
    expect(page.locator("#payment-status")).to_contain_text("Payment received")
    page.goto("/orders/")
    expect(page.locator(".list-group")).to_contain_text("Paid")
    screenshot(page, "orders")
    assert send_pending_transfers()["sent"] == 0  # issue 14: held in the ledger, not transferred
