"""What the soak asserts once the load is over, and the figures it writes."""

import json
import os
import re
import statistics
from decimal import Decimal

from django.db import close_old_connections

from marketplace.models import AuctionListing, Bid, Order
from soak.config import CONNECTION_BOUND, FAULT_GRACE, LOAD_SECONDS, WEB_POOL, WEB_PROCESSES
from soak.servers import BASE_DIR
from soak.state import log, record


def in_fault_window(t: float) -> bool:
    return any(start - 0.5 <= t <= end + FAULT_GRACE for _name, start, end in record.faults)


def check(auction_ids, watchers, shopper, bought, load_ended) -> int:
    close_old_connections()
    problems = []
    outside_5xx = [
        r for r in record.http if (r[2] >= 500 or r[2] == 0) and not in_fault_window(r[0])
    ]
    inside_5xx = [r for r in record.http if (r[2] >= 500 or r[2] == 0) and in_fault_window(r[0])]
    unclear = [r for r in inside_5xx if r[2] >= 500 and r[3] != "styled"]
    if outside_5xx:
        problems.append(
            f"{len(outside_5xx)} failed requests outside the fault windows: {outside_5xx[:5]}"
        )
    if unclear:
        problems.append(f"{len(unclear)} 5xx without the site's error page: {unclear[:3]}")
    ws_outside = [e for e in record.ws_errors if not in_fault_window(e[0])]
    if ws_outside:
        problems.append(f"WebSocket errors outside the fault windows: {ws_outside[:5]}")
    unclear_ws = [e for e in record.ws_errors if not e[2]]
    if unclear_ws:
        problems.append(f"WebSocket errors without a message: {unclear_ws[:3]}")
    late_drops = [
        f for f in record.ws_connect_failures if not in_fault_window(f[0]) and f[0] < load_ended
    ]
    if late_drops:
        problems.append(f"sockets failed outside the fault windows: {late_drops[:5]}")

    peak = max(count for _t, count in record.connections)
    if peak > CONNECTION_BOUND:
        problems.append(f"PostgreSQL connections peaked at {peak} > bound {CONNECTION_BOUND}")

    missing = [
        bid
        for bid in record.accepted
        if not Bid.objects.filter(auction_id=bid[0], bidder_id=bid[1], amount=bid[2]).exists()
    ]
    if missing:
        problems.append(f"{len(missing)} accepted bids not in the database: {missing[:5]}")
        for auction_id, bidder_id, amount, *_ in missing[:5]:
            log(f"bids on auction {auction_id} near Rs {amount} (bidder, amount, automatic, at):")
            near = Bid.objects.filter(auction_id=auction_id).order_by("id")
            for row in near.values_list("bidder_id", "amount", "is_automatic", "created_at"):
                if abs(row[1] - Decimal(amount)) <= 2000 or row[0] == bidder_id:
                    log(f"  {row}")
    for pk in auction_ids:
        auction = AuctionListing.objects.get(pk=pk)
        if auction.status != AuctionListing.Status.ENDED_SOLD:
            problems.append(f"auction {pk} is {auction.status}, not sold")
        orders = Order.objects.filter(auction_id=pk).count()
        if orders != 1:
            problems.append(f"auction {pk} has {orders} orders")
    for w in watchers:
        auction = AuctionListing.objects.get(pk=w.auction_id)
        status = re.search(r'data-status="(\w+)"', w.html)
        if w.seq != auction.bid_count or not status or status.group(1) != auction.status:
            problems.append(
                f"watcher of {w.auction_id} on {w.base} ends at seq {w.seq}"
                f" ({status and status.group(1)}), database {auction.bid_count} ({auction.status})"
            )
    shopper_orders = Order.objects.filter(buyer=shopper).count()
    if not bought or shopper_orders != 1:
        problems.append(f"the checkout went through: {bought}, orders: {shopper_orders} (want 1)")

    latencies = [s for _t, s in record.bid_latency]
    windows = {name: (start, end) for name, start, end in record.faults}
    if set(windows) != {"redis", "postgres"}:
        problems.append(f"the faults did not both happen: {sorted(windows)}")
    first_fault = min((start for start, _end in windows.values()), default=0.0)
    redis_start, redis_end = windows.get("redis", (0.0, 0.0))

    def median_ms(low: float, high: float) -> float | None:
        found = [s for t, s in record.bid_latency if low <= t < high]
        return round(statistics.median(found) * 1000, 1) if found else None

    during_redis = [s for t, s in record.bid_latency if redis_start <= t <= redis_end]
    figures = {
        "load_average_at_end": [round(x, 2) for x in os.getloadavg()],
        "load_seconds": LOAD_SECONDS,
        "web_processes": WEB_PROCESSES,
        "db_pool_max_size": WEB_POOL,
        "connection_bound": CONNECTION_BOUND,
        "max_connections": int(os.environ["SOAK_MAX_CONNECTIONS"]),
        "peak_connections": peak,
        "http_requests": len(record.http),
        "http_failed_in_fault_windows": len(inside_5xx),
        "http_failed_outside": len(outside_5xx),
        "ws_bids_accepted": len(latencies),
        "all_bids_accepted": len(record.accepted),
        "bids_in_database": Bid.objects.filter(auction_id__in=auction_ids).count(),
        "ws_errors_in_fault_windows": len(record.ws_errors) - len(ws_outside),
        "ws_error_codes": sorted({e[1] for e in record.ws_errors}),
        "socket_reconnects": len(record.ws_connect_failures),
        "bid_ms_median": round(statistics.median(latencies) * 1000, 1) if latencies else None,
        "bid_ms_p95": round(sorted(latencies)[int(len(latencies) * 0.95)] * 1000, 1)
        if latencies
        else None,
        "bid_ms_max_during_redis_outage": round(max(during_redis) * 1000, 1)
        if during_redis
        else None,
        "bids_during_redis_outage": len(during_redis),
        "bid_ms_median_before_faults": median_ms(0, first_fault),
        "bid_ms_median_during_redis_outage": median_ms(redis_start, redis_end),
        "bid_ms_median_10s_after_redis": median_ms(redis_end, redis_end + 10),
        "faults": record.faults,
        "watchers": len(watchers),
        "watchers_with_auction_ended_event": sum(w.ended_event for w in watchers),
        "watcher_events_after_redis_restart_by_process": {
            base: sum(w.events_after_redis_restart for w in watchers if w.base == base)
            for base in sorted({w.base for w in watchers})
        },
        "problems": problems,
    }
    (BASE_DIR / "test-artifacts" / "soak.json").write_text(json.dumps(figures, indent=2))
    print(json.dumps(figures, indent=2))
    if problems:
        log("FAILED:\n  " + "\n  ".join(problems))
        return 1
    log("passed")
    return 0
