"""The whole cash-on-delivery path in Chromium, against the courier emulator: the buyer orders
with cash on delivery and confirms, the seller books the parcel from the order page, the courier
delivers it on its own page (its callbacks reach the site), staff upload the courier's
remittance report in the admin, and the seller's statement shows the sale credited less the
2 % fee on the items and the courier's charge."""

from decimal import Decimal

from playwright.sync_api import expect

from marketplace.models import LedgerEntry, Order, Parcel, RemittanceLine
from marketplace.tests.browser.conftest import login_as, move_on_courier_page
from marketplace.tests.factories.accounts import UserFactory
from marketplace.tests.factories.orders import address_of, listing_by, shop_delivery

TIMEOUT = 10_000
JOURNEY = ("PostEx WareHouse", "Package on Route", "Out for Delivery", "Delivered")


def test_cod_order_confirmed_booked_delivered_remitted_and_credited(
    page, browser, live_url, courier_emulator, seller, buyer, tmp_path, screenshot
):
    shop_delivery(seller, fee="250", cod=True)
    listing = listing_by(seller, price="3200.00", quantity=1, title="Multani blue vase")
    address_of(buyer, city_name="Lahore")

    # The buyer orders with cash on delivery and confirms on the order page.
    buyer_page = browser.new_context(base_url=live_url).new_page()
    login_as(buyer_page.context, live_url, buyer)
    buyer_page.goto(listing.product.get_absolute_url())
    expect(buyer_page.locator("#cod-available")).to_be_visible()
    buyer_page.get_by_role("button", name="Buy now").click()
    buyer_page.wait_for_load_state()
    expect(buyer_page.locator("#basket-total")).to_have_text("Rs 3,450")
    buyer_page.get_by_label("Cash on delivery").check()
    buyer_page.get_by_role("button", name="Place order").click()
    buyer_page.wait_for_load_state()
    order = Order.objects.get()
    assert (order.status, order.total) == (Order.Status.UNCONFIRMED, Decimal("3450.00"))
    buyer_page.goto(f"/orders/{order.number}/")
    buyer_page.locator("#cod-confirm-button").click()
    buyer_page.wait_for_load_state()
    order.refresh_from_db()
    assert order.status == Order.Status.CONFIRMED

    # The seller books the courier from the order page, with the cash to collect filled in.
    login_as(page.context, live_url, seller)
    page.goto(f"/orders/{order.number}/")
    form = page.locator("#book-parcel-form")
    expect(form.locator("input[name=cod_amount]")).to_have_value("3450.00")
    form.locator("input[name=weight_kg]").fill("1.5")
    form.locator("[type=submit]").click()
    expect(page.locator("#messages")).to_contain_text("Parcel booked", timeout=TIMEOUT)
    parcel = Parcel.objects.get(order=order)
    expect(page.locator("#order-status")).to_contain_text("Shipped")

    # The courier delivers it on the emulator's page; each step calls the site back.
    courier_page = browser.new_page()
    move_on_courier_page(courier_page, courier_emulator, parcel.tracking_number, *JOURNEY)
    courier_page.close()
    for _ in range(50):  # the callbacks arrive within a moment of each click
        if Order.objects.get(pk=order.pk).status == Order.Status.DELIVERED:
            break
        page.wait_for_timeout(200)
    page.goto(f"/orders/{order.number}/")
    expect(page.locator("#order-status")).to_contain_text("Delivered")
    assert not LedgerEntry.objects.filter(order=order).exists()  # the courier holds the cash

    # Staff upload the courier's remittance report in the admin; it matches the parcel.
    report = tmp_path / "remittance.csv"
    report.write_text(
        "tracking_number,collected,cod_charge,return_charge,reference\n"
        f"{parcel.tracking_number},3450.00,200.00,0.00,CPR-1203\n"
    )
    staff = UserFactory(is_staff=True, is_superuser=True)
    staff_page = browser.new_context(base_url=live_url).new_page()
    login_as(staff_page.context, live_url, staff)
    staff_page.goto("/admin/marketplace/remittanceline/")
    staff_page.locator("#upload-remittance").click()
    staff_page.set_input_files("#remittance-upload input[type=file]", str(report))
    staff_page.locator("#remittance-upload [type=submit]").click()
    expect(staff_page.locator(".messagelist")).to_contain_text("1 line(s) matched, 0 listed")
    screenshot(staff_page, "admin-remittance")
    line = RemittanceLine.objects.get()
    assert (line.outcome, line.parcel_id, line.source) == ("matched", parcel.pk, "csv")

    # The seller's statement: Rs 3,450 sale, Rs 64 fee (2 % of Rs 3,200), Rs 200 courier.
    page.goto("/sell/statement/")
    expect(page.locator("#balance-pending")).to_have_text("Rs 3,386")
    expect(page.locator("#balance-available")).to_have_text("Rs -200")
    entries = page.locator("#entries")
    expect(entries).to_contain_text(order.number)
    expect(entries).to_contain_text("Rs 3,450")
    expect(entries).to_contain_text("Rs -64")
    screenshot(page, "seller-statement")
    amounts = {
        entry.kind: entry.pending + entry.available
        for entry in LedgerEntry.objects.filter(order=order)
    }
    assert amounts == {
        LedgerEntry.Kind.SALE: Decimal("3450.00"),
        LedgerEntry.Kind.FEE: Decimal("-64.00"),
        LedgerEntry.Kind.COURIER: Decimal("-200.00"),
    }
