"""The emulated API: one object combining the operations of each area."""

from stripe_emulator.accounts import AccountsApi
from stripe_emulator.checkout import CheckoutApi
from stripe_emulator.objects import BaseApi
from stripe_emulator.payouts import PayoutsApi


class Api(AccountsApi, CheckoutApi, PayoutsApi, BaseApi):
    """Stripe's /v1 operations over a Store; see server.py for the routes."""
