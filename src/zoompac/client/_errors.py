"""The client's exception hierarchy, and the one function that turns a failed response into it.

ZoomClientError
├── TokenError              the token endpoint issued no token
├── TokenCacheError         the token cache file cannot be locked, read or written
├── ZoomTransportError      no response at all (connection refused, timeout), after retries
├── PaginationError         a `next_page_token` walk that would never end
├── NotFetchedError         an audit stopped before it asked about this user
└── ZoomAPIError            an API call that returned an error status
    ├── InvalidTokenError       code 124
    ├── MissingScopesError      codes 4711 and 4700
    ├── UserNotFoundError       code 1001
    ├── PacNotEnabledError      code 2024 (the user's setting) and 200 (the account's)
    └── RateLimitedError        HTTP 429
"""

from __future__ import annotations

import json
import re
from datetime import datetime

import httpx

from zoompac.client._retry import RetryAfter, parse_retry_after

TRACKING_ID_HEADER = "x-zm-trackingid"
# How much of a body that is not Zoom's JSON envelope an error message quotes.
EXCERPT_LENGTH = 200


class ZoomClientError(Exception):
    """Base class of every error the client raises on purpose."""


class TokenError(ZoomClientError):
    """The token endpoint did not issue a token.

    `error` and `reason` are the fields of Zoom's OAuth error body, when it sent one.
    """

    def __init__(
        self,
        message: str,
        response: httpx.Response | None = None,
        *,
        error: str | None = None,
        reason: str | None = None,
    ) -> None:
        super().__init__(message)
        self.response = response
        self.status_code = response.status_code if response is not None else None
        self.error = error
        self.reason = reason


class TokenCacheError(ZoomClientError):
    """The token cache cannot be used: its folder or file cannot be locked, read or written."""


class ZoomTransportError(ZoomClientError):
    """No response came back: the connection failed or timed out, after any retries."""


class PaginationError(ZoomClientError):
    """A paged listing that would loop: the server sent a `next_page_token` it had sent before."""


class NotFetchedError(ZoomClientError):
    """An audit stopped early, on `cause`, before it asked for this user's PAC accounts."""

    def __init__(self, cause: ZoomClientError) -> None:
        super().__init__(f"Not fetched: the audit stopped early. {cause}")
        self.cause = cause


class ZoomAPIError(ZoomClientError):
    """An API call that returned an error status.

    `code` and `message` come from Zoom's `{"code", "message"}` body. A body that is not that
    envelope (an HTML page from a proxy, for example) leaves `code` as None and puts a short
    excerpt of the body in `message`.
    """

    def __init__(
        self,
        status_code: int,
        code: int | None,
        message: str,
        *,
        tracking_id: str | None = None,
        response: httpx.Response | None = None,
    ) -> None:
        self.status_code = status_code
        self.code = code
        self.message = message
        self.tracking_id = tracking_id
        self.response = response
        super().__init__(self._describe())

    def _describe(self) -> str:
        code = f", Zoom code {self.code}" if self.code is not None else ""
        tracking = f" (tracking id {self.tracking_id})" if self.tracking_id else ""
        return f"HTTP {self.status_code}{code}: {self.message}{tracking}"


class InvalidTokenError(ZoomAPIError):
    """Code 124: the access token is unknown, malformed, revoked or expired."""


class MissingScopesError(ZoomAPIError):
    """Codes 4711 and 4700: the token lacks a scope the operation needs."""


class UserNotFoundError(ZoomAPIError):
    """Code 1001: no user has that id or e-mail address."""


class PacNotEnabledError(ZoomAPIError):
    """PAC is off: code 2024 for the user's own setting, code 200 for the whole account."""

    @property
    def account_wide(self) -> bool:
        """Whether the account, rather than the user's setting, turns PAC off."""
        return self.code == ACCOUNT_PAC_DISABLED


class RateLimitedError(ZoomAPIError):
    """HTTP 429: a per-second or daily rate limit was reached and waiting was not allowed.

    `retry_after` is when the server admits requests again, if its response named a time.
    """

    def __init__(
        self,
        status_code: int,
        code: int | None,
        message: str,
        *,
        tracking_id: str | None = None,
        response: httpx.Response | None = None,
    ) -> None:
        headers = response.headers if response is not None else httpx.Headers()
        self.category = headers.get("x-ratelimit-category")
        self.limit_type = headers.get("x-ratelimit-type")
        self.retry_after: RetryAfter | None = parse_retry_after(headers.get("retry-after"))
        super().__init__(status_code, code, message, tracking_id=tracking_id, response=response)

    @property
    def is_daily(self) -> bool:
        return self.limit_type == DAILY_LIMIT_TYPE or (
            self.retry_after is not None and self.retry_after.date is not None
        )

    def resets_at(self) -> datetime | None:
        """Return the UTC instant of a daily limit's reset, when the response named one."""
        return self.retry_after.date if self.retry_after is not None else None


INVALID_TOKEN = 124
USER_NOT_FOUND = 1001
USER_PAC_DISABLED = 2024
ACCOUNT_PAC_DISABLED = 200
MISSING_SCOPES = (4711, 4700)
DAILY_LIMIT_TYPE = "Daily-limit"

_CLASS_BY_CODE: dict[int, type[ZoomAPIError]] = {
    INVALID_TOKEN: InvalidTokenError,
    USER_NOT_FOUND: UserNotFoundError,
    USER_PAC_DISABLED: PacNotEnabledError,
    ACCOUNT_PAC_DISABLED: PacNotEnabledError,
    **dict.fromkeys(MISSING_SCOPES, MissingScopesError),
}


def api_error_from_response(response: httpx.Response) -> ZoomAPIError:
    """Build the error for a failed API response; a body that is not JSON is quoted, not parsed."""
    code, message = _code_and_message(response)
    cls: type[ZoomAPIError] = ZoomAPIError
    if response.status_code == 429:
        cls = RateLimitedError
    elif code is not None:
        cls = _CLASS_BY_CODE.get(code, ZoomAPIError)
    return cls(
        response.status_code,
        code,
        message,
        tracking_id=response.headers.get(TRACKING_ID_HEADER),
        response=response,
    )


def _code_and_message(response: httpx.Response) -> tuple[int | None, str]:
    try:
        body = json.loads(response.content)
    except (ValueError, UnicodeDecodeError):
        body = None
    if isinstance(body, dict) and "code" in body:
        code = body["code"]
        # Zoom always sends an integer; a string of digits is read the same way.
        if isinstance(code, str) and code.isdigit():
            code = int(code)
        if isinstance(code, int) and not isinstance(code, bool):
            return code, str(body.get("message", ""))
    return None, f"HTTP {response.status_code} with a body that is not Zoom's JSON error: " + (
        excerpt(response) or "(empty body)"
    )


def excerpt(response: httpx.Response) -> str:
    """Return the start of a response body on one line, for error messages."""
    text = response.content[: EXCERPT_LENGTH * 4].decode("utf-8", errors="replace")
    text = re.sub(r"\s+", " ", text).strip()
    if len(text) > EXCERPT_LENGTH:
        text = text[:EXCERPT_LENGTH] + "…"
    return repr(text) if text else ""
