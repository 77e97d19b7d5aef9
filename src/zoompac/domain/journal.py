"""The request journal: what the emulated API was asked and what it returned."""

from __future__ import annotations

import threading
from collections import deque
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from typing import Any


@dataclass(frozen=True, slots=True)
class JournalEntry:
    time: datetime
    method: str
    path: str
    query: str  # With secrets such as access_token or code replaced by "[redacted]".
    status: int
    zoom_code: int | None
    oauth_error: str | None
    duration_ms: float
    client_id: (
        str | None
    )  # The app the request acted for, when its token or credentials were valid.
    user_id: str | None  # The user of a user-level token.
    tracking_id: str

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["time"] = self.time.isoformat().replace("+00:00", "Z")
        return data


# A journal entry's fields in declaration order, its time as POSIX seconds. The journal keeps
# plain tuples: the garbage collector stops tracking a tuple of strings and numbers, but must
# walk every dataclass instance, and 10,000 of them made each full collection a visible pause.
JournalRow = tuple[
    float, str, str, str, int, int | None, str | None, float, str | None, str | None, str
]


class Journal:
    """A bounded, thread-safe log of the newest requests."""

    def __init__(self, max_entries: int = 10_000) -> None:
        self._lock = threading.Lock()
        self._rows: deque[JournalRow] = deque(maxlen=max_entries)

    def record(self, row: JournalRow) -> None:
        """Add an entry, given as its fields in `JournalEntry` order."""
        with self._lock:
            self._rows.append(row)

    def clear(self) -> None:
        with self._lock:
            self._rows.clear()

    def query(
        self,
        *,
        path: str | None = None,
        status: int | None = None,
        since: datetime | None = None,
        until: datetime | None = None,
        limit: int | None = None,
    ) -> list[JournalEntry]:
        """Return matching entries, oldest first; `path` matches a prefix of the request path."""
        with self._lock:
            rows = list(self._rows)
        entries = [JournalEntry(datetime.fromtimestamp(row[0], UTC), *row[1:]) for row in rows]
        selected = [
            entry
            for entry in entries
            if (path is None or entry.path.startswith(path))
            and (status is None or entry.status == status)
            and (since is None or entry.time >= since)
            and (until is None or entry.time <= until)
        ]
        return selected[-limit:] if limit else selected
