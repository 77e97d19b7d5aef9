"""The server's notion of the current time, kept in one object so tests can steer it."""

from __future__ import annotations

from datetime import UTC, datetime


class Clock:
    """Wall-clock UTC time, shifted by an offset or frozen at a fixed instant."""

    def __init__(self) -> None:
        self._frozen_at: datetime | None = None

    def now(self) -> datetime:
        if self._frozen_at is not None:
            return self._frozen_at
        return datetime.now(UTC)

    def timestamp(self) -> float:
        return self.now().timestamp()
