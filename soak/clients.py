"""The visitors: page readers, HTMX and WebSocket bidders, watchers, a buyer."""

import json
import random
import re
import time

import requests
from websockets.sync.client import connect as ws_connect

from soak.config import ACCEPTED_NOTE, ERROR_PAGE_TEXT, TIMEOUT
from soak.state import now, record, stop


def http(session: requests.Session, method: str, url: str, kind: str, **kwargs):
    try:
        response = session.request(method, url, timeout=TIMEOUT, allow_redirects=False, **kwargs)
    except requests.RequestException as error:
        record.add("http", (now(), kind, 0, type(error).__name__))
        return None
    note = ""
    if response.status_code >= 500:
        note = "styled" if ERROR_PAGE_TEXT in response.text else response.text[:200]
    record.add("http", (now(), kind, response.status_code, note))
    return response


def csrf_token(session: requests.Session, base: str) -> str | None:
    http(session, "GET", f"{base}/", "page")
    return session.cookies.get("csrftoken")


def page_reader(base: str, auction_ids: list[int], product_url: str) -> None:
    session = requests.Session()
    urls = [
        ("/", "page", {}),
        ("/auctions/", "page", {}),
        (product_url, "page", {}),
        ("/products/", "page", {}),
    ]
    urls += [(f"/auctions/{pk}/", "page", {}) for pk in auction_ids]
    urls += [(f"/auctions/{pk}/panel/", "htmx", {"HX-Request": "true"}) for pk in auction_ids]
    while not stop.is_set():
        path, kind, headers = random.choice(urls)
        http(session, "GET", base + path, kind, headers=headers)
        stop.wait(random.uniform(0.05, 0.2))


def htmx_bidder(base: str, session_key: str, user_id: int, auction_ids: list[int]) -> None:
    """Bids through the page's form (HTMX post), like a visitor without the socket."""
    session = requests.Session()
    session.cookies.set("sessionid", session_key)
    token = None
    while not stop.is_set():
        token = token or csrf_token(session, base)
        pk = random.choice(auction_ids)
        panel = http(
            session, "GET", f"{base}/auctions/{pk}/panel/", "htmx", headers={"HX-Request": "true"}
        )
        match = panel is not None and re.search(r'data-minimum="([0-9.]+)"', panel.text)
        if match and token:
            amount = match.group(1)
            response = http(
                session,
                "POST",
                f"{base}/auctions/{pk}/bid/",
                "form",
                data={"amount": amount, "csrfmiddlewaretoken": token},
                headers={"HX-Request": "true", "X-CSRFToken": token, "Referer": base + "/"},
            )
            if response is not None and ACCEPTED_NOTE in response.text:
                record.add("accepted", (pk, user_id, amount, "htmx", now(), base))
        stop.wait(random.uniform(0.3, 0.8))


def ws_url(base: str, auction_id: int) -> str:
    return base.replace("http://", "ws://") + f"/ws/auction/{auction_id}/"


def open_socket(base: str, auction_id: int, session_key: str | None):
    headers = {"Origin": base}
    if session_key:
        headers["Cookie"] = f"sessionid={session_key}"
    return ws_connect(ws_url(base, auction_id), additional_headers=headers, open_timeout=10)


