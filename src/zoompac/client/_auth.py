"""Where access tokens come from: a fixed token, Server-to-Server OAuth, or user-level OAuth.

A refreshing source fetches at most one token at a time: threads wait on a lock, tasks of an
event loop on an asyncio lock, and processes sharing a `TokenCache` on its lock file. A caller
that gets the lock after another one fetched finds the fresh token there and uses it.
"""

from __future__ import annotations

import asyncio
import base64
import json
import threading
import weakref
from abc import ABC, abstractmethod
from collections.abc import Callable
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import filelock
import httpx

from zoompac.client._errors import TokenCacheError, TokenError, ZoomTransportError
from zoompac.client._tokens import AccessToken, TokenCache, cache_key, secret_check

DEFAULT_TOKEN_URL = "https://zoom.us/oauth/token"  # noqa: S105 (a URL, not a secret)
# Rivet, Zoom's own SDK, renews tokens a minute before they expire.
DEFAULT_REFRESH_MARGIN = 60.0
# How often an async task checks a lock that another thread or process holds.
_LOCK_POLL_SECONDS = 0.02

Clock = Callable[[], datetime]


def utc_now() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True)
class Credentials:
    """The credentials of a Server-to-Server OAuth app."""

    account_id: str
    client_id: str
    client_secret: str = field(repr=False)

    def auth(self, **options: Any) -> ServerToServerAuth:
        """A `ServerToServerAuth` for these credentials; `options` go to its constructor."""
        return ServerToServerAuth(self.account_id, self.client_id, self.client_secret, **options)


class Auth(ABC):
    """A source of access tokens for `Client` and `AsyncClient`."""

    @property
    @abstractmethod
    def can_refresh(self) -> bool:
        """Return whether a rejected token can be replaced by a new one."""

    @abstractmethod
    def token(self, http: httpx.Client, now: Clock) -> str:
        """Return a token that is not close to expiry, fetched with `http` when needed."""

    @abstractmethod
    def replace(self, http: httpx.Client, rejected: str, now: Clock) -> str:
        """Return a token other than `rejected`, which the API rejected."""

    @abstractmethod
    async def atoken(self, http: httpx.AsyncClient, now: Clock) -> str:
        """`token` for the async client."""

    @abstractmethod
    async def areplace(self, http: httpx.AsyncClient, rejected: str, now: Clock) -> str:
        """`replace` for the async client."""


class BearerToken(Auth):
    """A ready access token, used as it is; a rejection of it is final."""

    def __init__(self, access_token: str) -> None:
        if not access_token:
            raise ValueError("Expected an access token, but got an empty string.")
        self._access_token = access_token

    def __repr__(self) -> str:
        return "BearerToken(<hidden>)"

    @property
    def can_refresh(self) -> bool:
        return False

    def token(self, http: httpx.Client, now: Clock) -> str:
        return self._access_token

    def replace(self, http: httpx.Client, rejected: str, now: Clock) -> str:
        return self._access_token

    async def atoken(self, http: httpx.AsyncClient, now: Clock) -> str:
        return self._access_token

    async def areplace(self, http: httpx.AsyncClient, rejected: str, now: Clock) -> str:
        return self._access_token


