"""`Client` and `AsyncClient`: the Zoom API calls, with tokens, pacing and retries.

Both classes run the same steps for each call, in this order: wait for the rate-limit lane's
next slot, get a token, send, then either return, replace a rejected token once, wait and
retry, or raise. The decisions live in `_BaseClient`; the two subclasses only differ in how they
sleep and send.
"""

from __future__ import annotations

import asyncio
import random
import time
from collections.abc import AsyncIterator, Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

import httpx

from zoompac import __version__
from zoompac.client._auth import Auth, BearerToken, Clock, utc_now
from zoompac.client._errors import (
    INVALID_TOKEN,
    PaginationError,
    RateLimitedError,
    ZoomAPIError,
    ZoomTransportError,
    api_error_from_response,
)
from zoompac.client._models import PacAccount, PacAccountList, User, UserPage
from zoompac.client._pacing import LIGHT, MEDIUM, RatePacer
from zoompac.client._retry import RetryPolicy, parse_retry_after

DEFAULT_BASE_URL = "https://api.zoom.us/v2"
DEFAULT_TIMEOUT = httpx.Timeout(30.0, connect=10.0)
MAX_PAGE_SIZE = 300
# How many times one `iter_users` walk may start over after its page token expired.
MAX_WALK_RESTARTS = 3
# Transport failures worth another try; a malformed URL or an unsupported scheme is not.
_RETRYABLE_TRANSPORT_ERRORS = (
    httpx.TimeoutException,
    httpx.NetworkError,
    httpx.RemoteProtocolError,
)


@dataclass(frozen=True, slots=True)
class RetryEvent:
    """Passed to `on_retry` before the client sleeps and sends a call again."""

    method: str
    url: str
    # The attempt that failed, 1 for the first.
    attempt: int
    wait: float
    reason: str  # "rate_limited", "server_error" or "connection_error"
    status_code: int | None = None
    code: int | None = None


RetryHook = Callable[[RetryEvent], None]


def user_path_segment(user_id: str) -> str:
    """Percent-encode a user id or e-mail as exactly one path segment.

    Nothing is left unencoded but letters, digits and `_.-~`: `/` would split the path, `+` may be
    read as a space, and `@`, spaces and non-ASCII letters are encoded as UTF-8 bytes.
    """
    if not user_id:
        raise ValueError("Expected a user id, an e-mail address or 'me', but got ''.")
    return quote(user_id, safe="")


