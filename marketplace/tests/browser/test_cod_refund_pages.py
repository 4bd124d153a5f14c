"""A cash-on-delivery refund in Chromium at 360 px, English and Urdu: the return is accepted, the
buyer gives a wallet on the order page (a wrong number is refused and kept as typed), staff
mark the refund sent in the admin with their reference, and the buyer sees it sent. Nothing
scrolls sideways and axe finds nothing serious on the buyer's pages."""

import pytest

from marketplace.models import Order, Refund, ReturnRequest
from marketplace.services import remittance, returns
from marketplace.tests.browser.conftest import login_as
from marketplace.tests.browser.test_i18n_a11y import _phone_page, page_problems
from marketplace.tests.factories.ledger import cod_order_with_parcel, remittance_line, staff_user


def delivered_cod_order(seller, buyer, language: str):
    """Bilal, reading in `language`, has a Rs 3,450 cash-on-delivery order delivered."""
    buyer.language = language
    buyer.save(update_fields=["language"])
    return cod_order_with_parcel(seller, buyer, "3450.00", delivered=True)


@pytest.mark.parametrize(("language", "direction"), [("en", "ltr"), ("ur", "rtl")])
def test_the_buyer_gives_a_wallet_and_staff_mark_the_refund_sent(
    browser, live_url, seller, buyer, screenshot, language, direction
):
    order = delivered_cod_order(seller, buyer, language)
    remittance.reconcile_line(courier_key="postex", line=remittance_line(order), source="api")
    request = returns.open_return(
        order=order, by=buyer, reason=ReturnRequest.Reason.DAMAGED, details="The vase is cracked."
    )
    returns.accept_return(request=request, by=seller)

    context, page = _phone_page(browser, live_url, buyer, language)
    page.goto(f"/orders/{order.number}/")
    page.wait_for_selector("#refund-account-form")
    page.eval_on_selector("#manual-refund", "element => element.scrollIntoView()")
    owed_badge = page.inner_text("#refund-status")
    problems = page_problems(page, "refund-owed", language, direction)
    screenshot(page, f"refund-owed-{language}")

    page.check("input[name=kind][value=jazzcash]")
    page.fill("input[name=wallet_number]", "0300-12345")
    page.fill("input[name=account_title]", "Bilal Ahmed")
    page.click("#refund-account-form button[type=submit]")
    page.wait_for_selector("#refund-account-form .invalid-feedback")
    # The page answering the post: checked once its stylesheets are in (an unstyled page
    # shows the phone's collapsed navigation as small links).
    page.wait_for_load_state("load")
    kept = page.input_value("input[name=wallet_number]")
    page.eval_on_selector("#manual-refund", "element => element.scrollIntoView()")
    problems += page_problems(page, "refund-account-error", language, direction)
    screenshot(page, f"refund-account-error-{language}")

    page.fill("input[name=wallet_number]", "0300-1234567")
    page.click("#refund-account-form button[type=submit]")
    page.wait_for_selector("#refund-status.text-bg-info")
    being_sent = page.inner_text("#manual-refund")
    screenshot(page, f"refund-being-sent-{language}")

    staff = staff_user()
    admin = browser.new_context(base_url=live_url)
    login_as(admin, live_url, staff)
    admin_page = admin.new_page()
    admin_page.goto("/admin/marketplace/refund/?by_hand=to_send")
    listed = admin_page.inner_text("#result_list")
    admin_page.check("input[name=_selected_action]")
    admin_page.select_option("select[name=action]", "mark_refunds_sent")
    admin_page.fill("input[name=reference]", "JC-20261203-77")
    screenshot(admin_page, "admin-mark-sent")
    admin_page.click("button[name=index]")
    admin_page.wait_for_selector(".messagelist .success")
    admin.close()

    page.goto(f"/orders/{order.number}/")
    page.wait_for_selector("#refund-reference")
    page.eval_on_selector("#manual-refund", "element => element.scrollIntoView()")
    reference = page.inner_text("#refund-reference")
    problems += page_problems(page, "refund-sent", language, direction)
    screenshot(page, f"refund-sent-{language}")
    context.close()

    assert owed_badge.strip() == {"en": "Account needed", "ur": "اکاؤنٹ درکار"}[language]
    assert kept == "0300-12345"
    assert "•••• 4567" in being_sent
    assert "03001234567" in listed and "Bilal Ahmed" in listed
    assert reference == "JC-20261203-77"
    refund = Refund.objects.get(order=order)
    assert (refund.status, refund.payee_wallet) == (Refund.Status.SUCCEEDED, "03001234567")
    assert Order.objects.get(pk=order.pk).status == Order.Status.REFUNDED
    assert problems == [], "\n".join(problems)


@pytest.mark.parametrize(("language", "direction"), [("en", "ltr"), ("ur", "rtl")])
def test_the_return_form_tells_a_cash_buyer_where_the_money_goes(
    browser, live_url, seller, buyer, screenshot, language, direction
):
    order = delivered_cod_order(seller, buyer, language)

    context, page = _phone_page(browser, live_url, buyer, language)
    page.goto(f"/orders/{order.number}/return/")
    page.wait_for_selector("#return-summary")
    page.wait_for_load_state("load")
    summary = page.inner_text("#return-summary")
    problems = page_problems(page, "return-form", language, direction)
    screenshot(page, f"return-form-{language}")
    context.close()

    wallet = {"en": "JazzCash or Easypaisa wallet", "ur": "Easypaisa والٹ"}[language]
    assert wallet in summary, summary
    assert "3,450" in summary
    assert problems == [], "\n".join(problems)
