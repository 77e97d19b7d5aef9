"""The server's notion of the current time, kept in one object so tests can steer it."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta

# The instants the clock may show: wide enough for any test, and far from datetime's limits, so
# a running clock can never overflow.
EARLIEST = datetime(1971, 1, 1, tzinfo=UTC)
LATEST = datetime(9000, 1, 1, tzinfo=UTC)


class Clock:
    """Wall-clock UTC time, shifted by an offset or frozen at a fixed instant.

    Token, authorization-code and page-token expiry and the daily rate limits all read this
    clock, so moving it tests them without sleeping.
    """

    def __init__(self, start: datetime | None = None) -> None:
        self._lock = threading.Lock()
        self._start = start
        self._offset = timedelta(0)
        self._frozen_at: datetime | None = None
        self.reset()

    def now(self) -> datetime:
        frozen_at = self._frozen_at
        if frozen_at is not None:
            return frozen_at
        return datetime.now(UTC) + self._offset

    def timestamp(self) -> float:
        return self.now().timestamp()

    @property
    def frozen(self) -> bool:
        return self._frozen_at is not None

    def jump_to(self, instant: datetime) -> None:
        """Make `now()` return `instant`; a running clock goes on advancing from there."""
        instant = _within_range(_aware(instant))
        with self._lock:
            if self._frozen_at is not None:
                self._frozen_at = instant
            else:
                self._offset = instant - datetime.now(UTC)

    def state(self) -> tuple[timedelta, datetime | None]:
        """Return what `restore` needs to undo later changes."""
        return self._offset, self._frozen_at

    def restore(self, state: tuple[timedelta, datetime | None]) -> None:
        with self._lock:
            self._offset, self._frozen_at = state

    def freeze(self, at: datetime | None = None) -> None:
        with self._lock:
            self._frozen_at = _within_range(_aware(at)) if at is not None else self.now()

    def unfreeze(self) -> None:
        """Let time run again from the frozen instant."""
        with self._lock:
            if self._frozen_at is not None:
                self._offset = self._frozen_at - datetime.now(UTC)
                self._frozen_at = None

    def advance(self, seconds: float) -> None:
        with self._lock:
            step = timedelta(seconds=seconds)
            _within_range(self.now() + step)
            if self._frozen_at is not None:
                self._frozen_at += step
            else:
                self._offset += step

    def reset(self) -> None:
        """Return to the start-up state: real time, or time running from the configured start."""
        with self._lock:
            self._frozen_at = None
            self._offset = timedelta(0)
            if self._start is not None:
                self._offset = _aware(self._start) - datetime.now(UTC)


def _within_range(instant: datetime) -> datetime:
    if not EARLIEST <= instant <= LATEST:
        raise ValueError(
            f"Cannot set the clock to {instant.isoformat()}: expected a time from "
            f"{EARLIEST.isoformat()} to {LATEST.isoformat()}."
        )
    return instant


def _aware(instant: datetime) -> datetime:
    if instant.tzinfo is None:
        raise ValueError(
            f"Expected a time with a time zone, such as {instant.isoformat()}Z, "
            f"but got {instant.isoformat()}."
        )
    return instant.astimezone(UTC)
