"""When to retry and how long to wait: `Retry-After` in both of Zoom's forms, and backoff.

Nothing here sleeps or sends; the sync and async clients both ask these functions what to do.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime


@dataclass(frozen=True, slots=True)
class RetryAfter:
    """A `Retry-After` header: a number of seconds, or the UTC instant of a daily reset."""

    seconds: float | None = None
    date: datetime | None = None

    def seconds_from(self, now: datetime) -> float:
        """Seconds from `now` (time zone aware) until the server admits requests again."""
        if self.date is not None:
            return max(0.0, (self.date - now).total_seconds())
        return max(0.0, self.seconds or 0.0)


def parse_retry_after(value: str | None) -> RetryAfter | None:
    """Read `Retry-After` as Zoom sends it: whole seconds for per-second limits, an ISO-8601
    UTC time for daily limits. HTTP's own date form is accepted too.

    A time without a zone is taken as UTC, because Zoom documents UTC. Reading it in the local
    zone would shift the wait by hours on any machine not set to UTC.
    """
    text = (value or "").strip()
    if not text:
        return None
    try:
        seconds = float(text)
    except ValueError:
        pass
    else:
        return RetryAfter(seconds=seconds) if seconds >= 0 else None
    instant = _parse_instant(text)
    return RetryAfter(date=instant) if instant is not None else None


def _parse_instant(text: str) -> datetime | None:
    try:
        instant = datetime.fromisoformat(text)
    except ValueError:
        try:
            instant = parsedate_to_datetime(text)
        except (TypeError, ValueError, IndexError):
            return None
    if instant.tzinfo is None:
        instant = instant.replace(tzinfo=UTC)
    return instant.astimezone(UTC)


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """How one API call retries rate limits (429), server errors (5xx) and connection failures.

    429 is retried for every method, since the server did not process the request; 5xx and
    connection failures only for GET, which is safe to repeat. A call gives up, raising the last
    error, after `max_attempts` attempts or when the next wait would take its total waiting past
    `max_wait` seconds. So a daily limit that resets in six hours fails at once, with the reset
    time, rather than blocking.
    """

    max_attempts: int = 8
    max_wait: float = 300.0
    # Exponential backoff when the server gives no Retry-After: the n-th wait is drawn between
    # half and all of min(backoff_max, backoff_base * 2**(n-1)).
    backoff_base: float = 0.5
    backoff_max: float = 30.0
    # A wait from Retry-After gets up to this many seconds more, at random, so that clients sent
    # the same Retry-After do not all retry at the same instant.
    jitter: float = 0.5

    def __post_init__(self) -> None:
        if self.max_attempts < 1:
            raise ValueError(
                f"Expected max_attempts of at least 1, but got {self.max_attempts!r}; "
                "1 turns retries off."
            )
        for name in ("max_wait", "backoff_base", "backoff_max", "jitter"):
            if getattr(self, name) < 0:
                raise ValueError(f"Expected {name} of 0 or more, but got {getattr(self, name)!r}.")

    def backoff(self, retry_number: int, rng: random.Random) -> float:
        """Return the wait before retry `retry_number` (1 for the first) without Retry-After."""
        ceiling = min(self.backoff_max, self.backoff_base * 2 ** (retry_number - 1))
        return rng.uniform(ceiling / 2, ceiling)

    def server_wait(self, retry_after: RetryAfter, now: datetime, rng: random.Random) -> float:
        """Return the wait that a Retry-After header requests, with jitter added."""
        return retry_after.seconds_from(now) + rng.uniform(0, self.jitter)


NO_RETRIES = RetryPolicy(max_attempts=1)
