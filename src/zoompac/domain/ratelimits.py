"""Zoom's rate limits: per account, per label, per second, and per UTC day on the Free plan.

Every route of one label shares one bucket per account, so a burst of `GET /users/{id}` calls
slows down `GET /users/{id}/pac` calls of the same account too.
"""

from __future__ import annotations

import enum
import math
import threading
from collections import deque
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import NamedTuple, Protocol

from zoompac.domain.errors import ZoomApiError
from zoompac.domain.models import Plan

SECONDS_PER_DAY = 86_400


class Label(enum.StrEnum):
    """A route's rate-limit label, spelled as in Zoom's `X-RateLimit-Category` header."""

    LIGHT = "Light"
    MEDIUM = "Medium"


class LimitType(enum.StrEnum):
    """The window a decision is about, spelled as in Zoom's `X-RateLimit-Type` header."""

    PER_SECOND = "QPS"
    DAILY = "Daily-limit"


@dataclass(frozen=True, slots=True)
class Limit:
    per_second: int | None
    per_day: int | None = None


# Zoom's published table; labels that no route of ours uses are left out.
DEFAULT_LIMITS: dict[Plan, dict[Label, Limit]] = {
    Plan.FREE: {Label.LIGHT: Limit(4, 6000), Label.MEDIUM: Limit(2, 2000)},
    Plan.BASIC: {Label.LIGHT: Limit(4, 6000), Label.MEDIUM: Limit(2, 2000)},
    Plan.PRO: {Label.LIGHT: Limit(30), Label.MEDIUM: Limit(20)},
    **{
        plan: {Label.LIGHT: Limit(80), Label.MEDIUM: Limit(60)}
        for plan in (Plan.BUSINESS, Plan.EDUCATION, Plan.ENTERPRISE, Plan.PARTNER)
    },
}


class RateDecision(NamedTuple):
    """The outcome of counting one request, with what the rate-limit headers report.

    A named tuple rather than a frozen dataclass: every request builds one, and a frozen
    dataclass sets each field through `object.__setattr__`, which took about 1.4 µs a decision.
    """

    label: Label
    limit_type: LimitType
    limit: int
    remaining: int
    allowed: bool
    # For a rejected request: whole seconds to wait, or the UTC instant of the next daily reset.
    retry_after_seconds: int | None = None
    retry_after_date: datetime | None = None


class RateLimited(ZoomApiError):
    code = 429

    def __init__(self, decision: RateDecision) -> None:
        if decision.limit_type is LimitType.DAILY:
            message = (
                "You have reached the maximum daily rate limit for this API. Refer to the "
                "response header for details on when you can make another request."
            )
        else:
            message = (
                "You have reached the maximum per-second rate limit for this API. Try again later."
            )
        super().__init__(message)
        self.decision = decision


class RateCounter(Protocol):
    """Counts requests per bucket; an implementation must be atomic per bucket."""

    def hit(self, bucket: str, limit: Limit, now: float) -> tuple[bool, LimitType, int, float]:
        """Count a request if the limit allows it.

        Returns whether it was counted, the window that decided, the requests left in that window,
        and, when rejected, the Unix time at which the window admits a request again.
        """
        ...

    def rewind(self, now: float) -> None:
        """Forget the per-second log's requests stamped after `now`, because the clock went back.

        Otherwise they would fill the window until the clock caught up with them. Day counts
        stay, so a day's limit still applies when the clock returns to that day.
        """
        ...


class RateLimitPolicy:
    """Which limit applies to an account's plan and a label, after the server's overrides."""

    def __init__(
        self, enabled: bool = True, overrides: dict[tuple[Plan, Label], Limit] | None = None
    ) -> None:
        self.enabled = enabled
        self.overrides = dict(overrides or {})

    def limit_for(self, plan: Plan, label: Label) -> Limit | None:
        if not self.enabled:
            return None
        return self.overrides.get((plan, label), DEFAULT_LIMITS[plan][label])


def parse_overrides(specs: list[str]) -> dict[tuple[Plan, Label], Limit]:
    """Parse overrides such as `pro.light=2`, `free.medium.daily=100` or `business.light=off`.

    Each spec replaces one window of one plan and label; the other window keeps Zoom's default.
    """
    overrides: dict[tuple[Plan, Label], Limit] = {}
    for spec in specs:
        key, separator, raw_value = spec.partition("=")
        parts = key.strip().lower().split(".")
        if not separator or len(parts) not in (2, 3) or (len(parts) == 3 and parts[2] != "daily"):
            raise ValueError(
                f"Invalid rate-limit override {spec!r}: expected PLAN.LABEL=N or "
                "PLAN.LABEL.daily=N, for example pro.light=2 or free.light.daily=100."
            )
        try:
            plan = Plan(parts[0])
            label = Label(parts[1].capitalize())
        except ValueError as exc:
            raise ValueError(
                f"Invalid rate-limit override {spec!r}: plan must be one of "
                f"{', '.join(p.value for p in Plan)} and label one of light, medium."
            ) from exc
        value = _parse_limit_value(spec, raw_value)
        current = overrides.get((plan, label), DEFAULT_LIMITS[plan][label])
        if len(parts) == 3:
            overrides[(plan, label)] = Limit(current.per_second, value)
        else:
            overrides[(plan, label)] = Limit(value, current.per_day)
    return overrides


