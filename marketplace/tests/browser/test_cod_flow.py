"""Cash on delivery in Chromium: the seller turns it on in the shop settings, a buyer in Lahore
sees the delivery estimate, checks out with COD, confirms, and the seller sees it ready to ship.
"""

from playwright.sync_api import expect

from marketplace.models import Checkout, Order
from marketplace.services import cod_rules
from marketplace.tests.browser.conftest import login_as, overflows_horizontally
from marketplace.tests.factories.orders import address_of, listing_by


def test_buyer_checks_out_with_cod_confirms_and_the_seller_sees_it_ready_to_ship(
    page, browser, live_url, seller, buyer, screenshot
):
    # The seller (Multan) charges by province and accepts cash on delivery.
    login_as(page.context, live_url, seller)
    page.goto("/account/shop/delivery/")
    page.check("input[name=delivery_fee_mode][value=province]")
    page.fill("input[name=delivery_fee]", "400")
    page.get_by_label("Punjab").fill("250")
    page.fill("input[name=dispatch_days]", "1")
    page.check("input[name=accepts_cod]")
    screenshot(page, "shop-settings")
    page.get_by_role("button", name="Save").click()
    expect(page.locator(".alert-success")).to_contain_text("settings are saved")
    listing = listing_by(seller, price="3200.00", title="Multani blue vase")

    # The buyer, whose address is in Lahore, sees delivery to Lahore on the product page.
    address_of(buyer, city_name="Lahore")
    buyer_page = browser.new_context(base_url=live_url).new_page()
    login_as(buyer_page.context, live_url, buyer)
    buyer_page.goto(listing.product.get_absolute_url())
    expect(buyer_page.locator("#delivery-estimate")).to_contain_text(
        "Delivery Rs 250 · 2 days to Lahore"  # the vase is in Lahore, dispatched in a day
    )
    expect(buyer_page.locator("#cod-available")).to_be_visible()
    screenshot(buyer_page, "product")

    # Buy now, pay with cash on delivery.
    buyer_page.get_by_role("button", name="Buy now").click()
    buyer_page.wait_for_load_state()
    expect(buyer_page.locator("#basket-total")).to_have_text("Rs 3,450")
    buyer_page.get_by_label("Cash on delivery").check()
    screenshot(buyer_page, "checkout")
    assert not overflows_horizontally(buyer_page)
    buyer_page.get_by_role("button", name="Place order").click()
    buyer_page.wait_for_load_state()
    order = Order.objects.get()
    assert order.checkout.payment_method == Checkout.PaymentMethod.COD
    assert order.status == Order.Status.UNCONFIRMED
    expect(buyer_page.locator("#pay-button")).to_have_count(0)
    screenshot(buyer_page, "checkout-placed")

    # Before confirmation the seller is told to wait and cannot ship.
    page.goto(f"/orders/{order.number}/")
    expect(page.locator("#cod-confirm-panel")).to_contain_text("waiting for the buyer")
    expect(page.locator("#ship-form")).to_have_count(0)

    # The buyer confirms from the checkout page.
    buyer_page.locator(f"#cod-confirm-{order.number}").click()
    buyer_page.wait_for_load_state()
    expect(buyer_page.locator(".alert-success").first).to_contain_text("is confirmed")
    order.refresh_from_db()
    assert order.status == Order.Status.CONFIRMED
    screenshot(buyer_page, "order-confirmed")

    # The seller sees it ready to ship, with the amount the courier collects.
    page.goto(f"/orders/{order.number}/")
    expect(page.locator("#ship-form")).to_be_visible()
    expect(page.locator("#cod-ready-to-ship")).to_contain_text("the courier collects Rs 3,450")
    screenshot(page, "seller-ready-to-ship")


