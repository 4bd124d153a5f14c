"""Checkout Sessions, and paying one: a PaymentIntent and a Charge."""

from stripe_emulator.errors import StripeError, no_such
from stripe_emulator.objects import MAX_AMOUNT, format_amount
from stripe_emulator.params import (
    check_known,
    get_int,
    get_metadata,
    get_str,
)
from stripe_emulator.store import new_id, now


class CheckoutApi:
    def create_session(self, params: dict) -> dict:
        check_known(
            params,
            {
                "mode",
                "line_items",
                "success_url",
                "cancel_url",
                "metadata",
                "payment_intent_data",
                "client_reference_id",
                "expires_at",
                "customer_email",
                "payment_method_types",
                "locale",
            },
        )
        get_str(params, "mode", required=True, choices=["payment"])
        success_url = get_str(params, "success_url", required=True)
        raw_items = params.get("line_items")
        if not raw_items:
            raise StripeError(
                "Missing required param: line_items.", param="line_items", code="parameter_missing"
            )
        if not isinstance(raw_items, list):
            raise StripeError("Invalid array", param="line_items")
        line_items = [self._line_item(item, index) for index, item in enumerate(raw_items)]
        currencies = {item["currency"] for item in line_items}
        if len(currencies) > 1:
            raise StripeError("All line items must use the same currency.", param="line_items")
        currency = currencies.pop()
        total = sum(item["amount_total"] for item in line_items)
        if total > MAX_AMOUNT:
            raise StripeError(
                f"The Checkout Session's total amount due must be no more than {format_amount(MAX_AMOUNT, currency)}.",
                param="line_items",
                code="amount_too_large",
            )
        created = now()
        expires_at = get_int(params, "expires_at") or created + 24 * 3600
        # Stripe: 30 minutes to 24 hours after creation (a few seconds of clock slack here).
        if not created + 30 * 60 - 10 <= expires_at <= created + 24 * 3600 + 10:
            raise StripeError(
                "The `expires_at` timestamp must be between 30 minutes and 24 hours from Checkout Session creation.",
                param="expires_at",
            )
        intent_data = params.get("payment_intent_data") or {}
        if not isinstance(intent_data, dict):
            raise StripeError("Invalid hash", param="payment_intent_data")
        check_known(intent_data, {"transfer_group", "metadata", "description"})
        session_id = new_id("cs_test_", 58)
        return self.store.add(
            {
                "id": session_id,
                "object": "checkout.session",
                "amount_subtotal": total,
                "amount_total": total,
                "cancel_url": get_str(params, "cancel_url"),
                "client_reference_id": get_str(params, "client_reference_id"),
                "created": created,
                "currency": currency,
                "customer_details": None,
                "customer_email": get_str(params, "customer_email"),
                "expires_at": expires_at,
                "livemode": False,
                "metadata": get_metadata(params),
                "mode": "payment",
                "payment_intent": None,
                "payment_method_types": ["card"],
                "payment_status": "unpaid",
                "status": "open",
                "success_url": success_url,
                "url": f"{self.base_url}/c/pay/{session_id}",
                "_line_items": line_items,
                "_payment_intent_data": {
                    "transfer_group": get_str(intent_data, "transfer_group"),
                    "description": get_str(intent_data, "description"),
                    "metadata": get_metadata(intent_data),
                },
            }
        )

    def _line_item(self, item, index: int) -> dict:
        param = f"line_items[{index}]"
        if not isinstance(item, dict):
            raise StripeError("Invalid hash", param=param)
        check_known(item, {"price_data", "quantity"})
        price = item.get("price_data")
        if not isinstance(price, dict):
            raise StripeError(
                f"Missing required param: {param}[price_data].",
                param=f"{param}[price_data]",
                code="parameter_missing",
            )
        check_known(price, {"currency", "unit_amount", "product_data"})
        currency = get_str(price, "currency", required=True).lower()
        unit_amount = get_int(price, "unit_amount", required=True, minimum=0)
        product = price.get("product_data")
        if not isinstance(product, dict) or not product.get("name"):
            raise StripeError(
                f"Missing required param: {param}[price_data][product_data][name].",
                param=f"{param}[price_data][product_data][name]",
                code="parameter_missing",
            )
        check_known(product, {"name", "description", "metadata"})
        quantity = get_int(item, "quantity", required=True, minimum=1)
        return {
            "id": new_id("li_"),
            "object": "item",
            "amount_subtotal": unit_amount * quantity,
            "amount_total": unit_amount * quantity,
            "currency": currency,
            "description": product["name"],
            "price": {
                "id": new_id("price_"),
                "object": "price",
                "currency": currency,
                "unit_amount": unit_amount,
                "type": "one_time",
                "product": new_id("prod_", 14),
            },
            "quantity": quantity,
        }

    def _session(self, session_id: str) -> dict:
        session = self.store.get(session_id, "checkout.session")
        if session is None:
            raise no_such("checkout.session", session_id)
        return session

    def pay_session(self, session_id: str) -> dict:
        """The buyer pays: a succeeded PaymentIntent and Charge, then checkout.session.completed."""
        self.expire_overdue()
        session = self._session(session_id)
        if session["status"] != "open":
            raise StripeError(
                f"This Checkout Session is {session['status']} and can no longer be paid.",
                code="checkout_session_not_open",
            )
        data = session["_payment_intent_data"]
        created = now()
        intent = self.store.add(
            {
                "id": new_id("pi_"),
                "object": "payment_intent",
                "amount": session["amount_total"],
                "amount_received": session["amount_total"],
                "currency": session["currency"],
                "created": created,
                "description": data["description"],
                "latest_charge": None,
                "livemode": False,
                "metadata": data["metadata"],
                "payment_method_types": ["card"],
                "status": "succeeded",
                "transfer_group": data["transfer_group"],
            }
        )
        charge = self.store.add(
            {
                "id": new_id("ch_"),
                "object": "charge",
                "amount": intent["amount"],
                "amount_captured": intent["amount"],
                "amount_refunded": 0,
                "balance_transaction": new_id("txn_"),
                "billing_details": {"email": session["customer_email"], "name": "Test Buyer"},
                "captured": True,
                "created": created,
                "currency": intent["currency"],
                "livemode": False,
                "metadata": intent["metadata"],
                "paid": True,
                "payment_intent": intent["id"],
                "refunded": False,
                "status": "succeeded",
                "transfer_group": intent["transfer_group"],
                "_transferred": 0,
            }
        )
        intent["latest_charge"] = charge["id"]
        session.update(
            status="complete",
            payment_status="paid",
            payment_intent=intent["id"],
            customer_details={
                "email": session["customer_email"] or "buyer@example.com",
                "name": "Test Buyer",
            },
        )
        self.event("charge.succeeded", charge)
        self.event("payment_intent.succeeded", intent)
        self.event("checkout.session.completed", session)
        return session

    def expire_session(self, session_id: str) -> dict:
        session = self._session(session_id)
        if session["status"] != "open":
            raise StripeError(
                'Only Checkout Sessions with a status in ["open"] can be expired.',
                code="checkout_session_not_open",
            )
        session["status"] = "expired"
        self.event("checkout.session.expired", session)
        return session

    def expire_overdue(self) -> None:
        for session in self.store.all("checkout.session"):
            if session["status"] == "open" and session["expires_at"] <= now():
                self.expire_session(session["id"])
