"""The rate limiter's cache of resolved limits, apart from any server.

Over HTTP the settings route replaces the policy on the event loop, while on PostgreSQL or Redis
worker threads count requests. The thread switch that could cache a stale limit cannot be timed
from outside, so these tests replace the policy from inside `limit_for`.
"""

from __future__ import annotations

from zoompac.domain.models import Plan
from zoompac.domain.ratelimits import (
    InMemoryRateCounter,
    Label,
    Limit,
    RateLimiter,
    RateLimitPolicy,
)

OLD = RateLimitPolicy(True, {(Plan.PRO, Label.LIGHT): Limit(2)})
NEW = RateLimitPolicy(True, {(Plan.PRO, Label.LIGHT): Limit(1000)})


class ReplacedWhileResolving(RateLimitPolicy):
    """A policy that the settings replace while the limiter is reading a limit from it."""

    def __init__(self, limiter: RateLimiter) -> None:
        super().__init__(True, OLD.overrides)
        self.limiter = limiter

    def limit_for(self, plan: Plan, label: Label) -> Limit | None:
        limit = super().limit_for(plan, label)
        self.limiter.policy = NEW
        return limit


def test_policy_replaced_while_resolving() -> None:
    limiter = RateLimiter(InMemoryRateCounter(), OLD)
    limiter.policy = ReplacedWhileResolving(limiter)

    limiter.consume("acct", Plan.PRO, Label.LIGHT, 0.0)
    later = limiter.consume("acct", Plan.PRO, Label.LIGHT, 0.1)

    assert later is not None
    assert later.limit == 1000


def test_policy_replaced_between_requests() -> None:
    limiter = RateLimiter(InMemoryRateCounter(), OLD)

    first = limiter.consume("acct", Plan.PRO, Label.LIGHT, 0.0)
    limiter.policy = NEW
    second = limiter.consume("acct", Plan.PRO, Label.LIGHT, 0.1)

    assert first is not None
    assert first.limit == 2
    assert second is not None
    assert second.limit == 1000


def test_plan_change_takes_its_limit() -> None:
    limiter = RateLimiter(InMemoryRateCounter(), RateLimitPolicy())

    pro = limiter.consume("acct", Plan.PRO, Label.LIGHT, 0.0)
    business = limiter.consume("acct", Plan.BUSINESS, Label.LIGHT, 0.1)

    assert pro is not None
    assert pro.limit == 30
    assert business is not None
    assert business.limit == 80
