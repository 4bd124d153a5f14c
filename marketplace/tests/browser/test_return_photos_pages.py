"""A return with photos in Chromium at 360 px, English and Urdu: the buyer's form refuses a file
that is not a photo and keeps what was typed, then sends two photos; the seller sees them
where they answer. Nothing scrolls sideways and axe finds nothing serious."""

import pytest
from PIL import Image

from marketplace.models import Order, ReturnRequest
from marketplace.tests.browser.test_i18n_a11y import _phone_page, page_problems
from marketplace.tests.factories.ledger import deliver, sold

DETAILS = "The spout is chipped and the lid does not fit."


@pytest.mark.parametrize(("language", "direction"), [("en", "ltr"), ("ur", "rtl")])
def test_a_return_with_photos_from_the_form_to_the_sellers_answer(
    browser, live_url, seller, buyer, screenshot, tmp_path, language, direction
):
    order = sold(seller, buyer)
    deliver(order, days_ago=1)
    for user in (buyer, seller):
        user.language = language
        user.save(update_fields=["language"])
    photos = []
    for i, colour in enumerate([(190, 60, 40), (40, 90, 180)]):
        path = tmp_path / f"photo-{i}.png"
        Image.new("RGB", (640, 480), colour).save(path)
        photos.append(str(path))
    fake = tmp_path / "notes.png"
    fake.write_bytes(b"this is not a picture")

    context, page = _phone_page(browser, live_url, buyer, language)
    page.goto(f"/orders/{order.number}/return/")
    page.check("input[name=reason][value=damaged]")
    page.fill("textarea[name=details]", DETAILS)
    page.set_input_files("input[name=photos]", [str(fake)])
    page.click("#return-form button[type=submit]")
    page.wait_for_selector("#return-form .invalid-feedback, #return-form .text-danger")
    error_text = page.inner_text("#return-form")
    kept = page.input_value("textarea[name=details]")
    checked = page.is_checked("input[name=reason][value=damaged]")
    problems = page_problems(page, "return-form-error", language, direction)
    screenshot(page, f"return-form-error-{language}")

    page.set_input_files("input[name=photos]", photos)
    page.click("#return-form button[type=submit]")
    page.wait_for_url(f"**/orders/{order.number}/")
    context.close()

    context, page = _phone_page(browser, live_url, seller, language)
    page.goto(f"/orders/{order.number}/")
    page.wait_for_selector("#return-photos img")
    page.eval_on_selector("#order-return", "element => element.scrollIntoView({block: 'start'})")
    # Lazy photos start loading once scrolled to: wait until each has loaded or failed (read
    # at once, a busy machine found them still on their way), then see which loaded.
    page.wait_for_function(
        "() => [...document.querySelectorAll('#return-photos img')].every(i => i.complete)"
    )
    loaded = page.eval_on_selector_all(
        "#return-photos img", "images => images.map(i => i.complete && i.naturalWidth > 0)"
    )
    answer_forms = page.locator("#return-accept-form, #return-refuse-form").count()
    problems += page_problems(page, "seller-answer", language, direction)
    screenshot(page, f"return-seller-answer-{language}")
    context.close()

    assert "notes.png" in error_text  # "notes.png is not a JPEG, PNG or WebP photo."
    assert kept == DETAILS and checked
    assert loaded == [True, True]
    assert answer_forms == 2
    assert ReturnRequest.objects.get(order=order).photos.count() == 2
    assert Order.objects.get(pk=order.pk).status == Order.Status.DELIVERED
    assert problems == []
