"""Text written now and read later, in whatever language the reader has chosen by then.

`freeze` turns a message built from `gettext_lazy`, `i18n.lazy_format` and lazy prices into
JSON (the msgid and its parameters); `thaw` renders that JSON in the active language. Plain
strings (a message someone typed, a product title) are kept as they are. A lazy value of any
other kind is rendered once, in the language active when it is frozen.
"""

from typing import Any

from django.utils.functional import Promise
from django.utils.translation import gettext

from marketplace.i18n import _interpolate
from marketplace.money import format_pkr


def freeze(value: Any) -> Any:
    """A JSON-able form of `value` that `thaw` renders in the reader's language."""
    if value is None or isinstance(value, (bool, int, float)):
        return value
    if isinstance(value, Promise):
        func, args = _lazy_call(value)
        if func is gettext and len(args) == 1:
            return {"t": str(args[0])}
        if func is _interpolate and len(args) == 2:
            message, params = args
            return {"f": freeze(message), "p": {k: freeze(v) for k, v in params.items()}}
        if func is format_pkr and len(args) == 1:
            return {"pkr": str(args[0])}
    return str(value)


def thaw(spec: Any) -> str:
    """`spec` (made by `freeze`) as text in the active language."""
    if spec is None:
        return ""
    if not isinstance(spec, dict):
        return str(spec)
    if "t" in spec:
        return gettext(spec["t"])
    if "f" in spec:
        return thaw(spec["f"]) % {key: thaw(value) for key, value in spec["p"].items()}
    if "pkr" in spec:
        return format_pkr(spec["pkr"])
    return ""


def _lazy_call(value: Promise) -> tuple[Any, tuple]:
    """The function and arguments a Django lazy proxy will call (empty if unknown)."""
    try:
        _unpickle, (func, args, kwargs, *_classes) = value.__reduce__()
    except (TypeError, ValueError):
        return None, ()
    return (func, tuple(args)) if not kwargs else (None, ())
