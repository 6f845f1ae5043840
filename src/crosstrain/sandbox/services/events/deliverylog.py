"""The delivery log: one entry per delivery, newest last, bounded, queryable by learners and
checks (``GET /_crosstrain/events``, ``Sandbox.events()``)."""

from __future__ import annotations

import threading
from collections import OrderedDict
from dataclasses import dataclass, field

LOG_SIZE = 10_000


@dataclass
class Entry:
    """The log's view of one delivery."""

    id: str
    time: float
    kind: str
    source: str
    target: str
    payload_size: int
    result: str = "queued"  # queued|retrying|delivered|failed|expired|loop-detected|dropped
    attempts: int = 0
    retries: int = 0
    error: str = ""
    finished: float | None = None
    detail: dict = field(default_factory=dict)

    def as_dict(self) -> dict:
        data = dict(self.__dict__)
        data["detail"] = dict(self.detail)
        return data


class DeliveryLog:
    """The newest ``size`` entries, queryable."""

    def __init__(self, size: int = LOG_SIZE):
        self._entries: OrderedDict[str, Entry] = OrderedDict()
        self._size = size
        self._lock = threading.Lock()

    def add(self, entry: Entry) -> Entry:
        with self._lock:
            self._entries[entry.id] = entry
            while len(self._entries) > self._size:
                self._entries.popitem(last=False)
        return entry

    def update(self, entry_id: str, **changes) -> None:
        with self._lock:
            entry = self._entries.get(entry_id)
            if entry is not None:
                for key, value in changes.items():
                    setattr(entry, key, value)

    def query(
        self,
        *,
        source: str | None = None,
        target: str | None = None,
        kind: str | None = None,
        result: str | None = None,
        since: float | None = None,
        limit: int | None = None,
    ) -> list[dict]:
        """Entries oldest first; ``source``/``target`` match a substring (a name or an ARN)."""
        with self._lock:
            entries = list(self._entries.values())
        picked = [
            e.as_dict()
            for e in entries
            if (source is None or source in e.source)
            and (target is None or target in e.target)
            and (kind is None or e.kind == kind)
            and (result is None or e.result == result)
            and (since is None or e.time >= since)
        ]
        return picked[-limit:] if limit else picked

    def dump(self) -> list[dict]:
        with self._lock:
            return [e.as_dict() for e in self._entries.values()]

    def load(self, entries: list[dict]) -> None:
        for data in entries:
            self.add(Entry(**data))

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()