class _BaseClient:
    def __init__(
        self,
        auth: Auth | str,
        *,
        base_url: str,
        retry: RetryPolicy | None,
        pacer: RatePacer | None,
        plan: str | None,
        clock: Clock,
        on_retry: RetryHook | None,
    ) -> None:
        if not base_url.startswith(("http://", "https://")):
            raise ValueError(
                f"Expected a base URL starting with http:// or https://, but got {base_url!r}; "
                "Zoom's is https://api.zoom.us/v2."
            )
        self.auth: Auth = BearerToken(auth) if isinstance(auth, str) else auth
        self.base_url = base_url.rstrip("/")
        self.retry = retry or RetryPolicy()
        self.pacer = pacer or RatePacer(plan=plan)
        self._clock = clock
        self._on_retry = on_retry
        # Jitter needs no cryptographic randomness.
        self._rng = random.Random()

    def _url(self, path: str) -> str:
        return f"{self.base_url}/{path.lstrip('/')}"

    def _headers(self, token: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {token}", "Accept": "application/json"}

    def _wants_new_token(self, error: ZoomAPIError, replaced: bool) -> bool:
        # Zoom rejects a bad token with 401, and on some operations with 400, so code 124 decides.
        return error.code == INVALID_TOKEN and not replaced and self.auth.can_refresh

    def _wait_after_error(
        self, method: str, url: str, attempt: int, waited: float, error: ZoomAPIError
    ) -> float | None:
        """Seconds to wait before retrying after an error response, or None to raise it."""
        if isinstance(error, RateLimitedError):
            reason = "rate_limited"
        elif error.status_code >= 500 and method == "GET":
            reason = "server_error"
        else:
            return None
        retry_after = None
        if error.response is not None:
            retry_after = parse_retry_after(error.response.headers.get("retry-after"))
        if retry_after is not None:
            wait = self.retry.server_wait(retry_after, self._clock(), self._rng)
        else:
            wait = self.retry.backoff(attempt, self._rng)
        if not self._may_wait(attempt, waited, wait):
            if isinstance(error, RateLimitedError):
                self._explain_giving_up(error, attempt, wait, waited)
            return None
        self._notify(RetryEvent(method, url, attempt, wait, reason, error.status_code, error.code))
        return wait

    def _wait_after_transport_error(
        self, method: str, url: str, attempt: int, waited: float, exc: httpx.TransportError
    ) -> float | None:
        if method != "GET" or not isinstance(exc, _RETRYABLE_TRANSPORT_ERRORS):
            return None
        wait = self.retry.backoff(attempt, self._rng)
        if not self._may_wait(attempt, waited, wait):
            return None
        self._notify(RetryEvent(method, url, attempt, wait, "connection_error"))
        return wait

    def _explain_giving_up(
        self, error: RateLimitedError, attempt: int, wait: float, waited: float
    ) -> None:
        """Add to the error's message why the client stopped retrying it, and what to change."""
        if attempt >= self.retry.max_attempts:
            error.args = (
                f"{error}. Still rate limited after {attempt} attempts "
                "(RetryPolicy.max_attempts); raise that number, or slow down the calls.",
            )
            return
        when = error.resets_at()
        target = f"until {when:%Y-%m-%dT%H:%M:%SZ}" if when is not None else f"for {wait:.0f} s"
        budget = max(self.retry.max_wait - waited, 0)
        error.args = (
            f"{error}. Its Retry-After requires a wait {target}, more than the {budget:.0f} s "
            "this call may still wait (RetryPolicy.max_wait); raise that cap to wait, or retry "
            "later.",
        )

    def _may_wait(self, attempt: int, waited: float, wait: float) -> bool:
        return attempt < self.retry.max_attempts and waited + wait <= self.retry.max_wait

    def _notify(self, event: RetryEvent) -> None:
        if self._on_retry is not None:
            self._on_retry(event)

    def _transport_error(self, url: str, exc: httpx.TransportError) -> ZoomTransportError:
        return ZoomTransportError(
            f"Cannot reach {url}: {exc or type(exc).__name__}. Check the base URL and the network."
        )


class _UserWalk:
    """The state of one `iter_users` walk: the query it repeats, the page tokens it has seen,
    and the users it has yielded, so that a restart never yields a user twice."""

    def __init__(self, status: str | None, page_size: int) -> None:
        if not 1 <= page_size <= MAX_PAGE_SIZE:
            raise ValueError(
                f"Expected a page_size from 1 to {MAX_PAGE_SIZE}, but got {page_size!r}."
            )
        self.status = status
        self.page_size = page_size
        self.next_page_token = ""
        self.done = False
        self.restarts = 0
        self._seen_tokens: set[str] = set()
        self._seen_users: set[str] = set()

    def query(self) -> dict[str, Any]:
        return {
            "status": self.status,
            "page_size": self.page_size,
            "next_page_token": self.next_page_token or None,
        }

    def accept(self, page: UserPage) -> list[User]:
        fresh = []
        for user in page.users:
            key = user.id or user.email.lower()
            if key not in self._seen_users:
                self._seen_users.add(key)
                fresh.append(user)
        token = page.next_page_token
        if not token:
            self.done = True
        elif token in self._seen_tokens:
            raise PaginationError(
                f"The server sent the next_page_token {token[:40]!r} a second time; following it "
                "would list the same users again forever. Report this to the API's maintainers."
            )
        else:
            self._seen_tokens.add(token)
            self.next_page_token = token
        return fresh

    def recover(self, error: ZoomAPIError) -> None:
        """Start over after an expired page token; raise `error` when it is anything else."""
        if not (self.next_page_token and _is_page_token_error(error)):
            raise error
        if self.restarts >= MAX_WALK_RESTARTS:
            error.args = (
                f"{error}. The walk started over {self.restarts} times and its page token "
                "expired each time; use a larger page_size or a shorter pause between pages.",
            )
            raise error
        self.restarts += 1
        self.next_page_token = ""
        # A new walk may legitimately meet tokens the old walk saw.
        self._seen_tokens.clear()


def _is_page_token_error(error: ZoomAPIError) -> bool:
    return error.status_code == 400 and error.code == 300 and "page token" in error.message.lower()


def _user_params(
    status: str | None, page_size: int | None, next_page_token: str | None
) -> dict[str, str]:
    params: dict[str, str] = {}
    if status is not None:
        params["status"] = status
    if page_size is not None:
        params["page_size"] = str(page_size)
    if next_page_token:
        params["next_page_token"] = next_page_token
    return params


class Client(_BaseClient):
    """A synchronous Zoom API client; safe to share between threads.

    `auth` is an `Auth` (for example `ServerToServerAuth`) or a ready access token. Calls raise
    `ZoomAPIError` subclasses for error responses, `TokenError` when no token can be had, and
    `ZoomTransportError` when the server cannot be reached.
    """

    def __init__(
        self,
        auth: Auth | str,
        *,
        base_url: str = DEFAULT_BASE_URL,
        timeout: httpx.Timeout | float = DEFAULT_TIMEOUT,
        retry: RetryPolicy | None = None,
        pacer: RatePacer | None = None,
        plan: str | None = None,
        transport: httpx.BaseTransport | None = None,
        event_hooks: Mapping[str, list[Callable[..., Any]]] | None = None,
        clock: Clock = utc_now,
        on_retry: RetryHook | None = None,
    ) -> None:
        super().__init__(
            auth,
            base_url=base_url,
            retry=retry,
            pacer=pacer,
            plan=plan,
            clock=clock,
            on_retry=on_retry,
        )
        self.http = httpx.Client(
            timeout=timeout,
            transport=transport,
            event_hooks=event_hooks,
            headers={"User-Agent": f"zoompac/{__version__}"},
        )

    def __enter__(self) -> Client:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    def close(self) -> None:
        self.http.close()

    def request(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, str] | None = None,
        category: str | None = None,
    ) -> httpx.Response:
        """Send one API call and return its successful response; raise on any error.

        `category` is the call's rate-limit label (`"Light"`, `"Medium"`...), used for pacing.
        """
        url = self._url(path)
        attempt, waited, replaced = 0, 0.0, False
        while True:
            attempt += 1
            time.sleep(self.pacer.reserve(category, time.monotonic()))
            token = self.auth.token(self.http, self._clock)
            try:
                response = self.http.request(
                    method, url, params=params, headers=self._headers(token)
                )
            except httpx.TransportError as exc:
                wait = self._wait_after_transport_error(method, url, attempt, waited, exc)
                if wait is None:
                    raise self._transport_error(url, exc) from exc
                time.sleep(wait)
                waited += wait
                continue

            self.pacer.observe(response.headers, time.monotonic())
            if response.is_success:
                return response
            error = api_error_from_response(response)
            if self._wants_new_token(error, replaced):
                self.auth.replace(self.http, token, self._clock)
                replaced = True
                continue
            wait = self._wait_after_error(method, url, attempt, waited, error)
            if wait is None:
                raise error
            time.sleep(wait)
            waited += wait

    def list_pac_accounts(self, user_id: str) -> list[PacAccount]:
        """Return the PAC accounts of a user, named by id, e-mail address or `me`."""
        response = self.request("GET", f"users/{user_path_segment(user_id)}/pac", category=LIGHT)
        return PacAccountList.model_validate_json(response.content).pac_accounts

    def get_user(self, user_id: str) -> User:
        response = self.request("GET", f"users/{user_path_segment(user_id)}", category=LIGHT)
        return User.model_validate_json(response.content)

    def list_users(
        self,
        *,
        status: str | None = None,
        page_size: int | None = None,
        next_page_token: str | None = None,
    ) -> UserPage:
        """Return one page of the account's users; `iter_users` walks every page."""
        params = _user_params(status, page_size, next_page_token)
        response = self.request("GET", "users", params=params, category=MEDIUM)
        return UserPage.model_validate_json(response.content)

    def iter_users(
        self, *, status: str | None = None, page_size: int = MAX_PAGE_SIZE
    ) -> Iterator[User]:
        """Yield every user of the account with `status` once, following `next_page_token`.

        Each page repeats the first page's query, as Zoom binds a page token to it. A page token
        that expired (Zoom's expire after 15 minutes) starts the walk over, skipping users
        already yielded; a page token seen twice raises `PaginationError`.
        """
        walk = _UserWalk(status, page_size)
        while not walk.done:
            try:
                page = self.list_users(**walk.query())
            except ZoomAPIError as exc:
                walk.recover(exc)
                continue
            yield from walk.accept(page)


