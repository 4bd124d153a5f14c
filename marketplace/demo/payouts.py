"""Demo only: onboard the demo sellers on the local Stripe emulator that `make run` starts.

On real Stripe a seller onboards themselves ("Get paid"); in the demo nobody should have to
before a buyer can try paying. The scheduler runs this once after `load_demo` (the emulator is
not running yet while `load_demo` runs), through the same onboarding service a seller uses,
then completes the onboarding with the emulator's test control, as a seller's click would.
"""

import json
import urllib.request

from django.conf import settings

from marketplace.models import ConnectedAccount, User
from marketplace.services.payouts import (
    refresh_connected_account,
    start_payouts_onboarding,
)


def onboard_demo_sellers(usernames: list[str]) -> list[str]:
    """Onboard these sellers on the emulator; returns who was onboarded (nothing on real Stripe)."""
    base = settings.STRIPE_API_BASE
    if not base:
        return []
    done = []
    for seller in User.objects.filter(username__in=usernames).order_by("username"):
        # Their Stripe account, whatever other way to be paid they have (the demo wallet).
        if not seller.is_seller or ConnectedAccount.objects.ready().filter(user=seller).exists():
            continue
        site = settings.SITE_URL
        start_payouts_onboarding(
            seller=seller,
            refresh_url=f"{site}/sell/payouts/refresh/",
            return_url=f"{site}/sell/payouts/return/",
        )
        account_id = ConnectedAccount.objects.get(user=seller).stripe_account_id
        request = urllib.request.Request(  # noqa: S310 (our own emulator's http URL)
            f"{base}/_emulator/accounts/{account_id}/enable", data=b"", method="POST"
        )
        with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310
            json.load(response)
        refresh_connected_account(seller=seller)
        done.append(seller.username)
    return done