def _parse_limit_value(spec: str, raw_value: str) -> int | None:
    text = raw_value.strip().lower()
    if text == "off":
        return None
    if not (text.isascii() and text.isdigit()) or int(text) < 1:
        raise ValueError(
            f"Invalid rate-limit override {spec!r}: the value must be a whole number of at "
            "least 1, or off."
        )
    return int(text)


class RateLimiter:
    def __init__(self, counter: RateCounter, policy: RateLimitPolicy) -> None:
        self.counter = counter
        self._policy = policy
        # (account id, plan, label) -> the bucket its requests count in and the limit that
        # applies, or None where no limit applies. Resolving them on every request took about
        # 0.7 µs.
        self._buckets: dict[tuple[str, Plan, Label], tuple[str, Limit] | None] = {}

    @property
    def policy(self) -> RateLimitPolicy:
        return self._policy

    @policy.setter
    def policy(self, policy: RateLimitPolicy) -> None:
        # Replace the policy before the map, because `_resolve` reads them in the other order.
        self._policy = policy
        self._buckets = {}

    def consume(self, account_id: str, plan: Plan, label: Label, now: float) -> RateDecision | None:
        """Count one request of an account; raise `RateLimited` when a window is full.

        Returns None when no limit applies, so the response carries no rate-limit headers.
        """
        key = (account_id, plan, label)
        resolved = self._buckets.get(key, _UNRESOLVED)
        if resolved is _UNRESOLVED:
            resolved = self._resolve(key)
        if resolved is None:
            return None
        bucket, limit = resolved
        allowed, limit_type, remaining, retry_at = self.counter.hit(bucket, limit, now)
        window_limit = limit.per_day if limit_type is LimitType.DAILY else limit.per_second
        assert window_limit is not None  # The counter only reports windows that have a limit.
        if allowed:
            return RateDecision(label, limit_type, window_limit, remaining, allowed=True)

        if limit_type is LimitType.DAILY:
            decision = RateDecision(
                label,
                limit_type,
                window_limit,
                0,
                allowed=False,
                retry_after_date=datetime.fromtimestamp(retry_at, UTC),
            )
        else:
            decision = RateDecision(
                label,
                limit_type,
                window_limit,
                0,
                allowed=False,
                retry_after_seconds=max(1, math.ceil(retry_at - now)),
            )
        raise RateLimited(decision)

    def _resolve(self, key: tuple[str, Plan, Label]) -> tuple[str, Limit] | None:
        # Read the map before the policy. If the policy is replaced in between, this stores the
        # new policy's limit in the map being dropped, never the old limit in the new map.
        buckets = self._buckets
        policy = self._policy
        account_id, plan, label = key
        limit = policy.limit_for(plan, label)
        resolved = None
        if limit is not None and (limit.per_second is not None or limit.per_day is not None):
            resolved = (f"{account_id}:{label.value}", limit)
        # A bound keeps a store of very many accounts from growing the map without end.
        if len(buckets) >= _MAX_BUCKETS:
            buckets.clear()
        buckets[key] = resolved
        return resolved


# The marker `consume` gets for a key not yet resolved, compared by identity.
_UNRESOLVED: tuple[str, Limit] = ("", Limit(None))
_MAX_BUCKETS = 10_000


class _BucketState:
    """One bucket's counts: the times of its requests in the last second, and a total a day."""

    __slots__ = ("days", "recent")

    def __init__(self) -> None:
        self.recent: deque[float] = deque()
        # UTC day number -> requests counted that day. The control plane can move the clock
        # back to an earlier day, whose count then still applies, as with Redis.
        self.days: dict[int, int] = {}


# How many days of counts a bucket keeps. Counting on one more day drops the day farthest from it.
_MAX_DAYS = 32


class InMemoryRateCounter:
    """A sliding one-second log and UTC-day counts per bucket, for one server process.

    The log keeps the times of the requests counted in the last second, so no interval of one
    second, wherever it starts, counts more requests than the limit.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._buckets: dict[str, _BucketState] = {}

    def hit(self, bucket: str, limit: Limit, now: float) -> tuple[bool, LimitType, int, float]:
        day = int(now // SECONDS_PER_DAY)
        with self._lock:
            state = self._buckets.get(bucket)
            if state is None:
                state = self._buckets[bucket] = _BucketState()
            used_today = state.days.get(day, 0)
            if limit.per_day is not None and used_today >= limit.per_day:
                return False, LimitType.DAILY, 0, float((day + 1) * SECONDS_PER_DAY)

            recent = state.recent
            horizon = now - 1.0
            while recent and recent[0] <= horizon:
                recent.popleft()
            if limit.per_second is not None and len(recent) >= limit.per_second:
                return False, LimitType.PER_SECOND, 0, recent[0] + 1.0

            recent.append(now)
            if day not in state.days and len(state.days) >= _MAX_DAYS:
                del state.days[max(state.days, key=lambda kept: abs(kept - day))]
            state.days[day] = used_today + 1
            if limit.per_day is not None:
                return True, LimitType.DAILY, limit.per_day - used_today - 1, 0.0
            assert limit.per_second is not None  # A limit has at least one window.
            return True, LimitType.PER_SECOND, limit.per_second - len(recent), 0.0

    def rewind(self, now: float) -> None:
        with self._lock:
            for state in self._buckets.values():
                state.recent = deque(stamp for stamp in state.recent if stamp <= now)

    def clear(self) -> None:
        with self._lock:
            self._buckets.clear()
