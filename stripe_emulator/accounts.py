"""Connect: Express accounts, onboarding links, and what finishing onboarding changes."""

from stripe_emulator.errors import StripeError, no_such
from stripe_emulator.params import (
    check_known,
    get_bool,
    get_metadata,
    get_str,
)
from stripe_emulator.store import new_id, now

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


class AccountsApi:
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
