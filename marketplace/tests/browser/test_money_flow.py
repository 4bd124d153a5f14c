"""Issue 14 end to end in Chromium with the Stripe emulator: the buyer pays, the seller
ships, the buyer confirms, the return window passes, the release job runs, staff pay the batch
in the admin and the seller's statement shows it paid out; and a return accepted after
delivery refunds the buyer and shows on the seller's statement as a reversal."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from marketplace.models import Order, Payout, Refund, ReturnRequest
from marketplace.services import fulfilment, returns
from marketplace.tasks import draft_payout_batch, release_ledger_money
from marketplace.tests.browser.conftest import login
from marketplace.tests.browser.test_i18n_a11y import _phone_page, page_problems
from marketplace.tests.factories.ledger import deliver, sold, staff_user
from marketplace.tests.factories.orders import listing_by, order_for


def _paid_on_the_hosted_page(page, stripe_emulator, seller, buyer, settings) -> Order:
    """Bilal pays Amina's Rs 2,500 order on the (emulated) hosted payment page."""
    settings.STRIPE_API_BASE = stripe_emulator.base_url
    settings.STRIPE_SECRET_KEY = "sk_test_browser"
    order = order_for(buyer, listing_by(seller, price="2500.00", title="Multani blue plate"))
    login(page, buyer)
    page.goto(f"/checkouts/{order.checkout.number}/")
    page.click("#pay-button")
    page.wait_for_url(f"{stripe_emulator.base_url}/**")
    page.get_by_role("button", name="Pay").first.click()
    expect(page.locator("#payment-status")).to_contain_text("Payment received")
    order.refresh_from_db()
    assert order.status == Order.Status.PAID
    return order


def test_paid_shipped_delivered_released_and_paid_out_in_a_batch(
    page, browser, live_url, stripe_emulator, settings, seller, buyer, screenshot
):
    order = _paid_on_the_hosted_page(page, stripe_emulator, seller, buyer, settings)

    # The seller ships from the order page.
    seller_page = browser.new_context(base_url=live_url).new_page()
    login(seller_page, seller)
    seller_page.goto(f"/orders/{order.number}/")
    seller_page.fill("#id_courier", "TCS")
    seller_page.fill("#id_tracking_number", "TCS-556677")
    seller_page.get_by_role("button", name="Mark shipped").click()
    expect(seller_page.locator("#order-timeline")).to_contain_text("Shipped")

    # The buyer confirms delivery (two steps).
    page.goto(f"/orders/{order.number}/")
    page.locator("#confirm-delivery-step summary").click()
    page.get_by_role("button", name="Yes, it has arrived").click()
    expect(page.locator("#order-timeline")).to_contain_text("Delivery confirmed")
    expect(page.locator("#order-return")).to_be_visible()  # the return window is open

    # The return window passes; the release job and the weekly draft run.
    Order.objects.filter(pk=order.pk).update(
        delivered_at=timezone.now() - timedelta(days=settings.LEDGER_RELEASE_DAYS, minutes=1)
    )
    assert release_ledger_money() == 1
    assert draft_payout_batch() == 1
    line = Payout.objects.get(seller=seller)
    assert line.amount == Decimal("2450.00")

    # Staff mark the line paid in the admin, with the bank's reference.
    staff = staff_user()
    staff_page = browser.new_context(base_url=live_url).new_page()
    login(staff_page, staff)
    staff_page.goto("/admin/marketplace/payout/")
    staff_page.check(f"input[name=_selected_action][value='{line.pk}']")
    staff_page.fill("input[name=reference]", "IBFT-20261203-77")
    staff_page.select_option("select[name=action]", "mark_paid")
    staff_page.get_by_role("button", name="Go").click()
    expect(staff_page.locator(".messagelist")).to_contain_text("1 line(s) paid.")
    line.refresh_from_db()
    assert (line.status, line.reference) == (Payout.Status.PAID, "IBFT-20261203-77")

    # The seller's statement shows it paid out.
    seller_page.goto("/sell/statement/")
    expect(seller_page.locator("#balance-paid-out")).to_have_text("Rs 2,450")
    expect(seller_page.locator("#balance-pending")).to_have_text("Rs 0")
    expect(seller_page.locator("#balance-available")).to_have_text("Rs 0")
    screenshot(seller_page, "statement-paid-out")


