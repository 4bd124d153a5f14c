"""Bytes transferred to load a page on a phone (BENCHMARKS.md "Page weight on a phone").

    .venv/bin/python scripts/page_weight.py [BASE_URL] [PATH ...]

Loads each path in a fresh headless Chromium context (cold cache, 360x740, JavaScript on,
Chromium's own Accept-Encoding: gzip, deflate, br, zstd) and adds up, for every response, the
encoded body and headers as Chromium received them. Defaults: http://127.0.0.1:8000 and the
home, browse, first product and first auction pages of the demo data.
"""

import sys

from playwright.sync_api import sync_playwright

ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--disable-sync",
]
PATHS = ["/", "/products/", "/products/1/", "/auctions/1/"]


def weigh(browser, url: str) -> tuple[int, int, dict[str, int]]:
    context = browser.new_context(viewport={"width": 360, "height": 740})
    page = context.new_page()
    responses = []
    page.on("response", lambda response: responses.append(response))
    page.goto(url, wait_until="networkidle")
    total, by_type = 0, {}
    for response in responses:
        sizes = response.request.sizes()
        size = sizes["responseBodySize"] + sizes["responseHeadersSize"]
        total += size
        kind = response.request.resource_type
        by_type[kind] = by_type.get(kind, 0) + size
    context.close()
    return total, len(responses), by_type


def main() -> None:
    base = sys.argv[1].rstrip("/") if len(sys.argv) > 1 else "http://127.0.0.1:8000"
    paths = sys.argv[2:] or PATHS
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=ARGS)
        print(f"{'page':<16}{'requests':>9}{'KiB':>9}  by type (KiB)")
        for path in paths:
            total, count, by_type = weigh(browser, base + path)
            kinds = ", ".join(f"{k} {v / 1024:.0f}" for k, v in sorted(by_type.items()))
            print(f"{path:<16}{count:>9}{total / 1024:>9.1f}  {kinds}")
        browser.close()


if __name__ == "__main__":
    main()
