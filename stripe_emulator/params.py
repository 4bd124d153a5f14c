"""Stripe's form encoding: `line_items[0][price_data][unit_amount]=500`, `expand[]=x`, `metadata[k]=v`."""

import re
from urllib.parse import parse_qsl

from stripe_emulator.errors import StripeError

_PART = re.compile(r"\[([^\[\]]*)\]")


def parse_form(text: str) -> dict:
    """Decode a form body or query string into nested dicts and lists, as Stripe's API does."""
    root: dict = {}
    for key, value in parse_qsl(text, keep_blank_values=True):
        head, _, rest = key.partition("[")
        path = [head, *_PART.findall("[" + rest)] if rest else [head]
        node = root
        for index, part in enumerate(path):
            last = index == len(path) - 1
            if part == "":  # `expand[]=a&expand[]=b` appends
                part = str(len(node))
            if last:
                node[part] = value
            else:
                node = node.setdefault(part, {})
                if not isinstance(node, dict):
                    raise StripeError(f"Invalid hash: {key}", param=key)
    return _listify(root)


def _listify(node):
    """Turn dicts whose keys are all indexes ("0", "1", ...) into lists, in index order."""
    if not isinstance(node, dict):
        return node
    node = {key: _listify(value) for key, value in node.items()}
    if node and all(key.isdigit() for key in node):
        return [node[key] for key in sorted(node, key=int)]
    return node


def get_int(params: dict, name: str, *, required: bool = False, minimum: int | None = None):
    value = params.get(name)
    if value is None or value == "":
        if required:
            raise StripeError(
                f"Missing required param: {name}.", param=name, code="parameter_missing"
            )
        return None
    if not isinstance(value, str) or not re.fullmatch(r"-?\d+", value):
        raise StripeError(f"Invalid integer: {value}", param=name, code="parameter_invalid_integer")
    number = int(value)
    if minimum is not None and number < minimum:
        raise StripeError(
            f"This value must be greater than or equal to {minimum}.",
            param=name,
            code="parameter_invalid_integer",
        )
    return number


def get_str(params: dict, name: str, *, required: bool = False, choices=None) -> str | None:
    value = params.get(name)
    if value is None or value == "":
        if required:
            raise StripeError(
                f"Missing required param: {name}.", param=name, code="parameter_missing"
            )
        return None
    if not isinstance(value, str):
        raise StripeError(f"Invalid string: {name}", param=name, code="parameter_invalid_string")
    if choices is not None and value not in choices:
        raise StripeError(
            f"Invalid {name}: must be one of {', '.join(choices)}",
            param=name,
            code="parameter_invalid_string",
        )
    return value


def get_bool(params: dict, name: str) -> bool | None:
    value = params.get(name)
    if value is None or value == "":
        return None
    if value not in ("true", "false"):
        raise StripeError(f"Invalid boolean: {value}", param=name)
    return value == "true"


def get_metadata(params: dict, name: str = "metadata") -> dict:
    value = params.get(name) or {}
    if not isinstance(value, dict):
        raise StripeError("Invalid hash", param=name, code="parameter_invalid_hash")
    if len(value) > 50:
        raise StripeError("Metadata can have at most 50 keys.", param=name)
    for key, item in value.items():
        if not isinstance(item, str):
            raise StripeError("Invalid metadata value", param=f"{name}[{key}]")
        if len(key) > 40 or len(item) > 500:
            raise StripeError(
                "Metadata keys are limited to 40 characters and values to 500.",
                param=f"{name}[{key}]",
            )
    # Stripe: setting a key to "" removes it.
    return {key: item for key, item in value.items() if item != ""}


def get_expand(params: dict) -> list[str]:
    value = params.get("expand") or []
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
        raise StripeError("Invalid array", param="expand")
    return value


def check_known(params: dict, allowed: set[str]) -> None:
    """Stripe refuses parameters it does not know; so do we (catches typos in product code)."""
    for name in params:
        if name not in allowed and name != "expand":
            raise StripeError(
                f"Received unknown parameter: {name}", param=name, code="parameter_unknown"
            )
