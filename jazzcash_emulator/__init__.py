"""A local stand-in for JazzCash's hosted checkout (standard library only).

    python -m jazzcash_emulator --port 12121 --ipn-url http://127.0.0.1:8000/payments/jazzcash/ipn/

Serves the merchant form (`/CustomerPortal/transactionmanagement/merchantform/`) with its own
checkout page where the tester picks the outcome, posts the signed result back to
`pp_ReturnURL`, sends the IPN with retries, and answers the status inquiry
(`/ApplicationAPI/API/PaymentInquiry/Inquire`) and the wallet refund
(`/ApplicationAPI/API/Purchase/domwalletrefundtransaction`). Shapes follow
/work/shared/PAYMENTS_PK.md ("JazzCash hosted checkout"). Tests start it in-process with
`start_emulator(port=0, ...)`.
"""

from jazzcash_emulator.server import EmulatorServer, start_emulator
from jazzcash_emulator.signing import secure_hash

__all__ = ["EmulatorServer", "secure_hash", "start_emulator"]
