"""The emulator's two pages: the admin list (move parcels along) and a public tracking page."""

from html import escape

from courier_emulator.store import MOVES, STATUSES

_STYLE = (
    "body{font-family:system-ui,sans-serif;margin:2rem;max-width:60rem}"
    "table{border-collapse:collapse;width:100%}td,th{border-bottom:1px solid #ddd;padding:.4rem;"
    "text-align:left;vertical-align:top}button{margin:.1rem}"
)


def _page(title: str, body: str) -> str:
    return (
        f"<!doctype html><html lang='en'><head><meta charset='utf-8'><title>{escape(title)}</title>"
        f"<style>{_STYLE}</style></head><body><h1>{escape(title)}</h1>{body}</body></html>"
    )


def admin_page(parcels: list[dict]) -> str:
    rows = []
    for parcel in parcels:
        tracking = escape(parcel["trackingNumber"])
        buttons = "".join(
            f"<form method='post' action='/_emulator/parcels/{tracking}/status' style='display:inline'>"
            f"<input type='hidden' name='status' value='{name}'>"
            f"<button type='submit' data-status='{name}'>{escape(STATUSES[name][1])}</button></form>"
            for name in sorted(MOVES[parcel["status"]], key=list(STATUSES).index)
        )
        rows.append(
            f"<tr id='parcel-{tracking}'><td><a href='/track/{tracking}'>{tracking}</a></td>"
            f"<td>{escape(parcel['orderRefNumber'])}</td><td>Rs {escape(parcel['invoicePayment'])}</td>"
            f"<td class='status'>{escape(STATUSES[parcel['status']][1])}</td><td>{buttons}</td></tr>"
        )
    table = (
        "<table><thead><tr><th>Tracking</th><th>Order</th><th>COD</th><th>Status</th>"
        "<th>Move to</th></tr></thead><tbody>" + "".join(rows) + "</tbody></table>"
        if rows
        else "<p>No parcels booked yet.</p>"
    )
    return _page("Courier emulator (PostEx shape)", table)


def tracking_page(parcel: dict | None, tracking: str) -> str:
    if parcel is None:
        return _page("Track a parcel", f"<p>No parcel {escape(tracking)}.</p>")
    items = "".join(
        f"<li>{escape(entry['transactionStatusMessage'])} · {escape(entry['updatedAt'])}</li>"
        for entry in parcel["transactionStatusHistory"]
    )
    return _page(f"Parcel {parcel['trackingNumber']}", f"<ol>{items}</ol>")
