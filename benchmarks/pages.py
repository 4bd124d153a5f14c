"""Pages through Daphne (issue 20): requests/s of the home, browse, search, product and auction
pages, anonymous and signed in, beside a bare Django view served by the same Daphne in the
same run.

The data is the browse benchmark's (`--size` products, seeded once and reused). The load comes
from this process: `clients` keep-alive HTTP/1.1 connections, each sending its next request
as soon as the last answer is read, for `seconds` per row, after asking for each of the row's
URLs once (a busy site's pages are being asked for; their first render is not measured).
The client shares the machine with the server, so the bare view's row is the ceiling this machine and client reach, and the other
rows are best read as a fraction of it (the aim: anonymous pages at least 0.5x, signed-in
catalogue pages at least 0.25x). `X-Page-Cache` answers are counted: the share served from the
shared cache (`hit`, or `stale` while another request renders the page anew) is in the table,
and apart from it the share served from it after one query found its products unchanged
(`checked`); the rest were rendered.
"""

import asyncio
import itertools
import os
import time
from typing import TextIO
from urllib.parse import urlencode

from django.core.management import call_command
from django.core.management.base import CommandError

from benchmarks import browse
from benchmarks._support import bench_users, daphne, load, session_cookie, table

URLS_PER_PAGE = 20
# The browse bench's queries as buyers type them, taking each kind in turn.
SEARCH_TERMS = [
    term
    for terms in itertools.zip_longest(*browse.SEARCH_KINDS.values())
    for term in terms
    if term is not None
]
BARE_PATH = "/bench/bare/"


async def _client(
    port: int, urls: list[str], cookie: str, stop_at: float, tally: dict, limit: int = 0
) -> None:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    i = tally["offset"] = tally.get("offset", 0) + 7  # clients start at different URLs
    try:
        while time.monotonic() < stop_at and not (limit and tally["requests"] >= limit):
            url = urls[i % len(urls)]
            i += 1
            # As behind the TLS proxy of production (SECURE_PROXY_SSL_HEADER): no redirect.
            request = f"GET {url} HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Forwarded-Proto: https\r\n"
            if cookie:
                request += f"Cookie: {cookie}\r\n"
            writer.write((request + "\r\n").encode())
            status, headers = await _read_head(reader)
            length = headers.get("content-length")
            if length is None:
                raise CommandError(f"{url}: no Content-Length in the answer")
            await reader.readexactly(int(length))
            if status != 200:
                raise CommandError(f"{url} answered {status}")
            tally["requests"] += 1
            state = headers.get("x-page-cache")
            if state in ("hit", "stale"):
                tally["hits"] += 1
            elif state == "checked":
                tally["checked"] += 1
    finally:
        writer.close()


async def _read_head(reader: asyncio.StreamReader) -> tuple[int, dict[str, str]]:
    head = await reader.readuntil(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split()[1])
    headers = {}
    for line in lines[1:]:
        name, _sep, value = line.partition(":")
        headers[name.strip().lower()] = value.strip()
    return status, headers


def _rate(port: int, urls: list[str], cookie: str, seconds: float, clients: int) -> dict:
    tally = {"requests": 0, "hits": 0, "checked": 0}

    async def run() -> float:
        started = time.monotonic()
        stop_at = started + seconds
        await asyncio.gather(*(_client(port, urls, cookie, stop_at, tally) for _ in range(clients)))
        return time.monotonic() - started

    elapsed = asyncio.run(run())
    tally["rate"] = tally["requests"] / elapsed
    return tally


def _warm(port: int, urls: list[str], cookie: str) -> None:
    """Ask for each URL once, one after another, just before its row: the row then measures
    pages that are being asked for (as on a busy site), not their first render."""
    tally = {"requests": 0, "hits": 0, "checked": 0}
    asyncio.run(_client(port, urls, cookie, time.monotonic() + 120, tally, limit=len(urls)))


def _page_urls() -> dict[str, list[str]]:
    from marketplace.models import AuctionListing, Category, Product

    parents = list(Category.objects.filter(parent=None).values_list("slug", flat=True))
    leaves = list(Category.objects.exclude(parent=None).values_list("slug", flat=True))
    sorts = ["price_asc", "price_desc", "newest"]
    slugs = (parents + leaves) * 3
    products = Product.objects.visible().filter(fixed_price__status="active").order_by("-pk")
    auctions = AuctionListing.objects.filter(status="live", product__isnull=False).order_by("pk")
    return {
        "home": ["/"],
        "browse": [
            f"/products/?category={slugs[i]}&sort={sorts[i % 3]}" for i in range(URLS_PER_PAGE)
        ],
        "search": [f"/products/?{urlencode({'q': term})}" for term in SEARCH_TERMS[:URLS_PER_PAGE]],
        "product": [f"/products/{pk}/" for pk in products.values_list("pk", flat=True)[:20]],
        "auction": [f"/auctions/{pk}/" for pk in auctions.values_list("pk", flat=True)[:20]],
    }


def main(
    out: TextIO,
    *,
    size: int | None = None,
    products: int = 100_000,
    seconds: int = 5,
    clients: int = 8,
    port: int = 0,
) -> None:
    """Seed `products` products (like browse), then measure each page's requests/s."""
    products = size or products
    browse._check_database(out)
    call_command("migrate", verbosity=0, interactive=False)
    browse._seed(out, products)
    # Static URLs from the source folders: no collectstatic on every run (the manifest's
    # lookups cost the same as these joins).
    os.environ.setdefault("STATIC_FROM_SOURCE", "1")
    pages = _page_urls()
    if not pages["product"] or not pages["auction"]:
        raise CommandError("No visible product or live auction to measure: seed more products.")
    cookie = session_cookie(bench_users(1)[0])
    out.write(
        f"\n{products:,} products; {clients} keep-alive clients for {seconds} s per row, "
        f"{URLS_PER_PAGE} URLs per page (one for home) in turn; load before: {load()}\n"
    )
    rows = []
    with daphne(out, port) as server:
        for urls in [[BARE_PATH], *pages.values()]:  # warm every URL once, both ways
            for who in ("", cookie):
                _rate(server, urls, who, 0.5, 1)
        bare = _rate(server, [BARE_PATH], "", seconds, clients)["rate"]
        rows.append(["bare Django view", "-", f"{bare:.0f}", "1.00", "-", "-"])
        for name, urls in pages.items():
            for who, label in (("", "anonymous"), (cookie, "signed in")):
                _warm(server, urls, who)
                tally = _rate(server, urls, who, seconds, clients)
                hits = f"{100 * tally['hits'] / max(1, tally['requests']):.0f}%"
                checked = f"{100 * tally['checked'] / max(1, tally['requests']):.1f}%"
                rows.append(
                    [
                        name,
                        label,
                        f"{tally['rate']:.0f}",
                        f"{tally['rate'] / bare:.2f}",
                        hits,
                        checked,
                    ]
                )
        again = _rate(server, [BARE_PATH], "", seconds, clients)["rate"]
        rows.append(
            ["bare Django view, again", "-", f"{again:.0f}", f"{again / bare:.2f}", "-", "-"]
        )
    table(
        out,
        ["page", "visitor", "requests/s", "x bare", "from cache", "checked, then from cache"],
        rows,
    )
    out.write(f"\n(load after: {load()})\n")
