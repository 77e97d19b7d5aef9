"""The server's notion of the current time, kept in one object so tests can steer it."""

from __future__ import annotations

import threading
import time
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
        # `_offset` and `_frozen_at` are properties that keep float copies for `timestamp()`.
        self._offset = timedelta(0)
        self._frozen_at = None
        self.reset()

    def now(self) -> datetime:
        frozen_at = self._frozen_value
        if frozen_at is not None:
            return frozen_at
        return datetime.now(UTC) + self._offset_value

    def timestamp(self) -> float:
        """Return `now()` as POSIX seconds, without building a datetime.

        The request path reads the time several times per request.
        """
        frozen_timestamp = self._frozen_timestamp
        if frozen_timestamp is not None:
            return frozen_timestamp
        return time.time() + self._offset_seconds

    @property
    def _offset(self) -> timedelta:
        return self._offset_value

    @_offset.setter
    def _offset(self, offset: timedelta) -> None:
        self._offset_value = offset
        self._offset_seconds = offset.total_seconds()

    @property
    def _frozen_at(self) -> datetime | None:
        return self._frozen_value

    @_frozen_at.setter
    def _frozen_at(self, instant: datetime | None) -> None:
        self._frozen_value = instant
        self._frozen_timestamp = instant.timestamp() if instant is not None else None

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
