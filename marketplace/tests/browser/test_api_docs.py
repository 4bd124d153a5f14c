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