class RefreshingAuth(Auth):
    """A token source that fetches tokens from an OAuth token endpoint and renews them.

    Subclasses define which request fetches a token and under which cache key it is stored.
    """

    def __init__(
        self,
        *,
        client_id: str,
        client_secret: str,
        token_url: str,
        cache: TokenCache | None,
        refresh_margin: float,
    ) -> None:
        if not client_id or not client_secret:
            raise ValueError("Expected a client id and a client secret, but one of them is empty.")
        if refresh_margin < 0:
            raise ValueError(
                f"Expected a refresh margin of 0 s or more, but got {refresh_margin!r}."
            )
        self.client_id = client_id
        self._client_secret = client_secret
        self.token_url = token_url
        self.cache = cache
        self.refresh_margin = refresh_margin
        self._current: AccessToken | None = None
        self._secret_check_value: str | None = None
        self._thread_lock = threading.Lock()
        self._loop_locks: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, asyncio.Lock] = (
            weakref.WeakKeyDictionary()
        )

    @property
    def can_refresh(self) -> bool:
        return True

    @property
    def current(self) -> AccessToken | None:
        """The token in use, if one was fetched or loaded."""
        return self._current

    # What subclasses provide

    @abstractmethod
    def _key_parts(self) -> tuple[str, ...]:
        """Return the parts of the cache key, which never include the secret."""

    @abstractmethod
    def _identity(self) -> dict[str, str]:
        """Fields written next to the token so that a person can tell cache files apart."""

    @abstractmethod
    def _grant(self, previous: AccessToken | None) -> dict[str, str]:
        """Return the form fields of the request that fetches a new token."""

    # Sync

    def token(self, http: httpx.Client, now: Clock) -> str:
        current = self._current
        if current is not None and not current.refresh_due(now(), self.refresh_margin):
            return current.access_token
        with self._thread_lock:
            return self._obtain(http, None, now).access_token

    def replace(self, http: httpx.Client, rejected: str, now: Clock) -> str:
        with self._thread_lock:
            return self._obtain(http, rejected, now).access_token

    def _obtain(self, http: httpx.Client, rejected: str | None, now: Clock) -> AccessToken:
        usable = self._usable(self._current, rejected, now)
        if usable is not None:
            return usable
        with self._file_lock():
            cached = self._load()
            usable = self._usable(cached, rejected, now)
            if usable is None:
                started = now()
                response = self._send(lambda: http.send(self._request(http, cached)))
                usable = self._parse(response, started)
                self._store(usable)
            self._current = usable
            return usable

    # Async

    async def atoken(self, http: httpx.AsyncClient, now: Clock) -> str:
        current = self._current
        if current is not None and not current.refresh_due(now(), self.refresh_margin):
            return current.access_token
        return (await self._aobtain(http, None, now)).access_token

    async def areplace(self, http: httpx.AsyncClient, rejected: str, now: Clock) -> str:
        return (await self._aobtain(http, rejected, now)).access_token

    async def _aobtain(
        self, http: httpx.AsyncClient, rejected: str | None, now: Clock
    ) -> AccessToken:
        async with self._loop_lock():
            # Another task may have fetched while this one waited for the lock.
            usable = self._usable(self._current, rejected, now)
            if usable is not None:
                return usable
            await _acquire_polling(self._thread_lock.acquire)
            try:
                return await self._aobtain_locked(http, rejected, now)
            finally:
                self._thread_lock.release()

    async def _aobtain_locked(
        self, http: httpx.AsyncClient, rejected: str | None, now: Clock
    ) -> AccessToken:
        lock = self._cache_lock()
        if lock is not None:
            await _acquire_polling(lambda blocking: _try_file_lock(lock, blocking), lock)
        try:
            cached = await asyncio.to_thread(self._load)
            usable = self._usable(cached, rejected, now)
            if usable is None:
                started = now()
                request = self._request(http, cached)
                response = await self._asend(http.send(request))
                usable = self._parse(response, started)
                await asyncio.to_thread(self._store, usable)
            self._current = usable
            return usable
        finally:
            if lock is not None:
                lock.release()

    # Steps shared by both

    def _usable(
        self, candidate: AccessToken | None, rejected: str | None, now: Clock
    ) -> AccessToken | None:
        if candidate is None or candidate.access_token == rejected:
            return None
        if candidate.refresh_due(now(), self.refresh_margin):
            return None
        return candidate

    def _request(
        self, http: httpx.Client | httpx.AsyncClient, cached: AccessToken | None
    ) -> httpx.Request:
        # The cache holds the newest refresh token when another process has rotated it.
        previous = cached or self._current
        credentials = base64.b64encode(f"{self.client_id}:{self._client_secret}".encode()).decode()
        return http.build_request(
            "POST",
            self.token_url,
            data=self._grant(previous),
            headers={"Authorization": f"Basic {credentials}"},
        )

    def _send(self, send: Callable[[], httpx.Response]) -> httpx.Response:
        try:
            return send()
        except httpx.TransportError as exc:
            raise self._transport_error(exc) from exc

    async def _asend(self, sending: Any) -> httpx.Response:
        try:
            response: httpx.Response = await sending
        except httpx.TransportError as exc:
            raise self._transport_error(exc) from exc
        return response

    def _transport_error(self, exc: httpx.TransportError) -> ZoomTransportError:
        return ZoomTransportError(
            f"Cannot reach the token endpoint {self.token_url}: {exc or type(exc).__name__}. "
            "Check the token URL and the network."
        )

    def _parse(self, response: httpx.Response, started: datetime) -> AccessToken:
        return parse_token_response(response, started)

    def _cache_lock(self) -> filelock.FileLock | None:
        if self.cache is None:
            return None
        return self.cache.lock(self._key())

    def _file_lock(self) -> AbstractContextManager[object]:
        lock = self._cache_lock()
        if lock is None:
            return nullcontext()
        try:
            lock.acquire()
        except filelock.Timeout as exc:
            raise _lock_timeout(lock) from exc
        return _Releasing(lock)

    def _load(self) -> AccessToken | None:
        if self.cache is None:
            return None
        return self.cache.load(self._key(), self._secret_check())

    def _store(self, token: AccessToken) -> None:
        if self.cache is not None:
            self.cache.store(self._key(), token, self._identity(), self._secret_check())

    def _secret_check(self) -> str:
        if self._secret_check_value is None:
            self._secret_check_value = secret_check(self._client_secret, self._key())
        return self._secret_check_value

    def _key(self) -> str:
        return cache_key(*self._key_parts())

    def _loop_lock(self) -> asyncio.Lock:
        loop = asyncio.get_running_loop()
        lock = self._loop_locks.get(loop)
        if lock is None:
            lock = self._loop_locks[loop] = asyncio.Lock()
        return lock


