"""Issue 13 (3): the complaint page's thread and reply form, the complaint form and the
listing form (shop city preset), in English and Urdu, phone and desktop."""

import pytest

from marketplace.models import Complaint
from marketplace.services.complaints import add_complaint_message, file_complaint
from marketplace.tests.browser.test_i18n_a11y import _phone_page, page_problems
from marketplace.tests.factories.accounts import UserFactory
from marketplace.tests.factories.orders import listing_by, order_for


@pytest.mark.parametrize(("language", "direction"), [("en", "ltr"), ("ur", "rtl")])
def test_complaint_thread_and_forms_fit_and_pass_axe(
    browser, live_url, seller, buyer, screenshot, language, direction
):
    staff = UserFactory(username="sana", is_staff=True)
    order = order_for(buyer, listing_by(seller))
    complaint = file_complaint(
        user=buyer,
        category=Complaint.Category.SHIPPING,
        subject="Parcel never came",
        description="Shipped three weeks ago.",
        order=order,
    )
    add_complaint_message(complaint=complaint, by=buyer, body="Tracking: TCS-998877")
    add_complaint_message(complaint=complaint, by=staff, body="Thank you, we asked the courier.")
    for user in (seller, buyer):
        user.language = language
        user.save(update_fields=["language"])
    problems = []
    for user, paths in {
        buyer: {"complaint": complaint.get_absolute_url(), "complaint-form": "/complaints/new/"},
        seller: {"listing-form": "/sell/listings/new/"},
    }.items():
        context, page = _phone_page(browser, live_url, user, language)
        for name, path in paths.items():
            assert page.goto(path).status == 200, name
            problems += page_problems(page, name, language, direction)
            screenshot(page, f"{name}-{language}")
            if name == "complaint":
                assert page.locator("#complaint-thread article").count() == 2
        context.close()
    assert problems == []
