"""The server's notion of the current time, kept in one object so tests can steer it."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta


class Clock:
    """Wall-clock UTC time, shifted by an offset or frozen at a fixed instant."""

    def __init__(self, start: datetime | None = None) -> None:
        self._offset = timedelta(0)
        self._frozen_at: datetime | None = None
        if start is not None:
            self.jump_to(start)

    def now(self) -> datetime:
        if self._frozen_at is not None:
            return self._frozen_at
        return datetime.now(UTC) + self._offset

    def timestamp(self) -> float:
        return self.now().timestamp()

    def jump_to(self, instant: datetime) -> None:
        """Make `now()` return `instant` from here on, still advancing in real time."""
        if instant.tzinfo is None:
            raise ValueError(f"Expected a time zone aware instant, but got {instant!r}.")
        self._offset = instant - datetime.now(UTC)