def test_a_new_address_at_checkout_is_priced_to_its_province_as_it_is_chosen(
    page, live_url, seller, buyer, screenshot
):
    from marketplace.tests.factories.orders import shop_delivery

    shop_delivery(seller, fee="400", by_province={"Punjab": "150"}, cod=True)
    listing = listing_by(seller, price="3200.00", title="Multani blue vase")
    login_as(page.context, live_url, buyer)  # no address yet: the form asks for one
    page.goto(f"/checkout/?listing={listing.pk}&quantity=1")
    expect(page.locator("#basket-delivery")).to_have_text("up to Rs 400")
    page.get_by_label("Cash on delivery").check()

    page.select_option("select[name=address-city]", label="Lahore")
    expect(page.locator("#basket-delivery")).to_have_text("Rs 150")
    expect(page.locator("#basket-total")).to_have_text("Rs 3,350")
    expect(page.get_by_label("Cash on delivery")).to_be_checked()  # the choice stays
    screenshot(page, "checkout-new-address-lahore")
    page.select_option("select[name=address-city]", label="Karachi")
    expect(page.locator("#basket-total")).to_have_text("Rs 3,600")

    page.fill("input[name=address-full_name]", "Bilal Ahmed")
    page.fill("input[name=address-phone]", "0300-1234567")
    page.fill("input[name=address-line1]", "12 Clifton")
    page.get_by_role("button", name="Place order").click()
    page.wait_for_load_state()
    order = Order.objects.get()
    assert (order.checkout.payment_method, str(order.total)) == ("cod", "3600.00")


def test_the_signed_link_page_confirms_without_logging_in(page, seller, buyer, screenshot):
    from marketplace.tests.factories.orders import cod_order_for, shop_delivery

    shop_delivery(seller, fee="250", cod=True)
    order = cod_order_for(buyer, listing_by(seller, title="Ralli quilt"))

    page.goto("/")
    page.locator("button[name=language][value=ur]").click()  # in Urdu, as many buyers read it
    page.wait_for_load_state()
    page.goto(cod_rules.confirm_url(order))
    expect(page.locator("html")).to_have_attribute("dir", "rtl")
    screenshot(page, "confirm-link-ur")
    page.locator("#cod-confirm-link-button").click()
    expect(page.locator("#cod-confirmed")).to_be_visible()
    order.refresh_from_db()
    assert order.status == Order.Status.CONFIRMED


def test_checkout_in_urdu_says_why_cod_is_not_offered(page, live_url, seller, buyer, screenshot):
    from marketplace.tests.factories.orders import shop_delivery

    shop_delivery(seller, fee="300", by_province={"Sindh": "450"})  # no cash on delivery
    address_of(buyer, city_name="Karachi")
    listing = listing_by(seller, price="1800.00", title="Sindhi ajrak")
    login_as(page.context, live_url, buyer)
    page.goto("/")
    page.locator("button[name=language][value=ur]").click()
    page.wait_for_load_state()

    page.goto(f"/checkout/?listing={listing.pk}&quantity=1")

    expect(page.locator("#method-cod")).to_be_disabled()
    expect(page.locator("#cod-unavailable")).to_contain_text("کیش آن ڈیلیوری قبول نہیں کرتا")
    expect(page.locator("#basket-total")).to_contain_text("2,250")
    screenshot(page, "checkout-ur")
    assert not overflows_horizontally(page)


def test_cart_auction_page_and_a_winner_switching_to_cod(page, live_url, seller, buyer, screenshot):
    from marketplace.services.cart import add_to_cart
    from marketplace.services.payments import choose_checkout_address
    from marketplace.tests.auction_helpers import make_auction
    from marketplace.tests.factories.orders import shop_delivery
    from marketplace.tests.factories.payments import won_auction_order

    shop_delivery(seller, fee="300", cod=True, cod_for_auctions=True)
    address = address_of(buyer, city_name="Karachi")
    add_to_cart(user=buyer, listing=listing_by(seller, price="1500.00", title="Khussa"), quantity=2)
    auction = make_auction(seller)
    login_as(page.context, live_url, buyer)

    page.goto("/cart/")
    expect(page.locator("#basket-total")).to_have_text("Rs 3,300")
    screenshot(page, "cart")
    page.goto(f"/auctions/{auction.pk}/")
    expect(page.locator("#delivery-estimate")).to_contain_text("Karachi")
    screenshot(page, "auction")

    # A win: the buyer chooses the address, then cash on delivery instead of paying online.
    order = won_auction_order(seller, buyer, price="6000.00")
    choose_checkout_address(checkout=order.checkout, buyer=buyer, address=address)
    page.goto(f"/checkouts/{order.checkout.number}/")
    screenshot(page, "won-checkout")
    page.locator("#cod-switch-button").click()
    page.wait_for_load_state()
    expect(page.locator("#cod-confirm-panel")).to_be_visible()
    page.goto(f"/orders/{order.number}/")
    expect(page.locator("#cod-confirm-button")).to_be_visible()
    screenshot(page, "won-order-unconfirmed")
    page.locator("#cod-confirm-button").click()
    page.wait_for_load_state()
    order.refresh_from_db()
    assert order.status == Order.Status.CONFIRMED
