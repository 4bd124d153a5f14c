"""JazzCash's pp_SecureHash, as the provider computes it (the emulator's own copy: it must not
import the marketplace it stands in for)."""

import hashlib
import hmac


def secure_hash(fields: dict, salt: str) -> str:
    """HMAC-SHA256 (key: the salt) of the salt and the non-empty pp* values sorted by name."""
    values = [
        str(value)
        for name, value in sorted(fields.items())
        if name.lower().startswith("pp") and name != "pp_SecureHash" and str(value) != ""
    ]
    message = "&".join([salt, *values])
    return hmac.new(salt.encode(), message.encode(), hashlib.sha256).hexdigest().upper()


def hash_matches(fields: dict, salt: str) -> bool:
    given = str(fields.get("pp_SecureHash", ""))
    return hmac.compare_digest(given.upper(), secure_hash(fields, salt))
