"""The client's pure parts: models, Retry-After, backoff, pacing, path encoding, error mapping."""

from __future__ import annotations

import random
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import httpx
import pytest

import zoompac.client as client_package
from zoompac.client import (
    AccessToken,
    InvalidTokenError,
    MissingScopesError,
    PacAccount,
    PacNotEnabledError,
    RateLimitedError,
    RatePacer,
    RetryAfter,
    RetryPolicy,
    UserNotFoundError,
    UserPage,
    ZoomAPIError,
    parse_retry_after,
    user_path_segment,
)
from zoompac.client._errors import api_error_from_response


@pytest.fixture(params=["UTC", "America/New_York"])
def local_zone(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """Run the test with the process's local time zone set to each zone in turn."""
    monkeypatch.setenv("TZ", request.param)
    time.tzset()
    yield request.param
    monkeypatch.undo()
    time.tzset()


def test_public_names_listed() -> None:
    # Names that are not identifiers are added by pytest's assertion rewriting.
    defined = {n for n in vars(client_package) if n.isidentifier() and not n.startswith("_")}
    assert defined == set(client_package.__all__)


def test_public_names_resolve() -> None:
    assert all(hasattr(client_package, name) for name in client_package.__all__)


def test_conference_id_string() -> None:
    assert PacAccount.model_validate({"conference_id": "111111"}).conference_id == 111111


def test_conference_id_integer() -> None:
    assert PacAccount.model_validate({"conference_id": 111111}).conference_id == 111111


@pytest.mark.parametrize("value", ["11a1", "", True, "1.5"])
def test_conference_id_rejects(value: object) -> None:
    with pytest.raises(ValueError, match="conference id"):
        PacAccount.model_validate({"conference_id": value})


def test_unknown_fields_kept() -> None:
    body = {"conference_id": "1", "new_field": {"a": 1}, "global_dial_in_numbers": [{"x": 2}]}
    dumped = PacAccount.model_validate(body).model_dump()
    assert dumped["new_field"] == {"a": 1}
    assert dumped["global_dial_in_numbers"][0]["x"] == 2


def test_null_dial_ins_empty() -> None:
    pac = PacAccount.model_validate({"dedicated_dial_in_number": None})
    assert pac.dedicated_dial_in_number == []


def test_page_token_null_is_last() -> None:
    assert UserPage.model_validate({"next_page_token": None, "users": []}).next_page_token == ""


def test_retry_after_seconds() -> None:
    assert parse_retry_after("2") == RetryAfter(seconds=2.0)


def test_retry_after_iso_utc(local_zone: str) -> None:
    expected = datetime(2020, 5, 31, tzinfo=UTC)
    assert parse_retry_after("2020-05-31T00:00:00Z") == RetryAfter(date=expected)


def test_retry_after_naive_is_utc(local_zone: str) -> None:
    # Zoom documents UTC; a time without a zone must not be read in the local zone.
    expected = datetime(2020, 5, 31, tzinfo=UTC)
    assert parse_retry_after("2020-05-31T00:00:00") == RetryAfter(date=expected)


def test_retry_after_http_date() -> None:
    expected = datetime(2020, 5, 31, tzinfo=UTC)
    assert parse_retry_after("Sun, 31 May 2020 00:00:00 GMT") == RetryAfter(date=expected)


@pytest.mark.parametrize("value", [None, "", "soon", "-3"])
def test_retry_after_unreadable(value: str | None) -> None:
    assert parse_retry_after(value) is None


def test_retry_after_wait_from_date(local_zone: str) -> None:
    now = datetime(2020, 5, 30, 23, 59, 50, tzinfo=UTC)
    assert parse_retry_after("2020-05-31T00:00:00Z").seconds_from(now) == 10.0  # type: ignore[union-attr]


def test_retry_after_past_date_waits_zero() -> None:
    now = datetime(2020, 6, 1, tzinfo=UTC)
    assert RetryAfter(date=datetime(2020, 5, 31, tzinfo=UTC)).seconds_from(now) == 0.0


def test_server_wait_jittered() -> None:
    policy = RetryPolicy(jitter=0.5)
    rng = random.Random(7)
    waits = {policy.server_wait(RetryAfter(seconds=1), datetime.now(UTC), rng) for _ in range(20)}
    assert len(waits) == 20


def test_server_wait_at_least_retry_after() -> None:
    policy = RetryPolicy(jitter=0.5)
    rng = random.Random(7)
    waits = [policy.server_wait(RetryAfter(seconds=1), datetime.now(UTC), rng) for _ in range(50)]
    assert min(waits) >= 1.0


def test_backoff_grows_within_cap() -> None:
    policy = RetryPolicy(backoff_base=0.5, backoff_max=4.0)
    rng = random.Random(3)
    ceilings = [0.5, 1.0, 2.0, 4.0, 4.0]
    waits = [policy.backoff(n, rng) for n in range(1, 6)]
    assert all(c / 2 <= w <= c for w, c in zip(waits, ceilings, strict=True))


def test_policy_rejects_zero_attempts() -> None:
    with pytest.raises(ValueError, match="max_attempts"):
        RetryPolicy(max_attempts=0)


def test_policy_rejects_negative_wait() -> None:
    with pytest.raises(ValueError, match="max_wait"):
        RetryPolicy(max_wait=-1)


@pytest.mark.parametrize(
    ("user", "segment"),
    [
        ("a+b@example.com", "a%2Bb%40example.com"),
        ("slash/user@example.com", "slash%2Fuser%40example.com"),
        ("with space@example.com", "with%20space%40example.com"),
        ("jörg@example.com", "j%C3%B6rg%40example.com"),
        ("Upper.Case@Example.com", "Upper.Case%40Example.com"),
        ("me", "me"),
        ("100%@example.com", "100%25%40example.com"),
    ],
)
def test_path_segment(user: str, segment: str) -> None:
    assert user_path_segment(user) == segment


def test_path_segment_empty() -> None:
    with pytest.raises(ValueError, match="user id"):
        user_path_segment("")


def error_response(
    status: int, body: bytes, headers: dict[str, str] | None = None
) -> httpx.Response:
    return httpx.Response(status, content=body, headers=headers or {})


@pytest.mark.parametrize(
    ("code", "cls"),
    [
        (124, InvalidTokenError),
        (1001, UserNotFoundError),
        (2024, PacNotEnabledError),
        (200, PacNotEnabledError),
        (4711, MissingScopesError),
        (4700, MissingScopesError),
        (1010, ZoomAPIError),
    ],
)
def test_error_class_by_code(code: int, cls: type[ZoomAPIError]) -> None:
    error = api_error_from_response(error_response(400, b'{"code": %d, "message": "m"}' % code))
    assert type(error) is cls


def test_error_429_class() -> None:
    body = b'{"code": 429, "message": "slow down"}'
    assert type(api_error_from_response(error_response(429, body))) is RateLimitedError


def test_error_carries_tracking_id() -> None:
    response = error_response(404, b'{"code":1001,"message":"m"}', {"x-zm-trackingid": "t-1"})
    assert api_error_from_response(response).tracking_id == "t-1"


HTML_503 = b"<html><head><title>503 Service Unavailable</title></head><body>proxy</body></html>"


def test_html_error_status() -> None:
    assert api_error_from_response(error_response(503, HTML_503)).status_code == 503


def test_html_error_no_code() -> None:
    assert api_error_from_response(error_response(503, HTML_503)).code is None


def test_html_error_excerpt() -> None:
    assert (
        "503 Service Unavailable" in api_error_from_response(error_response(503, HTML_503)).message
    )


def test_html_error_excerpt_short() -> None:
    error = api_error_from_response(error_response(502, b"x" * 5000))
    assert len(error.message) < 300


def test_account_wide_pac_error() -> None:
    error = api_error_from_response(error_response(400, b'{"code":200,"message":"m"}'))
    assert getattr(error, "account_wide", False)


def test_daily_limit_error() -> None:
    headers = {"x-ratelimit-type": "Daily-limit", "retry-after": "2031-03-02T00:00:00Z"}
    error = api_error_from_response(error_response(429, b'{"code":429,"message":"m"}', headers))
    assert getattr(error, "is_daily", False)


def token(lifetime: float, expires_at: datetime) -> AccessToken:
    return AccessToken("t", expires_at, lifetime)


def test_token_fresh() -> None:
    now = datetime.now(UTC)
    assert not token(3600, now + timedelta(seconds=3000)).refresh_due(now, 60)


def test_token_due_within_margin() -> None:
    now = datetime.now(UTC)
    assert token(3600, now + timedelta(seconds=59)).refresh_due(now, 60)


def test_short_token_margin_scaled() -> None:
    # A 4 s token is renewed in its last second, not 60 s before it was even issued.
    now = datetime.now(UTC)
    assert not token(4, now + timedelta(seconds=1.5)).refresh_due(now, 60)


def test_token_repr_hides_token() -> None:
    assert "secret-value" not in repr(AccessToken("secret-value", datetime.now(UTC), 1))


def rate_headers(limit: int, remaining: int, kind: str = "QPS") -> httpx.Headers:
    return httpx.Headers(
        {
            "x-ratelimit-category": "Light",
            "x-ratelimit-type": kind,
            "x-ratelimit-limit": str(limit),
            "x-ratelimit-remaining": str(remaining),
        }
    )


def test_pacer_unknown_limit_no_wait() -> None:
    assert RatePacer().reserve("Light", 100.0) == 0.0


def test_pacer_spaces_plan_limit() -> None:
    pacer = RatePacer(plan="free", headroom=1.0)
    waits = [pacer.reserve("Light", 100.0) for _ in range(3)]
    assert waits == [0.0, 0.25, 0.5]


def test_pacer_learns_limit() -> None:
    pacer = RatePacer()
    pacer.observe(rate_headers(2, 1), 100.0)
    assert pacer.limit("Light") == 2


def test_pacer_ignores_daily_limit() -> None:
    pacer = RatePacer()
    pacer.observe(rate_headers(6000, 10, "Daily-limit"), 100.0)
    assert pacer.limit("Light") is None


def test_pacer_plan_beats_headers() -> None:
    pacer = RatePacer(plan="business")
    pacer.observe(rate_headers(2, 1), 100.0)
    assert pacer.limit("Light") == 80


def test_pacer_holds_back_when_none_remain() -> None:
    pacer = RatePacer({"Light": 10}, headroom=1.0)
    pacer.observe(rate_headers(10, 0), 100.0)
    assert pacer.reserve("Light", 100.0) == pytest.approx(0.1)


def test_pacer_books_unpaced_burst() -> None:
    # Four requests left before the limit of 10/s was known; the next one waits for the fifth slot.
    pacer = RatePacer(headroom=1.0)
    for _ in range(4):
        pacer.reserve("Light", 100.0)
    pacer.observe(rate_headers(10, 6), 100.0)
    assert pacer.reserve("Light", 100.0) == pytest.approx(0.4)


def test_pacer_books_one_second_at_most() -> None:
    pacer = RatePacer(headroom=1.0)
    for _ in range(8):
        pacer.reserve("Light", 100.0)
    pacer.observe(rate_headers(2, 0), 100.0)
    assert pacer.reserve("Light", 100.0) == pytest.approx(1.0)


def test_pacer_unknown_plan() -> None:
    with pytest.raises(ValueError, match="Unknown plan 'gold'"):
        RatePacer(plan="gold")
