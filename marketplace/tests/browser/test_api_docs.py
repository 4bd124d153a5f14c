"""/api/docs/ renders the API's operations from our own static files, with no other host."""

from urllib.parse import urlsplit


def test_the_api_docs_load_with_no_network_but_ours(page, live_url, screenshot):
    ours = urlsplit(live_url).netloc
    elsewhere = []

    def only_ours(route):
        if urlsplit(route.request.url).netloc == ours:
            route.continue_()
        else:
            elsewhere.append(route.request.url)
            route.abort()

    page.route("**/*", only_ours)
    page.goto("/api/docs/", wait_until="networkidle")
    page.wait_for_selector(".opblock-tag")
    assert page.locator(".opblock").count() > 40
    assert page.get_by_text("/api/auctions/{id}/bids/").first.is_visible()
    screenshot(page, "api-docs", full_page=False)
    assert elsewhere == []


def test_a_user_signs_out_a_lost_phone_from_the_account_page(page, live_url, buyer, screenshot):
    from marketplace.models import ApiToken
    from marketplace.tests.browser.conftest import login_as, overflows_horizontally

    ApiToken.issue(user=buyer, name="Bilal's Android phone")
    ApiToken.issue(user=buyer, name="Stock sync script")
    login_as(page.context, live_url, buyer)
    page.goto("/account/")
    page.get_by_role("link", name="Apps and devices").click()
    row = page.locator("li").filter(has_text="Bilal's Android phone")
    assert row.is_visible()
    screenshot(page, "apps-and-devices")
    assert not overflows_horizontally(page)
    row.get_by_role("button", name="Sign out").click()
    page.wait_for_selector("text=it can no longer use your account")
    assert list(ApiToken.objects.values_list("name", flat=True)) == ["Stock sync script"]
