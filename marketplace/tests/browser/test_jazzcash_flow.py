"""End to end in Chromium with the JazzCash emulator: a buyer pays a cart from their wallet."""

from playwright.sync_api import expect

from marketplace.models import Order, Payment
from marketplace.services import ledger
from marketplace.services.cart import add_to_cart
from marketplace.tests.browser.conftest import login, login_as
from marketplace.tests.factories.accounts import SellerFactory, UserFactory
from marketplace.tests.factories.orders import address_of, listing_by, order_for


def test_a_cart_is_paid_with_jazzcash_and_settled_by_the_wallet(
    page, live_url, jazzcash_emulator, screenshot
):
    seller = SellerFactory(username="zainab", seller_profile__shop_name="Zainab Rugs")
    other = SellerFactory(username="amina", seller_profile__shop_name="Amina Pottery")
    buyer = UserFactory(username="bilal", first_name="Bilal")
    address_of(buyer)
    add_to_cart(user=buyer, listing=listing_by(seller, price="18999.99", title="Rug"), quantity=1)
    add_to_cart(user=buyer, listing=listing_by(other, price="2500", title="Blue vase"), quantity=2)

    login(page, buyer)
    page.goto("/checkout/")
    page.get_by_label("JazzCash").check()
    screenshot(page, "choose-method")
    page.get_by_role("button", name="Place order").click()
    page.wait_for_url("**/checkouts/**")
    # Placed: the pay step comes next with JazzCash already chosen.
    expect(page.locator("#method-jazzcash")).to_be_checked()
    screenshot(page, "pay")
    page.click("#pay-button")

    # Our page posts the signed form on its own (static script); JazzCash's page comes next.
    page.wait_for_url(f"{jazzcash_emulator.base_url}/**")
    expect(page.locator("body")).to_contain_text("Rs 23,999.99")
    screenshot(page, "jazzcash")
    page.get_by_role("button", name="Pay (success)").click()

    # Back on our site: paid, as JazzCash's inquiry (or its IPN) confirmed.
    page.wait_for_url(f"{live_url}/checkouts/**")
    expect(page.locator("#payment-status")).to_contain_text("Payment received")
    screenshot(page, "paid")
    orders = list(Order.objects.filter(buyer=buyer))
    assert len(orders) == 2
    assert {order.status for order in orders} == {Order.Status.PAID}
    payment = Payment.objects.get()
    assert (payment.provider, str(payment.amount)) == ("jazzcash", "23999.99")
    assert all(ledger.has_sale(order.pk) for order in orders)


def test_without_javascript_in_urdu_a_low_balance_is_shown_and_nothing_is_paid(
    browser, live_url, jazzcash_emulator, screenshot
):
    seller = SellerFactory(username="zainab", seller_profile__shop_name="Zainab Rugs")
    buyer = UserFactory(username="bilal", first_name="Bilal")
    order = order_for(buyer, listing_by(seller, price="3200", title="Phulkari cushion"))
    context = browser.new_context(base_url=live_url, java_script_enabled=False, locale="ur-PK")
    context.add_cookies([{"name": "django_language", "value": "ur", "url": live_url}])
    login_as(context, live_url, buyer)
    page = context.new_page()

    page.goto(f"/checkouts/{order.checkout.number}/")
    page.locator("#method-jazzcash").check()
    page.click("#pay-button")
    # No script ran: our page waits with a visible button that posts the signed form.
    expect(page.locator("#wallet-continue")).to_be_visible()
    screenshot(page, "continue-to-jazzcash")
    page.click("#wallet-continue")
    page.get_by_role("button", name="Low balance").click()
    page.get_by_role("button", name="Return to the merchant").click()

    expect(page.locator("#wallet-message")).to_contain_text("کافی رقم نہیں")
    screenshot(page, "low-balance")
    assert not Payment.objects.exists()
    order.refresh_from_db()
    assert order.status == Order.Status.AWAITING_PAYMENT
    context.close()
