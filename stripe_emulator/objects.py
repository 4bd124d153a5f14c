"""The slice of Stripe's API we use: each operation validates like Stripe, changes the store and
returns the object in Stripe's JSON shape. Callers hold `store.lock`.
"""

from stripe_emulator.errors import StripeError, no_such
from stripe_emulator.params import (
    check_known,
    get_bool,
    get_expand,
    get_int,
    get_metadata,
    get_str,
)
from stripe_emulator.store import Store, new_id, now, public

API_VERSION = "2026-10-28.endive"
MAX_AMOUNT = 99_999_999  # Stripe's limit for one charge: eight digits in the smallest unit.
ZERO_DECIMAL = {
    "bif", "clp", "djf", "gnf", "jpy", "kmf", "krw", "mga",
    "pyg", "rwf", "ugx", "vnd", "vuv", "xaf", "xof", "xpf",
}  # fmt: skip
THREE_DECIMAL = {"bhd", "jod", "kwd", "omr", "tnd"}
# Countries where Stripe can only pay out to a connected account (cross-border payouts): such
# accounts must use the `recipient` service agreement and cannot take card payments.
RECIPIENT_ONLY_COUNTRIES = {"PK", "BD", "LK", "NP", "EG", "NG", "KE", "VN", "UA"}
ONBOARDING_DUE = [
    "business_type",
    "external_account",
    "individual.dob.day",
    "individual.first_name",
    "individual.last_name",
    "tos_acceptance.date",
    "tos_acceptance.ip",
]


def format_amount(amount: int, currency: str) -> str:
    places = 0 if currency in ZERO_DECIMAL else 3 if currency in THREE_DECIMAL else 2
    major = amount / 10**places if places else amount
    return f"{currency.upper()} {major:,.{places}f}"


