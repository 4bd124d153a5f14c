"""A local stand-in for the slice of Stripe's API MadeInPK uses (standard library only).

    python -m stripe_emulator --port 12111 --webhook-url http://127.0.0.1:8000/stripe/webhook/ \\
        --webhook-secret whsec_... [--state-file .stripe-emulator.json]

Point the official library at it (`StripeClient(key, base_addresses={"api": base_url})`), with
any `sk_test_...` key. Tests start it in-process with `start_emulator(port=0, ...)`.
"""

from stripe_emulator.server import EmulatorServer, start_emulator
from stripe_emulator.webhooks import sign_payload

__all__ = ["EmulatorServer", "sign_payload", "start_emulator"]
