"""Shared by the API operations: Stripe's constants, events, retrieval with `expand`, lists.

Each operation (accounts.py, checkout.py, payouts.py) validates like Stripe, changes the store and
returns the object in Stripe's JSON shape. Callers hold `store.lock`.
"""

from decimal import Decimal

from stripe_emulator.errors import StripeError, no_such
from stripe_emulator.params import (
    check_known,
    get_expand,
    get_int,
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


def format_amount(amount: int, currency: str) -> str:
    places = 0 if currency in ZERO_DECIMAL else 3 if currency in THREE_DECIMAL else 2
    return f"{currency.upper()} {Decimal(amount).scaleb(-places):,.{places}f}"


class BaseApi:
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