class ServerToServerAuth(RefreshingAuth):
    """Tokens of a Server-to-Server OAuth app (`grant_type=account_credentials`).

    Pass a `TokenCache` to share tokens with other processes that use the same app.
    """

    def __init__(
        self,
        account_id: str,
        client_id: str,
        client_secret: str,
        *,
        token_url: str = DEFAULT_TOKEN_URL,
        cache: TokenCache | None = None,
        refresh_margin: float = DEFAULT_REFRESH_MARGIN,
    ) -> None:
        if not account_id:
            raise ValueError("Expected an account id, but got an empty string.")
        super().__init__(
            client_id=client_id,
            client_secret=client_secret,
            token_url=token_url,
            cache=cache,
            refresh_margin=refresh_margin,
        )
        self.account_id = account_id

    def __repr__(self) -> str:
        return (
            f"ServerToServerAuth(account_id={self.account_id!r}, client_id={self.client_id!r}, "
            f"token_url={self.token_url!r})"
        )

    def _key_parts(self) -> tuple[str, ...]:
        return ("account_credentials", self.token_url, self.account_id, self.client_id)

    def _identity(self) -> dict[str, str]:
        return {
            "grant": "account_credentials",
            "token_url": self.token_url,
            "account_id": self.account_id,
            "client_id": self.client_id,
        }

    def _grant(self, previous: AccessToken | None) -> dict[str, str]:
        return {"grant_type": "account_credentials", "account_id": self.account_id}


class UserAuth(RefreshingAuth):
    """Tokens of a user-level OAuth app, renewed with rotating refresh tokens.

    Each refresh spends the refresh token and brings a new one, so the newest one must be kept:
    with a `TokenCache`, it is written to the cache before it is used, and every process that
    shares the cache refreshes from the newest one. Start from the token that
    `exchange_code` returns, or from one already in the cache under the same `name`.
    """

    def __init__(
        self,
        client_id: str,
        client_secret: str,
        *,
        token_url: str = DEFAULT_TOKEN_URL,
        token: AccessToken | None = None,
        cache: TokenCache | None = None,
        name: str = "default",
        refresh_margin: float = DEFAULT_REFRESH_MARGIN,
    ) -> None:
        super().__init__(
            client_id=client_id,
            client_secret=client_secret,
            token_url=token_url,
            cache=cache,
            refresh_margin=refresh_margin,
        )
        self.name = name
        self._current = token

    def __repr__(self) -> str:
        return (
            f"UserAuth(client_id={self.client_id!r}, name={self.name!r}, "
            f"token_url={self.token_url!r})"
        )

    def exchange_code(
        self, code: str, redirect_uri: str, http: httpx.Client | None = None, now: Clock = utc_now
    ) -> AccessToken:
        """Trade an authorization code for the first token and keep it (in the cache too)."""
        owned = http is None
        client = http or httpx.Client(timeout=DEFAULT_AUTH_TIMEOUT)
        try:
            with self._thread_lock, self._file_lock():
                credentials = base64.b64encode(
                    f"{self.client_id}:{self._client_secret}".encode()
                ).decode()
                request = client.build_request(
                    "POST",
                    self.token_url,
                    data={
                        "grant_type": "authorization_code",
                        "code": code,
                        "redirect_uri": redirect_uri,
                    },
                    headers={"Authorization": f"Basic {credentials}"},
                )
                started = now()
                token = self._parse(self._send(lambda: client.send(request)), started)
                self._store(token)
                self._current = token
                return token
        finally:
            if owned:
                client.close()

    def _key_parts(self) -> tuple[str, ...]:
        return ("user", self.token_url, self.client_id, self.name)

    def _identity(self) -> dict[str, str]:
        return {
            "grant": "refresh_token",
            "token_url": self.token_url,
            "client_id": self.client_id,
            "name": self.name,
        }

    def _grant(self, previous: AccessToken | None) -> dict[str, str]:
        if previous is None or not previous.refresh_token:
            raise TokenError(
                f"No refresh token is stored for the user-level app {self.client_id!r} "
                f"(name {self.name!r}). Run the authorization code flow and pass the code to "
                "UserAuth.exchange_code first."
            )
        return {"grant_type": "refresh_token", "refresh_token": previous.refresh_token}