class Api:
    def __init__(self, store: Store, base_url: str, emit_event) -> None:
        self.store = store
        self.base_url = base_url
        self._emit = emit_event  # called with the new event id, delivers it later

    # --- events ---------------------------------------------------------------------------
    def event(
        self, kind: str, obj: dict, previous: dict | None = None, account: str | None = None
    ) -> dict:
        data: dict = {"object": public(obj)}
        if previous:
            data["previous_attributes"] = previous
        event = self.store.add(
            {
                "id": new_id("evt_"),
                "object": "event",
                "api_version": API_VERSION,
                "created": now(),
                "data": data,
                "livemode": False,
                "pending_webhooks": 1,
                "request": {"id": None, "idempotency_key": None},
                "type": kind,
            }
        )
        if account:  # a Connect event: about a connected account
            event["account"] = account
        self.store.event_ids.append(event["id"])
        self._emit(event["id"])
        return event

    def retrieve(self, kind: str, object_id: str, params: dict | None = None) -> dict:
        obj = self.store.get(object_id, kind)
        if obj is None:
            raise no_such(kind, object_id)
        return self.expand(obj, get_expand(params or {}))

    def expand(self, obj: dict, paths: list[str]) -> dict:
        result = public(obj)
        for path in paths:
            self._expand_path(obj, result, path.split("."), path)
        return result

    def _expand_path(self, obj: dict, result: dict, parts: list[str], path: str) -> None:
        field, rest = parts[0], parts[1:]
        if field == "line_items" and obj["object"] == "checkout.session":
            result["line_items"] = self._list(
                obj["_line_items"], f"/v1/checkout/sessions/{obj['id']}/line_items", 100
            )
            return
        value = result.get(field)
        target = self.store.objects.get(value) if isinstance(value, str) else None
        if isinstance(value, dict):  # already expanded by an earlier path
            target = self.store.objects.get(value["id"])
        if target is None:
            if value is None and field in result:
                return  # Stripe leaves a null reference null
            raise StripeError(f"This property cannot be expanded ({path}).", param="expand")
        expanded = value if isinstance(value, dict) else public(target)
        result[field] = expanded
        if rest:
            self._expand_path(target, expanded, rest, path)

    def list_objects(
        self, kind: str, params: dict, path: str, filters: tuple[str, ...] = ()
    ) -> dict:
        check_known(params, {"limit", "starting_after", *filters})
        items = [
            obj
            for obj in self.store.all(kind)
            if all(obj.get(name) == params[name] for name in filters if name in params)
        ]
        items.sort(key=lambda obj: obj["created"], reverse=True)
        after = get_str(params, "starting_after")
        if after:
            ids = [obj["id"] for obj in items]
            items = items[ids.index(after) + 1 :] if after in ids else []
        limit = get_int(params, "limit", minimum=1) or 10
        return self._list([public(obj) for obj in items], path, limit)

    @staticmethod
    def _list(items: list[dict], path: str, limit: int) -> dict:
        return {
            "object": "list",
            "data": items[:limit],
            "has_more": len(items) > limit,
            "url": path,
        }

    # --- accounts -------------------------------------------------------------------------
    def create_account(self, params: dict) -> dict:
        check_known(
            params,
            {
                "type",
                "country",
                "email",
                "capabilities",
                "business_type",
                "tos_acceptance",
                "metadata",
                "default_currency",
                "business_profile",
            },
        )
        get_str(params, "type", required=True, choices=["express"])
        country = (get_str(params, "country") or "US").upper()
        agreement = (params.get("tos_acceptance") or {}).get("service_agreement", "full")
        requested = {}
        for name, options in (params.get("capabilities") or {}).items():
            if get_bool(options if isinstance(options, dict) else {}, "requested"):
                requested[name] = "inactive"
        if country in RECIPIENT_ONLY_COUNTRIES and agreement != "recipient":
            raise StripeError(
                f"Accounts in {country} can only be created with the `recipient` service agreement "
                "(tos_acceptance[service_agreement]=recipient).",
                param="tos_acceptance[service_agreement]",
            )
        if agreement == "recipient" and "card_payments" in requested:
            raise StripeError(
                "Accounts with the `recipient` service agreement cannot request the `card_payments` capability.",
                param="capabilities[card_payments]",
            )
        return self.store.add(
            {
                "id": new_id("acct_", 16),
                "object": "account",
                "type": "express",
                "country": country,
                "email": get_str(params, "email"),
                "business_type": get_str(params, "business_type"),
                "default_currency": get_str(params, "default_currency")
                or ("pkr" if country == "PK" else "usd"),
                "capabilities": requested,
                "charges_enabled": False,
                "payouts_enabled": False,
                "details_submitted": False,
                "requirements": self._requirements(list(ONBOARDING_DUE)),
                "tos_acceptance": {"service_agreement": agreement},
                "metadata": get_metadata(params),
                "created": now(),
            }
        )

    @staticmethod
    def _requirements(due: list[str]) -> dict:
        return {
            "currently_due": due,
            "eventually_due": list(due),
            "past_due": list(due),
            "pending_verification": [],
            "disabled_reason": "requirements.past_due" if due else None,
            "current_deadline": None,
            "errors": [],
        }

    def update_account(self, account_id: str, params: dict) -> dict:
        check_known(params, {"email", "metadata"})
        account = self._account(account_id)
        if "email" in params:
            account["email"] = get_str(params, "email")
        if "metadata" in params:
            account["metadata"] = get_metadata(
                {"metadata": {**account["metadata"], **params["metadata"]}}
            )
        return account

    def set_account_enabled(self, account_id: str, enabled: bool) -> dict:
        """What finishing (or falling behind on) onboarding does, with its account.updated event."""
        account = self._account(account_id)
        previous = {
            key: account[key]
            for key in (
                "capabilities",
                "charges_enabled",
                "payouts_enabled",
                "details_submitted",
                "requirements",
            )
        }
        state = "active" if enabled else "inactive"
        account["capabilities"] = {name: state for name in account["capabilities"]}
        account["charges_enabled"] = account["capabilities"].get("card_payments") == "active"
        account["payouts_enabled"] = enabled
        account["details_submitted"] = account["details_submitted"] or enabled
        account["requirements"] = self._requirements(
            [] if enabled else ["individual.verification.document"]
        )
        self.event("account.updated", account, previous, account=account["id"])
        return account

    def _account(self, account_id: str, param: str = "id") -> dict:
        account = self.store.get(account_id, "account")
        if account is None:
            error = no_such("account", account_id, param)
            if param != "id":
                error.status = 400
            raise error
        return account

    def create_account_link(self, params: dict) -> dict:
        check_known(
            params,
            {"account", "refresh_url", "return_url", "type", "collect", "collection_options"},
        )
        account = self._account(get_str(params, "account", required=True), "account")
        get_str(params, "type", required=True, choices=["account_onboarding", "account_update"])
        token = new_id("", 32)
        link = {
            "account": account["id"],
            "refresh_url": get_str(params, "refresh_url", required=True),
            "return_url": get_str(params, "return_url", required=True),
            "expires_at": now() + 300,
            "used": False,
        }
        self.store.links[token] = link
        return {
            "object": "account_link",
            "created": now(),
            "expires_at": link["expires_at"],
            "url": f"{self.base_url}/connect/onboarding/{token}",
        }

    # --- checkout sessions ----------------------------------------------------------------
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

    # --- transfers ------------------------------------------------------------------------
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
