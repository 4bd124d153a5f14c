"""After the sale, in two browsers: live messages, shipping, delivery, feedback, shop rating."""

from playwright.sync_api import expect

from marketplace.models import Feedback, Order
from marketplace.services.messaging import start_conversation
from marketplace.tests.browser.conftest import PHONE, login_as, overflows_horizontally
from marketplace.tests.factories.fulfilment import paid_order

TIMEOUT = 10_000


def test_buyer_and_seller_talk_live_then_ship_confirm_and_rate(
    page, browser, live_url, seller, buyer, screenshot
):
    order = paid_order(seller, buyer, title="Multani blue vase")
    conversation = start_conversation(user=buyer, order=order)
    login_as(page.context, live_url, seller)
    buyer_context = browser.new_context(base_url=live_url, viewport=PHONE, locale="en-GB")
    login_as(buyer_context, live_url, buyer)
    buyer_page = buyer_context.new_page()
    try:
        # Both open the thread; what one sends appears on the other's screen without a reload.
        thread = f"/messages/{conversation.pk}/"
        page.goto(thread)
        buyer_page.goto(thread)
        expect(page.locator("#message-list")).to_be_attached()
        buyer_page.wait_for_timeout(500)  # sockets connect
        buyer_page.locator("#message-form textarea").fill("Is it packed in a crate?")
        buyer_page.locator("#message-form [type=submit]").click()
        expect(page.locator("#message-list")).to_contain_text(
            "Is it packed in a crate?", timeout=TIMEOUT
        )
        page.locator("#message-form textarea").fill("Yes, a wooden crate.")
        page.locator("#message-form [type=submit]").click()
        expect(buyer_page.locator("#message-list")).to_contain_text(
            "Yes, a wooden crate.", timeout=TIMEOUT
        )
        # Each message once on each screen (the form's answer and the socket both bring it).
        expect(buyer_page.locator("#message-list li.message")).to_have_count(2)
        expect(page.locator("#message-list li.message")).to_have_count(2)
        assert not overflows_horizontally(buyer_page)
        screenshot(buyer_page, "thread")

        # The seller ships.
        page.goto(f"/orders/{order.number}/")
        page.locator("#ship-form input[name=courier]").fill("TCS")
        page.locator("#ship-form input[name=tracking_number]").fill("TCS-778899")
        page.locator("#ship-form [type=submit]").click()
        expect(page.locator("#order-status")).to_contain_text("Shipped", timeout=TIMEOUT)
        expect(page.locator("#order-timeline")).to_contain_text("TCS-778899")

        # The buyer confirms delivery and leaves feedback, all on the order page.
        buyer_page.goto(f"/orders/{order.number}/")
        expect(buyer_page.locator("#order-progress")).to_contain_text("TCS-778899")
        # Confirming asks first: the button opens the question, "Yes" sends it.
        expect(buyer_page.get_by_role("button", name="Yes, it has arrived")).to_be_hidden()
        buyer_page.locator("#confirm-delivery-step summary").click()
        buyer_page.get_by_role("button", name="Yes, it has arrived").click()
        expect(buyer_page.locator("#order-status")).to_contain_text("Delivered", timeout=TIMEOUT)
        form = buyer_page.locator("#feedback-form")
        expect(form).to_be_visible(timeout=TIMEOUT)
        # Scores are star radio buttons: a buyer taps the star (its label).
        for name, stars in (
            ("seller_rating", 5),
            ("communication", 4),
            ("shipping_speed", 5),
            ("platform_rating", 4),
        ):
            form.locator(f"label[for=id_{name}_{stars - 1}]").click()
            expect(form.locator(f"input[name={name}][value='{stars}']")).to_be_checked()
        form.locator("input[name=item_as_described][value='yes']").check()
        form.locator("textarea[name=comment]").fill("Arrived safe. Beautiful blue.")
        form.locator("[type=submit]").click()
        expect(buyer_page.locator("#order-feedback")).to_contain_text(
            "Thank you for your feedback", timeout=TIMEOUT
        )
        expect(buyer_page.locator("#order-timeline")).to_contain_text("Feedback left")
        assert not overflows_horizontally(buyer_page)
        screenshot(buyer_page, "order-after-feedback")

        # The seller's rating shows on the shop page.
        page.goto(f"/shops/{seller.seller_profile.slug}/")
        expect(page.locator("#shop-rating")).to_contain_text("5.0")
        expect(page.locator("#shop-feedback")).to_contain_text("Arrived safe. Beautiful blue.")
        screenshot(page, "shop")
    finally:
        buyer_context.close()

    order.refresh_from_db()
    assert order.status == Order.Status.DELIVERED
    assert Feedback.objects.get(order=order).seller_rating == 5
