"""Proactive pacing: space requests so that they stay under the account's per-second limits.

Zoom counts requests per account and per rate-limit label (`Light`, `Medium`, ...), so each label
gets its own lane. A lane's limit is the plan's published one when the plan is known, or the
`X-RateLimit-Limit` of the first per-second response that reports one. Requests of a lane leave
evenly spaced at a little under the limit, since an even stream survives the server's sliding
one-second window better than bursts do. When a response reports that no requests remain in the
window (other apps of the account share it), the lane holds back one more slot.

Nothing here sleeps: `reserve` says how long to wait, and the caller sleeps its own way.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping
from dataclasses import dataclass, field

import httpx

LIGHT = "Light"
MEDIUM = "Medium"

# Zoom's published per-second limits, per plan and label (requests per second).
PLAN_LIMITS: dict[str, dict[str, float]] = {
    "free": {LIGHT: 4, MEDIUM: 2},
    "basic": {LIGHT: 4, MEDIUM: 2},
    "pro": {LIGHT: 30, MEDIUM: 20},
    **{
        plan: {LIGHT: 80, MEDIUM: 60} for plan in ("business", "education", "enterprise", "partner")
    },
}
PER_SECOND_TYPES = frozenset({"QPS", "Per-second-limit"})
DEFAULT_HEADROOM = 0.95


@dataclass(slots=True)
class _Lane:
    limit: float | None = None
    fixed: bool = False
    next_slot: float = 0.0
    # Send times of requests that left before the limit was known.
    unpaced: list[float] = field(default_factory=list)


class RatePacer:
    """Spaces requests per rate-limit label; safe to share between threads and tasks.

    `limits` fixes a label's per-second limit (for example `{"Light": 80}`); `plan` fixes every
    label from Zoom's table. Labels fixed neither way learn their limit from responses.
    `headroom` is the share of the limit actually used.
    """

    def __init__(
        self,
        limits: Mapping[str, float] | None = None,
        *,
        plan: str | None = None,
        headroom: float = DEFAULT_HEADROOM,
    ) -> None:
        if not 0 < headroom <= 1:
            raise ValueError(f"Expected a headroom above 0 and at most 1, but got {headroom!r}.")
        fixed = dict(plan_limits(plan)) if plan is not None else {}
        fixed.update(limits or {})
        for label, limit in fixed.items():
            if limit <= 0:
                raise ValueError(f"Expected a positive limit for {label!r}, but got {limit!r}.")
        self.headroom = headroom
        self._lanes = {label: _Lane(limit, fixed=True) for label, limit in fixed.items()}
        self._lock = threading.Lock()

    def limit(self, label: str) -> float | None:
        """Return the per-second limit the pacer uses for `label`, if known."""
        lane = self._lanes.get(label)
        return lane.limit if lane is not None else None

    def reserve(self, label: str | None, now: float) -> float:
        """Book the next send slot of `label`; returns the seconds to wait before sending.

        `now` is a monotonic time in seconds.
        """
        if label is None:
            return 0.0
        with self._lock:
            lane = self._lanes.setdefault(label, _Lane())
            if lane.limit is None:
                lane.unpaced.append(now)
                return 0.0
            slot = max(now, lane.next_slot)
            lane.next_slot = slot + self._interval(lane.limit)
            return slot - now

    def observe(self, headers: httpx.Headers, now: float) -> None:
        """Learn from a response's `X-RateLimit-*` headers."""
        label = headers.get("x-ratelimit-category")
        if not label or headers.get("x-ratelimit-type") not in PER_SECOND_TYPES:
            # A daily window does not tell the per-second pace.
            return
        limit = _positive_int(headers.get("x-ratelimit-limit"))
        remaining = _positive_int(headers.get("x-ratelimit-remaining"))
        with self._lock:
            lane = self._lanes.setdefault(label, _Lane())
            if not lane.fixed and limit:
                lane.limit = float(limit)
            if lane.limit is not None and lane.unpaced:
                self._count_unpaced(lane, lane.limit)
            if remaining == 0 and lane.limit is not None:
                lane.next_slot = max(lane.next_slot, now + self._interval(lane.limit))

    def _count_unpaced(self, lane: _Lane, limit: float) -> None:
        """Book slots for the requests that left before the limit was known.

        Without this, the first paced requests would join that burst in the server's window.
        At most one second's worth is booked: some of the burst may have been rejected, and a
        rejected request takes no room in the window.
        """
        booked = min(len(lane.unpaced), int(limit))
        lane.next_slot = max(lane.next_slot, lane.unpaced[0] + booked * self._interval(limit))
        lane.unpaced.clear()

    def _interval(self, limit: float) -> float:
        return 1.0 / (limit * self.headroom)


def plan_limits(plan: str) -> dict[str, float]:
    """Return Zoom's per-second limits of a plan, by label."""
    try:
        return PLAN_LIMITS[plan.strip().lower()]
    except KeyError:
        raise ValueError(
            f"Unknown plan {plan!r}; expected one of {', '.join(sorted(PLAN_LIMITS))}."
        ) from None


def _positive_int(value: str | None) -> int | None:
    if value is None or not value.strip().isdigit():
        return None
    return int(value.strip())