class AsyncClient(_BaseClient):
    """The asyncio twin of `Client`, with the same methods as coroutines; safe to share between
    the tasks of one event loop."""

    def __init__(
        self,
        auth: Auth | str,
        *,
        base_url: str = DEFAULT_BASE_URL,
        timeout: httpx.Timeout | float = DEFAULT_TIMEOUT,
        retry: RetryPolicy | None = None,
        pacer: RatePacer | None = None,
        plan: str | None = None,
        transport: httpx.AsyncBaseTransport | None = None,
        event_hooks: Mapping[str, list[Callable[..., Any]]] | None = None,
        clock: Clock = utc_now,
        on_retry: RetryHook | None = None,
        max_connections: int = 100,
    ) -> None:
        super().__init__(
            auth,
            base_url=base_url,
            retry=retry,
            pacer=pacer,
            plan=plan,
            clock=clock,
            on_retry=on_retry,
        )
        self.http = httpx.AsyncClient(
            timeout=timeout,
            transport=transport,
            event_hooks=event_hooks,
            limits=httpx.Limits(max_connections=max_connections),
            headers={"User-Agent": f"zoompac/{__version__}"},
        )

    async def __aenter__(self) -> AsyncClient:
        return self

    async def __aexit__(self, *_: object) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        await self.http.aclose()

    async def request(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, str] | None = None,
        category: str | None = None,
    ) -> httpx.Response:
        """See `Client.request`."""
        url = self._url(path)
        attempt, waited, replaced = 0, 0.0, False
        while True:
            attempt += 1
            await asyncio.sleep(self.pacer.reserve(category, time.monotonic()))
            token = await self.auth.atoken(self.http, self._clock)
            try:
                response = await self.http.request(
                    method, url, params=params, headers=self._headers(token)
                )
            except httpx.TransportError as exc:
                wait = self._wait_after_transport_error(method, url, attempt, waited, exc)
                if wait is None:
                    raise self._transport_error(url, exc) from exc
                await asyncio.sleep(wait)
                waited += wait
                continue

            self.pacer.observe(response.headers, time.monotonic())
            if response.is_success:
                return response
            error = api_error_from_response(response)
            if self._wants_new_token(error, replaced):
                await self.auth.areplace(self.http, token, self._clock)
                replaced = True
                continue
            wait = self._wait_after_error(method, url, attempt, waited, error)
            if wait is None:
                raise error
            await asyncio.sleep(wait)
            waited += wait

    async def list_pac_accounts(self, user_id: str) -> list[PacAccount]:
        """See `Client.list_pac_accounts`."""
        path = f"users/{user_path_segment(user_id)}/pac"
        response = await self.request("GET", path, category=LIGHT)
        return PacAccountList.model_validate_json(response.content).pac_accounts

    async def get_user(self, user_id: str) -> User:
        path = f"users/{user_path_segment(user_id)}"
        response = await self.request("GET", path, category=LIGHT)
        return User.model_validate_json(response.content)

    async def list_users(
        self,
        *,
        status: str | None = None,
        page_size: int | None = None,
        next_page_token: str | None = None,
    ) -> UserPage:
        """See `Client.list_users`."""
        params = _user_params(status, page_size, next_page_token)
        response = await self.request("GET", "users", params=params, category=MEDIUM)
        return UserPage.model_validate_json(response.content)

    async def iter_users(
        self, *, status: str | None = None, page_size: int = MAX_PAGE_SIZE
    ) -> AsyncIterator[User]:
        """See `Client.iter_users`."""
        walk = _UserWalk(status, page_size)
        while not walk.done:
            try:
                page = await self.list_users(**walk.query())
            except ZoomAPIError as exc:
                walk.recover(exc)
                continue
            for user in walk.accept(page):
                yield user
