"""Retake the README's screenshots (docs/screenshots/) from a running site with the demo data.

    make run                                   # in one terminal (demo data, port 8000)
    .venv/bin/python scripts/readme_screenshots.py http://127.0.0.1:8000

Uses Debian's Chromium through Playwright, as the browser tests do; nothing leaves loopback.
"""

import sys
from pathlib import Path

from playwright.sync_api import sync_playwright

OUT = Path(__file__).resolve().parent.parent / "docs" / "screenshots"
ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--disable-sync",
]
DESKTOP = {"width": 1280, "height": 800}
PHONE = {"width": 360, "height": 740}


def _context(browser, base: str, language: str, viewport: dict, login: str | None = None):
    context = browser.new_context(viewport=viewport, device_scale_factor=1)
    context.add_cookies([{"name": "django_language", "value": language, "url": base}])
    if login:
        page = context.new_page()
        page.goto(f"{base}/accounts/login/")
        page.fill("input[name=username]", login)
        page.fill("input[name=password]", "madeinpk-demo")  # load_demo.DEMO_PASSWORD
        page.press(
            "input[name=password]", "Enter"
        )  # the login form's (the navbar has a search form)
        page.wait_for_load_state("networkidle")
        page.close()
    return context


def _shot(context, url: str, name: str, full_page: bool = False) -> None:
    page = context.new_page()
    page.goto(url)
    page.wait_for_load_state("networkidle")
    page.screenshot(path=str(OUT / name), full_page=full_page)
    page.close()
    print("wrote", OUT / name)


def main(base: str) -> None:
    base = base.rstrip("/")
    OUT.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=ARGS)
        for language in ("en", "ur"):
            context = _context(browser, base, language, DESKTOP)
            _shot(context, f"{base}/", f"home-{language}.png")
            context.close()
            context = _context(browser, base, language, PHONE)
            _shot(context, f"{base}/products/1/", f"product-phone-{language}.png")
            context.close()
        context = _context(browser, base, "en", DESKTOP)
        _shot(context, f"{base}/products/?q=", "browse.png")
        context.close()
        context = _context(browser, base, "en", DESKTOP, login="bilal")
        page = context.new_page()
        page.goto(f"{base}/auctions/")
        href = page.locator("a[href^='/auctions/']:has(img)").first.get_attribute("href")
        page.close()
        _shot(context, f"{base}{href}", "auction.png")
        # Checkout: how Pakistan pays (card, JazzCash, Easypaisa, cash on delivery), with one
        # item in Bilal's cart.
        page = context.new_page()
        page.goto(f"{base}/products/?sort=newest")
        links = page.locator("a[href^='/products/']:has(img)")
        hrefs = [links.nth(n).get_attribute("href") for n in range(links.count())]
        for href in hrefs:  # the newest listing Bilal can buy (not his own, not an auction)
            page.goto(f"{base}{href}")
            button = page.get_by_role("button", name="Add to cart")
            if button.count():
                button.first.click()
                page.wait_for_load_state("networkidle")
                break
        page.close()
        _shot(context, f"{base}/checkout/", "checkout.png", full_page=True)
        context.close()
        # A seller's statement: the append-only ledger (demo seller Imran, load_demo's money).
        for language in ("en", "ur"):
            context = _context(browser, base, language, DESKTOP, login="imran")
            # A signed-in user's saved language wins over the cookie: choose it on the page.
            page = context.new_page()
            page.goto(f"{base}/sell/statement/")
            page.get_by_role("button", name="English" if language == "en" else "اردو").click()
            page.wait_for_load_state("networkidle")
            page.close()
            _shot(context, f"{base}/sell/statement/", f"statement-{language}.png")
            context.close()
        browser.close()


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "http://127.0.0.1:8000")
