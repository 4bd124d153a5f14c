"""A cash-on-delivery order through the courier emulator, in browsers: the seller books and
prints the label, the courier moves the parcel on its own page, the buyer follows the timeline,
the remittance credits the seller."""

from playwright.sync_api import expect

from marketplace.models import LedgerEntry, Order, Parcel
from marketplace.services import remittance
from marketplace.tests.browser.conftest import (
    PHONE,
    login_as,
    move_on_courier_page,
    overflows_horizontally,
)
from marketplace.tests.courier_support import cod_order

TIMEOUT = 10_000
JOURNEY = ("PostEx WareHouse", "Package on Route", "Out for Delivery", "Delivered")


def test_seller_books_prints_the_label_and_the_buyer_follows_the_parcel(
    page, browser, live_url, courier_emulator, courier_settings, seller, buyer, screenshot
):
    courier_emulator.store.reset()  # the session's emulator: its report is this test's alone
    order = cod_order(seller, buyer, title="Multani blue vase")
    login_as(page.context, live_url, seller)

    # The seller books the courier from the order page.
    page.goto(f"/orders/{order.number}/")
    form = page.locator("#book-parcel-form")
    expect(form.locator("input[name=cod_amount]")).to_be_disabled()
    expect(form.locator("input[name=cod_amount]")).to_have_value(str(order.total))
    screenshot(page, "order-before-booking")
    form.locator("input[name=weight_kg]").fill("1.5")
    form.locator("input[name=pieces]").fill("2")
    form.locator("[type=submit]").click()
    expect(page.locator("#messages")).to_contain_text("Parcel booked", timeout=TIMEOUT)
    parcel = Parcel.objects.get(order=order)
    expect(page.locator("#order-status")).to_contain_text("Shipped")
    expect(page.locator("#parcel-tracking")).to_contain_text(parcel.tracking_number)

    # The label: order number, addresses, cash to collect, the tracking number as bars and text.
    page.locator("#parcel-label-link").click()
    label = page.locator("#parcel-label")
    expect(label).to_contain_text(order.number)
    expect(label).to_contain_text(order.ship_line1)
    expect(label.locator("#label-tracking")).to_contain_text(parcel.tracking_number)
    expect(label.locator("#label-cod")).to_contain_text("Rs")
    expect(label.locator("svg rect").first).to_be_attached()
    screenshot(page, "label")
    page.emulate_media(media="print")
    expect(page.locator("nav.navbar")).to_be_hidden()
    screenshot(page, "label-print")
    page.emulate_media(media="screen")

    # The courier moves the parcel on the emulator's own page; each step calls the site back.
    courier_page = browser.new_page()
    move_on_courier_page(courier_page, courier_emulator, parcel.tracking_number, *JOURNEY)
    screenshot(courier_page, "courier-emulator")
    courier_page.close()

    # The buyer sees the tracking timeline and the delivery, with the courier's link.
    buyer_context = browser.new_context(base_url=live_url, viewport=PHONE, locale="en-GB")
    login_as(buyer_context, live_url, buyer)
    buyer_page = buyer_context.new_page()
    try:
        for _ in range(50):  # callbacks arrive within a moment of each click
            if Order.objects.get(pk=order.pk).status == Order.Status.DELIVERED:
                break
            buyer_page.wait_for_timeout(200)
        buyer_page.goto(f"/orders/{order.number}/")
        expect(buyer_page.locator("#order-status")).to_contain_text("Delivered")
        timeline = buyer_page.locator("#parcel-timeline li")
        expect(timeline).to_have_count(5)
        expect(timeline.last).to_contain_text("Delivered")
        expect(buyer_page.locator("#order-timeline")).not_to_contain_text("Delivery confirmed")
        link = buyer_page.locator("#parcel-tracking-link")
        expect(link).to_have_attribute(
            "href", f"{courier_emulator.base_url}/track/{parcel.tracking_number}"
        )
        expect(buyer_page.locator("#parcel-label-link")).to_have_count(0)
        assert not overflows_horizontally(buyer_page)
        screenshot(buyer_page, "buyer-tracking")
        buyer_page.locator("button[name=language][value=ur]").click()
        expect(buyer_page.locator("#parcel-tracking")).to_contain_text("ٹریکنگ")
        # Measured once the Urdu page's right-to-left stylesheet is in: under load the text
        # showed before it, and the unstyled page was wider than the phone.
        buyer_page.wait_for_load_state("load")
        assert not overflows_horizontally(buyer_page)
        screenshot(buyer_page, "buyer-tracking-urdu")
    finally:
        buyer_context.close()

    # The courier's remittance credits the seller: the sale less the fee and the charge.
    assert remittance.reconcile_report() == (1, 0)
    assert LedgerEntry.objects.filter(order=order, kind=LedgerEntry.Kind.SALE).exists()
    page.goto(f"/orders/{order.number}/parcel/label/")
    page.locator("button[name=language][value=ur]").click()
    expect(page.locator("#label-cod")).to_contain_text("COD")
    screenshot(page, "label-urdu")
    page.locator("button[name=language][value=en]").click()
    page.goto(f"/orders/{order.number}/")
    expect(page.locator("#seller-payment")).to_contain_text("Your share")
    screenshot(page, "seller-after-remittance")
