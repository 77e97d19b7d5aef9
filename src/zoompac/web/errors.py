"""The one place where exceptions become HTTP responses.

Each domain error class has one status here, so one condition always gets one status and one body
across every route.
"""

from __future__ import annotations

import functools

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response

from zoompac.domain import errors
from zoompac.domain.ratelimits import LimitType, RateDecision, RateLimited
from zoompac.web.responses import JSONResponse, zoom_error

_STATUS: dict[type[errors.ZoomApiError], int] = {
    errors.InvalidAccessToken: 401,
    errors.ExpiredAccessToken: 401,
    errors.MissingScopes: 400,
    errors.UserNotFound: 404,
    errors.UserNotInAccount: 400,
    errors.AccountPacDisabled: 400,
    errors.UserPacDisabled: 400,
    errors.InvalidField: 400,
    errors.InvalidPageToken: 400,
    errors.ServiceUnavailable: 503,
    RateLimited: 429,
}

ROUTE_NOT_RECOGNIZED = (2300, "This API endpoint is not recognized.")
INTERNAL_ERROR = (500, "An internal error occurred. Try again later.")


def status_of(error: errors.ZoomApiError) -> int:
    for cls in type(error).__mro__:
        if cls in _STATUS:
            return _STATUS[cls]
    raise LookupError(f"No HTTP status is mapped for {type(error).__name__}")


def zoom_api_error_response(error: errors.ZoomApiError) -> Response:
    return zoom_error(status_of(error), error.code, error.message, error_headers(error))


def error_headers(error: errors.ZoomApiError) -> dict[str, str] | None:
    """Return the headers that an error brings itself: a 429's rate-limit headers."""
    return rate_limit_headers(error.decision) if isinstance(error, RateLimited) else None


def rate_limit_headers(decision: RateDecision) -> dict[str, str]:
    """Return `raw_rate_limit_headers` as a dict of text, for Starlette responses."""
    return {
        name.decode("latin-1"): value.decode("latin-1")
        for name, value in raw_rate_limit_headers(decision)
    }


RawHeaders = list[tuple[bytes, bytes]]


def raw_error_headers(error: errors.ZoomApiError) -> RawHeaders:
    """Return `error_headers` as ASGI header pairs."""
    return raw_rate_limit_headers(error.decision) if isinstance(error, RateLimited) else []


def raw_rate_limit_headers(decision: RateDecision) -> RawHeaders:
    """Return Zoom's rate-limit headers for a decision, as ASGI header pairs.

    Names are in lower case, as Starlette sends every header name.
    """
    fixed = _fixed_rate_limit_headers(decision.label, decision.limit_type, decision.limit)
    headers = [*fixed, (b"x-ratelimit-remaining", str(decision.remaining).encode())]
    if decision.allowed:
        return headers
    if decision.retry_after_seconds is not None:
        headers.append((b"retry-after", str(decision.retry_after_seconds).encode()))
    elif decision.retry_after_date is not None and decision.limit_type is LimitType.DAILY:
        retry_at = decision.retry_after_date.strftime("%Y-%m-%dT%H:%M:%SZ")
        headers.append((b"retry-after", retry_at.encode()))
    return headers


@functools.lru_cache(maxsize=64)
def _fixed_rate_limit_headers(
    label: str, limit_type: str, limit: int
) -> tuple[tuple[bytes, bytes], ...]:
    # Every counted request sends these, and only the remaining count changes between them.
    return (
        (b"x-ratelimit-category", label.encode("latin-1")),
        (b"x-ratelimit-type", limit_type.encode("latin-1")),
        (b"x-ratelimit-limit", str(limit).encode()),
    )


def oauth_error_response(error: errors.OAuthError) -> Response:
    # Zoom's OAuth server returns 400 and `{"reason", "error"}` for every failure.
    return JSONResponse({"reason": error.reason, "error": error.error}, 400)


async def handle_zoom_api_error(_request: Request, exc: Exception) -> Response:
    assert isinstance(exc, errors.ZoomApiError)
    return zoom_api_error_response(exc)


async def handle_oauth_error(_request: Request, exc: Exception) -> Response:
    assert isinstance(exc, errors.OAuthError)
    return oauth_error_response(exc)


async def handle_http_exception(_request: Request, exc: Exception) -> Response:
    """Return Zoom's envelope for unknown routes (404) and wrong methods (405)."""
    assert isinstance(exc, HTTPException)
    code, message = ROUTE_NOT_RECOGNIZED
    if exc.status_code not in (404, 405):
        code, message = exc.status_code, str(exc.detail)
    return zoom_error(exc.status_code, code, message, exc.headers)


async def handle_unexpected(_request: Request, _exc: Exception) -> Response:
    # Starlette re-raises the exception after this response, so the ASGI server logs it once.
    code, message = INTERNAL_ERROR
    return zoom_error(500, code, message)


async def handle_connection_error(_request: Request, _exc: Exception) -> Response:
    """Return 503 when a dependency fails outside the guarded store, e.g. during a reset."""
    unavailable = errors.ServiceUnavailable()
    return zoom_error(503, unavailable.code, unavailable.message)