def ws_bidder(base: str, session_key: str, user_id: int, auction_id: int) -> None:
    """One socket per bidder: bid the minimum every ~0.6 s, reconnecting after any drop."""
    minimum = None
    attempts = 0
    while not stop.is_set():
        try:
            with open_socket(base, auction_id, session_key) as ws:
                attempts = 0
                status = json.loads(ws.recv(timeout=10))
                minimum = status["data"]["minimum_next_bid"]
                while not stop.is_set():
                    sent, amount = time.monotonic(), minimum
                    ws.send(json.dumps({"type": "place_bid", "amount": amount}))
                    while True:
                        message = json.loads(ws.recv(timeout=TIMEOUT))
                        data = message.get("data", {})
                        if message["type"] in ("new_bid", "auction_status", "auction_extended"):
                            minimum = data.get("minimum_next_bid", minimum)
                            continue
                        break
                    if message["type"] == "bid_accepted":
                        # The amount sent: events read while waiting may have moved `minimum`.
                        # A leader who bids again only raises their maximum: no bid row.
                        if data.get("bid_placed", True):
                            record.add("accepted", (auction_id, user_id, amount, "ws", now(), base))
                        record.add("bid_latency", (now(), time.monotonic() - sent))
                        minimum = data["minimum_next_bid"]
                    elif message["type"] == "error":
                        if message["code"] not in ("too_low", "already_leading"):
                            record.add("ws_errors", (now(), message["code"], message["message"]))
                        if message["code"] == "too_low":  # "Bid at least Rs 12,500."
                            found = re.search(r"[\d,]+(?:\.\d+)?", message["message"])
                            minimum = found.group(0).replace(",", "") if found else minimum
                    stop.wait(random.uniform(0.4, 0.8))
        except Exception as error:  # any drop: note it, back off, reconnect
            if stop.is_set():
                return
            record.add("ws_connect_failures", (now(), type(error).__name__))
            attempts += 1
            stop.wait(min(4, 0.5 * 2**attempts) * random.uniform(0.5, 1))


class Watcher:
    """An anonymous page on one auction: applies events like auction.js, resyncs on gaps."""

    def __init__(self, base: str, auction_id: int) -> None:
        self.base, self.auction_id = base, auction_id
        self.seq = -1
        self.html = ""
        self.ended_event = False
        self.events = 0  # live events received (not counting refetches)
        self.events_after_redis_restart = 0
        self.session = requests.Session()

    def refetch(self) -> None:
        response = http(
            self.session,
            "GET",
            f"{self.base}/auctions/{self.auction_id}/panel/",
            "htmx",
            headers={"HX-Request": "true"},
        )
        if response is not None and response.status_code == 200:
            self.html = response.text
            self.seq = int(re.search(r'data-seq="(\d+)"', response.text).group(1))

    def run(self) -> None:
        attempts = 0
        while time.monotonic() < self.give_up:
            try:
                with open_socket(self.base, self.auction_id, None) as ws:
                    attempts = 0
                    while time.monotonic() < self.give_up:
                        try:
                            message = json.loads(ws.recv(timeout=1))
                        except TimeoutError:
                            continue
                        if self.apply(message):
                            return
            except Exception:  # a drop: reconnect, and resync on the status message
                attempts += 1
                time.sleep(min(4, 0.5 * 2**attempts) * random.uniform(0.5, 1))

    def apply(self, message: dict) -> bool:
        """Apply one message as auction.js does; True once the auction_ended event came."""
        kind = message["type"]
        if kind != "auction_status":
            self.events += 1
            if any(name == "redis" for name, _s, _e in record.faults):
                self.events_after_redis_restart += 1
        if kind == "auction_status":
            self.refetch()  # first contact or a reconnect
        elif message["prev_seq"] > self.seq:
            self.refetch()  # a gap
        elif message["seq"] >= self.seq:
            self.html, self.seq = message["html"], message["seq"]
        self.ended_event = self.ended_event or kind == "auction_ended"
        return self.ended_event

    # Until the load ends and then for a while, for auction_ended (set by the run).
    give_up = float("inf")


def checkout(base: str, session_key: str, listing_pk: int) -> bool:
    """Buy now with the saved address: one order, whatever is retried."""
    session = requests.Session()
    session.cookies.set("sessionid", session_key)
    url = f"{base}/checkout/?listing={listing_pk}&quantity=1"
    page = http(session, "GET", url, "page")
    if page is None or page.status_code != 200:
        return False
    fields = dict(
        re.findall(r'name="(csrfmiddlewaretoken|checkout_key)" value="([^"]+)"', page.text)
    )
    address = re.search(r'name="address"[^>]*value="(\d+)"|<option value="(\d+)"', page.text)
    if address:
        fields["address"] = address.group(1) or address.group(2)
    response = http(session, "POST", url, "form", data=fields, headers={"Referer": base + "/"})
    return response is not None and response.status_code == 302
