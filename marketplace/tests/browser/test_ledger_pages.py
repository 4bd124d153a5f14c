"""The seller's statement and payout method pages in Chromium, English and Urdu, phone and
desktop: money in every state shows, nothing scrolls sideways, axe finds nothing serious."""

from datetime import timedelta

import pytest
from django.utils import timezone

from marketplace.services import ledger, payout_batches
from marketplace.tests.browser.test_i18n_a11y import _phone_page, page_problems
from marketplace.tests.factories.ledger import bank_method, deliver, sold


@pytest.fixture
def seller_with_money(seller, buyer, settings):
    """Pending (not delivered), available, being transferred and paid out."""
    settings.PAYOUT_MINIMUM = 1000
    for total in ("2500.00", "4000.00"):
        deliver(sold(seller, buyer, total), days_ago=8)
    ledger.release_due()
    bank_method(seller)
    first = payout_batches.draft_payout_batch().lines.get()
    payout_batches.mark_payout_paid(line=first, reference="IBFT-20261203-1")
    deliver(sold(seller, buyer, "1800.00"), days_ago=9)
    ledger.release_due()
    payout_batches.draft_payout_batch(now=timezone.now() + timedelta(days=7))
    deliver(sold(seller, buyer, "3200.00"), days_ago=8)
    ledger.release_due()
    sold(seller, buyer, "12500.00")
    return seller


@pytest.mark.parametrize(("language", "direction"), [("en", "ltr"), ("ur", "rtl")])
def test_ledger_pages_fit_and_pass_axe(
    browser, live_url, seller_with_money, screenshot, language, direction
):
    seller_with_money.language = language
    seller_with_money.save(update_fields=["language"])
    context, page = _phone_page(browser, live_url, seller_with_money, language)
    problems = []
    for name, path in {
        "statement": "/sell/statement/",
        "payout-method": "/sell/payout-method/",
    }.items():
        response = page.goto(path)
        assert response.status == 200, name
        problems += page_problems(page, name, language, direction)
        screenshot(page, f"{name}-{language}")
    page.goto("/sell/statement/")
    balances = {
        bucket: page.inner_text(f"#balance-{bucket}")
        for bucket in ("pending", "available", "in-transfer", "paid-out")
    }
    context.close()
    assert problems == []
    if language == "en":
        assert balances == {
            "pending": "Rs 12,250",
            "available": "Rs 3,136",
            "in-transfer": "Rs 1,764",
            "paid-out": "Rs 6,370",
        }
