"""Money after the charge: transfers to connected accounts, their reversals, refunds."""

from stripe_emulator.errors import StripeError, no_such
from stripe_emulator.objects import format_amount
from stripe_emulator.params import (
    check_known,
    get_int,
    get_metadata,
    get_str,
)
from stripe_emulator.store import new_id, now


class PayoutsApi:
    def create_transfer(self, params: dict) -> dict:
        check_known(
            params,
            {
                "amount",
                "currency",
                "destination",
                "source_transaction",
                "transfer_group",
                "metadata",
                "description",
            },
        )
        amount = get_int(params, "amount", required=True, minimum=1)
        currency = get_str(params, "currency", required=True).lower()
        account = self._account(get_str(params, "destination", required=True), "destination")
        if account["capabilities"].get("transfers") != "active":
            raise StripeError(
                "Your destination account needs to have at least one of the following capabilities enabled: transfers, crypto_transfers, legacy_payments",
                param="destination",
                code="insufficient_capabilities_for_transfer",
            )
        charge = None
        source = get_str(params, "source_transaction")
        if source:
            charge = self.store.get(source, "charge")
            if charge is None:
                raise StripeError(
                    f"No such charge: '{source}'",
                    param="source_transaction",
                    code="resource_missing",
                )
            if charge["currency"] != currency:
                raise StripeError(
                    "The currency of the transfer must match the currency of the source transaction.",
                    param="currency",
                )
            available = charge["amount"] - charge["amount_refunded"] - charge["_transferred"]
            if amount > available:
                raise StripeError(
                    f"Transfer amount {format_amount(amount, currency)} exceeds the {format_amount(available, currency)} "
                    f"still available on the source transaction {source}.",
                    param="amount",
                    code="balance_insufficient",
                )
            charge["_transferred"] += amount
        transfer = self.store.add(
            {
                "id": new_id("tr_"),
                "object": "transfer",
                "amount": amount,
                "amount_reversed": 0,
                "balance_transaction": new_id("txn_"),
                "created": now(),
                "currency": currency,
                "description": get_str(params, "description"),
                "destination": account["id"],
                "destination_payment": new_id("py_"),
                "livemode": False,
                "metadata": get_metadata(params),
                "reversed": False,
                "source_transaction": source,
                "transfer_group": get_str(params, "transfer_group"),
            }
        )
        self.event("transfer.created", transfer)
        return transfer

    def reverse_transfer(self, transfer_id: str, params: dict) -> dict:
        check_known(params, {"amount", "metadata", "description"})
        transfer = self.store.get(transfer_id, "transfer")
        if transfer is None:
            raise no_such("transfer", transfer_id)
        remaining = transfer["amount"] - transfer["amount_reversed"]
        amount = get_int(params, "amount", minimum=1) or remaining
        if amount > remaining:
            raise StripeError(
                f"Reversal amount {format_amount(amount, transfer['currency'])} is greater than the unreversed amount "
                f"{format_amount(remaining, transfer['currency'])}.",
                param="amount",
                code="amount_too_large",
            )
        transfer["amount_reversed"] += amount
        transfer["reversed"] = transfer["amount_reversed"] == transfer["amount"]
        charge = self.store.get(transfer["source_transaction"] or "", "charge")
        if charge is not None:
            charge["_transferred"] -= amount
        reversal = self.store.add(
            {
                "id": new_id("trr_"),
                "object": "transfer_reversal",
                "amount": amount,
                "created": now(),
                "currency": transfer["currency"],
                "metadata": get_metadata(params),
                "transfer": transfer["id"],
            }
        )
        self.event("transfer.reversed", transfer)
        return reversal

    # --- refunds --------------------------------------------------------------------------
    def create_refund(self, params: dict) -> dict:
        check_known(params, {"charge", "payment_intent", "amount", "reason", "metadata"})
        charge_id = get_str(params, "charge")
        intent_id = get_str(params, "payment_intent")
        if bool(charge_id) == bool(intent_id):
            raise StripeError(
                "You must pass either a charge or a payment_intent, but not both.",
                param="charge",
                code="parameter_missing",
            )
        if intent_id:
            intent = self.store.get(intent_id, "payment_intent")
            if intent is None:
                raise StripeError(
                    f"No such payment_intent: '{intent_id}'",
                    param="payment_intent",
                    code="resource_missing",
                )
            charge_id = intent["latest_charge"]
        charge = self.store.get(charge_id or "", "charge")
        if charge is None:
            raise StripeError(
                f"No such charge: '{charge_id}'", param="charge", code="resource_missing"
            )
        refundable = charge["amount"] - charge["amount_refunded"]
        if refundable == 0:
            raise StripeError(
                f"Charge {charge['id']} has already been refunded.", code="charge_already_refunded"
            )
        amount = get_int(params, "amount", minimum=1) or refundable
        if amount > refundable:
            raise StripeError(
                f"Refund amount ({format_amount(amount, charge['currency'])}) is greater than unrefunded amount on charge "
                f"({format_amount(refundable, charge['currency'])})",
                param="amount",
                code="amount_too_large",
            )
        refund = self.store.add(
            {
                "id": new_id("re_"),
                "object": "refund",
                "amount": amount,
                "balance_transaction": new_id("txn_"),
                "charge": charge["id"],
                "created": now(),
                "currency": charge["currency"],
                "metadata": get_metadata(params),
                "payment_intent": charge["payment_intent"],
                "reason": get_str(
                    params, "reason", choices=["duplicate", "fraudulent", "requested_by_customer"]
                ),
                "status": "succeeded",
            }
        )
        previous = {"amount_refunded": charge["amount_refunded"], "refunded": charge["refunded"]}
        charge["amount_refunded"] += amount
        charge["refunded"] = charge["amount_refunded"] == charge["amount"]
        self.event("refund.created", refund)
        self.event("charge.refunded", charge, previous)
        return refund
