"""Plain HTML pages standing in for Stripe's hosted checkout and Connect onboarding."""

from html import escape

from stripe_emulator.objects import format_amount

_STYLE = """
body{font-family:system-ui,sans-serif;background:#f6f9fc;color:#1a1f36;margin:0;padding:1rem}
main{max-width:28rem;margin:2rem auto;background:#fff;border-radius:.5rem;padding:1.5rem;
box-shadow:0 2px 8px rgba(0,0,0,.08)}
h1{font-size:1.25rem;margin:0 0 1rem}.badge{font-size:.75rem;background:#ffde92;color:#5a3f00;
padding:.1rem .4rem;border-radius:.25rem;vertical-align:middle}
table{width:100%;border-collapse:collapse;margin-bottom:1rem}
td{padding:.4rem 0;border-bottom:1px solid #e3e8ee;vertical-align:top}td.n{text-align:right;white-space:nowrap;padding-left:1rem}
tr.total td{font-weight:700;border-bottom:0}
button{width:100%;padding:.75rem;font-size:1rem;border-radius:.375rem;border:0;cursor:pointer;margin-top:.5rem}
.pay{background:#635bff;color:#fff}.cancel{background:#e3e8ee;color:#1a1f36}
p.muted{color:#697386;font-size:.875rem}
"""


def _page(title: str, body: str) -> str:
    return (
        '<!doctype html><html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{escape(title)}</title><style>{_STYLE}</style></head>"
        f'<body><main>{body}<p class="muted">Local Stripe emulator: no real money moves.</p>'
        "</main></body></html>"
    )


def checkout_page(session: dict) -> str:
    currency = session["currency"]
    rows = "".join(
        f"<tr><td>{escape(item['description'])} &times; {item['quantity']}</td>"
        f'<td class="n">{format_amount(item["amount_total"], currency)}</td></tr>'
        for item in session["_line_items"]
    )
    total = format_amount(session["amount_total"], currency)
    email = session["customer_email"]
    who = f'<p class="muted">Paying as {escape(email)}</p>' if email else ""
    if session["status"] != "open":
        state = {
            "complete": "This checkout is already paid.",
            "expired": "This checkout has expired.",
        }
        return _page("Checkout", f"<h1>Checkout</h1><p>{state[session['status']]}</p>")
    base = f"/c/pay/{escape(session['id'])}"
    return _page(
        f"Pay {total}",
        f'<h1>Pay {total} <span class="badge">TEST MODE</span></h1>{who}'
        f'<table>{rows}<tr class="total"><td>Total</td><td class="n">{total}</td></tr></table>'
        f'<form method="post" action="{base}/pay"><button id="pay" class="pay" type="submit">Pay {total}</button></form>'
        f'<form method="post" action="{base}/cancel"><button id="cancel" class="cancel" type="submit">Cancel</button></form>',
    )


def onboarding_page(account: dict, token: str) -> str:
    email = escape(account.get("email") or "")
    return _page(
        "Set up payouts",
        f'<h1>Set up payouts <span class="badge">TEST MODE</span></h1>'
        f"<p>Connected account <code>{escape(account['id'])}</code> {email}</p>"
        "<p>Stripe would ask here for identity and bank details.</p>"
        f'<form method="post" action="/connect/onboarding/{escape(token)}/complete">'
        '<button id="complete-onboarding" class="pay" type="submit">Complete onboarding</button></form>',
    )


def message_page(title: str, text: str) -> str:
    return _page(title, f"<h1>{escape(title)}</h1><p>{escape(text)}</p>")