def test_a_return_accepted_by_the_seller_refunds_the_buyer_and_reverses_the_sale(
    page, browser, live_url, stripe_emulator, settings, seller, buyer, screenshot
):
    order = _paid_on_the_hosted_page(page, stripe_emulator, seller, buyer, settings)
    fulfilment.mark_shipped(order=order, by=seller, courier="TCS", tracking_number="TCS-1")
    fulfilment.confirm_delivery(order=order, by=buyer)

    # The buyer asks for a return from the order page.
    page.goto(f"/orders/{order.number}/")
    screenshot(page, "buyer-order-delivered")
    page.click("#ask-return")
    page.get_by_label("Arrived damaged").check()
    page.fill("#id_details", "The plate arrived in two pieces.")
    screenshot(page, "return-form")
    page.get_by_role("button", name="Send the return request").click()
    expect(page.locator("#return-status")).to_have_text("Waiting for the seller")

    # The seller sees it and accepts (two steps).
    seller_page = browser.new_context(base_url=live_url).new_page()
    login(seller_page, seller)
    seller_page.goto(f"/orders/{order.number}/")
    expect(seller_page.locator("#order-return")).to_contain_text("The plate arrived in two pieces.")
    screenshot(seller_page, "seller-return")
    seller_page.locator("#return-accept-form summary").click()
    seller_page.get_by_role("button", name="Yes, accept and refund").click()
    expect(seller_page.locator("#return-status")).to_have_text("Accepted: refunded")

    refund = Refund.objects.get(order=order)
    assert refund.status == Refund.Status.SUCCEEDED and refund.stripe_refund_id
    assert ReturnRequest.objects.get().status == ReturnRequest.Status.ACCEPTED
    page.goto(f"/orders/{order.number}/")
    expect(page.locator("#order-cancelled")).to_contain_text("Rs 2,500 has been refunded to you")
    screenshot(page, "buyer-refunded")

    seller_page.goto("/sell/statement/")
    expect(seller_page.locator("#balance-pending")).to_have_text("Rs 0")
    expect(seller_page.locator("#entries")).to_contain_text("Refund or return")
    expect(seller_page.locator("#entries")).to_contain_text("Platform fee returned")
    screenshot(seller_page, "statement-reversal")


@pytest.mark.parametrize(("language", "direction"), [("en", "ltr"), ("ur", "rtl")])
def test_the_return_pages_fit_a_phone_and_pass_axe(
    browser, live_url, seller, buyer, screenshot, language, direction
):
    """The return form, the seller's answer and the buyer's dispute form, at 360 px."""
    delivered = sold(seller, buyer)
    deliver(delivered, days_ago=1)
    asked = sold(seller, buyer, "4000.00")
    deliver(asked, days_ago=2)
    request = returns.open_return(
        order=asked, by=buyer, reason="wrong_item", details="Green, not blue as in the photos."
    )
    refused = sold(seller, buyer, "1800.00")
    deliver(refused, days_ago=3)
    answer = returns.open_return(order=refused, by=buyer, reason="damaged", details="Chipped.")
    returns.refuse_return(request=answer, by=seller, reason="It left here whole, see my photos.")
    problems = []
    for user, pages in (
        (buyer, {"return-form": f"/orders/{delivered.number}/return/"}),
        (seller, {"seller-answer": f"/orders/{asked.number}/"}),
        (buyer, {"buyer-dispute": f"/orders/{refused.number}/"}),
    ):
        user.language = language
        user.save(update_fields=["language"])
        context, page = _phone_page(browser, live_url, user, language)
        for name, path in pages.items():
            assert page.goto(path).status == 200, name
            problems += page_problems(page, name, language, direction)
            screenshot(page, f"{name}-{language}")
        context.close()
    assert request.status == ReturnRequest.Status.REQUESTED
    assert problems == []


def test_staff_decide_a_dispute_in_the_admin(page, seller, buyer, screenshot):
    order = sold(seller, buyer)
    deliver(order, days_ago=2)
    request = returns.open_return(order=order, by=buyer, reason="damaged", details="Cracked.")
    returns.refuse_return(request=request, by=seller, reason="It left here whole.")
    returns.dispute_return(request=request, by=buyer, note="The box was crushed.")

    login(page, staff_user())
    page.goto(f"/admin/marketplace/returnrequest/{request.pk}/change/")
    page.fill("textarea[name=decision_note]", "The courier's photos show the box crushed.")
    page.get_by_role("button", name="Save", exact=True).click()
    page.goto("/admin/marketplace/returnrequest/?status__exact=disputed")
    screenshot(page, "admin-disputes")
    page.check(f"input[name=_selected_action][value='{request.pk}']")
    page.select_option("select[name=action]", "reject_disputes")
    page.get_by_role("button", name="Go").click()
    expect(page.locator(".messagelist")).to_contain_text("1 dispute decided.")
    request.refresh_from_db()
    assert request.status == ReturnRequest.Status.REJECTED
    assert request.decision_note == "The courier's photos show the box crushed."
    page.goto(f"/admin/marketplace/returnrequest/{request.pk}/change/")
    screenshot(page, "admin-decided")
