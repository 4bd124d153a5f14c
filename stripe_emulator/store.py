"""In-memory state: Stripe objects by id, events, account links, idempotent replies.

One lock guards everything (requests are short), and the whole state can be saved to a JSON file
so the emulator keeps its accounts and payments across `make run` restarts.
"""

import json
import os
import secrets
import string
import threading
import time
from pathlib import Path

_ALPHABET = string.ascii_letters + string.digits
IDEMPOTENCY_TTL = 24 * 3600  # Stripe keeps idempotent results for 24 hours.


def new_id(prefix: str, length: int = 24) -> str:
    return prefix + "".join(secrets.choice(_ALPHABET) for _ in range(length))


def now() -> int:
    return int(time.time())


class Store:
    def __init__(self, state_file: str | os.PathLike | None = None) -> None:
        self.lock = threading.RLock()
        self.state_file = Path(state_file) if state_file else None
        self.reset()
        if self.state_file and self.state_file.exists():
            self._load()

    def reset(self) -> None:
        with self.lock:
            self.objects: dict[
                str, dict
            ] = {}  # id -> Stripe object (keys starting "_" are private)
            self.event_ids: list[str] = []  # in creation order
            self.links: dict[str, dict] = {}  # onboarding token -> account link details
            self.idempotency: dict[str, dict] = {}  # "<api key>:<idempotency key>" -> saved reply
            self.deliveries: list[dict] = []  # webhook delivery attempts, newest last

    # --- objects --------------------------------------------------------------------------
    def add(self, obj: dict) -> dict:
        self.objects[obj["id"]] = obj
        return obj

    def get(self, object_id: str, kind: str) -> dict | None:
        obj = self.objects.get(object_id)
        return obj if obj is not None and obj["object"] == kind else None

    def all(self, kind: str) -> list[dict]:
        return [obj for obj in self.objects.values() if obj["object"] == kind]

    # --- idempotency ----------------------------------------------------------------------
    def saved_reply(self, key: str) -> dict | None:
        reply = self.idempotency.get(key)
        if reply and reply["at"] < now() - IDEMPOTENCY_TTL:
            del self.idempotency[key]
            return None
        return reply

    def save_reply(self, key: str, fingerprint: str, status: int, body: dict) -> None:
        self.idempotency[key] = {
            "fingerprint": fingerprint,
            "status": status,
            "body": body,
            "at": now(),
        }

    # --- persistence ----------------------------------------------------------------------
    def snapshot(self) -> dict:
        with self.lock:
            return {
                "objects": self.objects,
                "event_ids": self.event_ids,
                "links": self.links,
                "idempotency": self.idempotency,
                "deliveries": self.deliveries[-200:],
            }

    def save(self) -> None:
        if not self.state_file:
            return
        with self.lock:
            text = json.dumps(self.snapshot(), indent=1, sort_keys=True)
            temporary = self.state_file.with_suffix(self.state_file.suffix + ".tmp")
            temporary.write_text(text, encoding="utf-8")
            os.replace(temporary, self.state_file)

    def _load(self) -> None:
        data = json.loads(self.state_file.read_text(encoding="utf-8"))
        self.objects = data.get("objects", {})
        self.event_ids = data.get("event_ids", [])
        self.links = data.get("links", {})
        self.idempotency = data.get("idempotency", {})
        self.deliveries = data.get("deliveries", [])


def public(obj: dict) -> dict:
    """The object as the API shows it: private bookkeeping keys removed."""
    return {key: value for key, value in obj.items() if not key.startswith("_")}