DEFAULT_AUTH_TIMEOUT = httpx.Timeout(30.0, connect=10.0)


def parse_token_response(response: httpx.Response, started: datetime) -> AccessToken:
    """Read a token endpoint's answer; the expiry counts from when the request was sent."""
    body = _json_or_none(response)
    if response.status_code != 200:
        error = body.get("error") if isinstance(body, dict) else None
        reason = body.get("reason") if isinstance(body, dict) else None
        detail = f": {error} ({reason})" if error else ""
        raise TokenError(
            f"The token endpoint returned HTTP {response.status_code}{detail}. Check the client "
            "id, client secret, account id and token URL.",
            response,
            error=str(error) if error is not None else None,
            reason=str(reason) if reason is not None else None,
        )
    if not isinstance(body, dict):
        raise TokenError("The token endpoint answered 200 without a JSON object.", response)
    token, expires_in = body.get("access_token"), body.get("expires_in")
    if not isinstance(token, str) or not token:
        raise TokenError("The token endpoint answered 200 without an access_token.", response)
    if not isinstance(expires_in, int | float) or isinstance(expires_in, bool) or expires_in <= 0:
        raise TokenError(
            f"The token endpoint answered 200 with expires_in {expires_in!r}; expected a "
            "positive number of seconds.",
            response,
        )
    refresh = body.get("refresh_token")
    return AccessToken(
        access_token=token,
        expires_at=started + timedelta(seconds=float(expires_in)),
        lifetime=float(expires_in),
        scope=str(body.get("scope", "")),
        refresh_token=refresh if isinstance(refresh, str) and refresh else None,
    )


def _json_or_none(response: httpx.Response) -> Any:
    try:
        return json.loads(response.content)
    except (ValueError, UnicodeDecodeError):
        return None


class _Releasing:
    def __init__(self, lock: filelock.FileLock) -> None:
        self._lock = lock

    def __enter__(self) -> None:
        return None

    def __exit__(self, *_: object) -> None:
        self._lock.release()


def _try_file_lock(lock: filelock.FileLock, blocking: bool) -> bool:
    try:
        lock.acquire(blocking=blocking)
    except filelock.Timeout:
        return False
    return True


async def _acquire_polling(
    acquire: Callable[..., bool], file_lock: filelock.FileLock | None = None
) -> None:
    """Take a thread or file lock without blocking the event loop.

    Polling, rather than a worker thread blocked in `acquire`, cannot leak the lock when the task
    is cancelled while it waits: that thread would take the lock after the task is gone.
    """
    loop = asyncio.get_running_loop()
    deadline = None
    # A negative timeout means wait for ever, as it does for the blocking acquire.
    if file_lock is not None and file_lock.timeout >= 0:
        deadline = loop.time() + file_lock.timeout
    while not acquire(blocking=False):
        if file_lock is not None and deadline is not None and loop.time() > deadline:
            raise _lock_timeout(file_lock)
        await asyncio.sleep(_LOCK_POLL_SECONDS)


def _lock_timeout(lock: filelock.FileLock) -> TokenCacheError:
    return TokenCacheError(
        f"Waited {lock.timeout:g} s for the token cache lock {lock.lock_file!r}, which another "
        "process holds. If no other process is fetching a token, delete the lock file."
    )
