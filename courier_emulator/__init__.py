"""A local emulator of a Pakistani courier's merchant API, in PostEx's shape (issue 15).

Outside `marketplace/` like `stripe_emulator/`: `make run` starts it (Procfile.dev) and the tests
start it in a thread (`start_emulator`). It speaks the slice the site uses:

- `POST /api/order/v3/create-order` (header `token`): books a parcel, returns its tracking number;
- `GET /api/order/v1/track-order/<tracking>` (header `token`): the parcel with its
  `transactionStatusHistory` and money fields (`transactionFee`, `reversalFee`, ...);
- `GET /api/order/v1/payment-report` (header `token`): the remittance report, one line per
  settled parcel: collected amount, COD (delivery) charge, return charge;
- a callback to the merchant's URL on every status change (header `X-PostEx-Signature`,
  HMAC-SHA256 of the body), retried on failure; the body carries the whole history;
- `/` an admin page, and `POST /_emulator/parcels/<tracking>/status` (JSON or form
  `{"status": "picked_up"}`) for testers and tests to move a parcel along.

Status codes and names are modelled on PostEx's public integrations; expect small differences
in the live service (the site keeps the wire format in `marketplace/couriers/postex.py`).
"""

from courier_emulator.server import EmulatorServer, start_emulator
from courier_emulator.store import STATUSES, sign_body

__all__ = ["STATUSES", "EmulatorServer", "sign_body", "start_emulator"]
