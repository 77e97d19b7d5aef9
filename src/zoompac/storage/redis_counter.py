"""Rate-limit counters in Redis, shared by every zoompac worker of a deployment."""

from __future__ import annotations

import itertools
import os
from typing import Any

import redis

from zoompac.domain.errors import ServiceUnavailable
from zoompac.domain.ratelimits import SECONDS_PER_DAY, Limit, LimitType
from zoompac.storage.health import DependencyHealth

# How long a request may wait for Redis, in seconds, before it fails with a 503.
REDIS_TIMEOUT_SECONDS = 2

# One atomic step per request: the same sliding one-second log and UTC-day counts as the
# in-process counter, in a sorted set and a counter per bucket and day. Scores and times
# travel as strings because Redis turns Lua numbers into integers.
_HIT_SCRIPT = """
local now = tonumber(ARGV[1])
local per_second = tonumber(ARGV[2])
local per_day = tonumber(ARGV[3])
local used_today = tonumber(redis.call('GET', KEYS[2]) or '0')
if per_day >= 0 and used_today >= per_day then
  return {0, 'day', '0'}
end
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', tostring(now - 1))
local in_window = redis.call('ZCARD', KEYS[1])
if per_second >= 0 and in_window >= per_second then
  local oldest = redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')
  return {0, 'second', oldest[2]}
end
redis.call('ZADD', KEYS[1], ARGV[1], ARGV[4])
redis.call('PEXPIRE', KEYS[1], 2000)
redis.call('INCR', KEYS[2])
redis.call('EXPIRE', KEYS[2], ARGV[5])
return {1, tostring(used_today + 1), tostring(in_window + 1)}
"""


class RedisRateCounter:
    """The `RateCounter` protocol on Redis: one Lua script call per counted request.

    NOTE: each server stamps requests with its own clock, so servers whose clocks differ by a
    fraction of a second can together accept more than the limit in one second. Keep their
    clocks synchronised, and do not move one server's clock through the control plane.
    """

    def __init__(self, url: str, prefix: str = "zoompac") -> None:
        self._client: redis.Redis = redis.Redis.from_url(
            url,
            socket_timeout=REDIS_TIMEOUT_SECONDS,
            socket_connect_timeout=REDIS_TIMEOUT_SECONDS,
            health_check_interval=30,
        )
        self._hit = self._client.register_script(_HIT_SCRIPT)
        self._prefix = prefix
        # Members of the per-second log must be unique across workers and requests.
        self._member_prefix = f"{os.getpid()}-{id(self)}-"
        self._sequence = itertools.count()
        kwargs: dict[str, Any] = self._client.connection_pool.connection_kwargs
        target = (
            f"redis://{kwargs.get('host', '?')}:{kwargs.get('port', '?')}/{kwargs.get('db', 0)}"
        )
        self.health = DependencyHealth("Redis", target)

    def hit(self, bucket: str, limit: Limit, now: float) -> tuple[bool, LimitType, int, float]:
        day = int(now // SECONDS_PER_DAY)
        keys = [f"{self._prefix}:rate:{bucket}:second", f"{self._prefix}:rate:{bucket}:day:{day}"]
        args: list[str | int] = [
            repr(now),
            -1 if limit.per_second is None else limit.per_second,
            -1 if limit.per_day is None else limit.per_day,
            f"{self._member_prefix}{next(self._sequence)}",
            SECONDS_PER_DAY + 3600,
        ]
        try:
            allowed, first, second = self._hit(keys=keys, args=args)
        except redis.RedisError as exc:
            raise self.health.failed(exc) from exc
        self.health.succeeded()

        if not allowed:
            if first == b"day":
                return False, LimitType.DAILY, 0, float((day + 1) * SECONDS_PER_DAY)
            return False, LimitType.PER_SECOND, 0, float(second) + 1.0
        used_today, in_window = int(first), int(second)
        if limit.per_day is not None:
            return True, LimitType.DAILY, limit.per_day - used_today, 0.0
        assert limit.per_second is not None  # A limit has at least one window.
        return True, LimitType.PER_SECOND, limit.per_second - in_window, 0.0

    def rewind(self, now: float) -> None:
        try:
            for key in self._client.scan_iter(f"{self._prefix}:rate:*:second", count=1000):
                self._client.zremrangebyscore(key, f"({now!r}", "+inf")
        except redis.RedisError as exc:
            raise self.health.failed(exc) from exc

    def clear(self) -> None:
        try:
            for key in self._client.scan_iter(f"{self._prefix}:rate:*", count=1000):
                self._client.delete(key)
        except redis.RedisError as exc:
            raise self.health.failed(exc) from exc

    def close(self) -> None:
        self._client.close()


__all__ = ["RedisRateCounter", "ServiceUnavailable"]
