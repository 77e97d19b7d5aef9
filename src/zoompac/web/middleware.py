"""ASGI middleware that every response of the emulated API passes through."""

from __future__ import annotations

import asyncio
import time
from email.utils import formatdate
from urllib.parse import parse_qsl, urlencode

import orjson
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from zoompac.domain.clock import Clock
from zoompac.domain.faults import Fault
from zoompac.domain.secrets import new_tracking_id
from zoompac.web.responses import zoom_error
from zoompac.web.runtime import Runtime

# Zoom sits behind proxies that reject oversized headers; 16 KiB in total is well above anything
# a Zoom client sends and keeps a 1 MB header from reaching the routes.
MAX_HEADER_BYTES = 16 * 1024
CONTROL_PREFIX = "/zoompac/"
_SECRET_QUERY_PARAMETERS = frozenset(
    {"access_token", "code", "refresh_token", "client_secret", "state"}
)


class ZoomEnvelopeMiddleware:
    """Add `x-zm-trackingid` and `Date` to every response and route on the undecoded path.

    `Date` comes from the server clock, so it agrees with `Retry-After` dates and token expiry
    when the clock has been moved.

    Routing on `raw_path` keeps an encoded slash (`%2F`) inside its path segment, so a `userId`
    such as `a%2Fb@example.com` reaches the route intact instead of splitting the path. Routes
    percent-decode their own parameters.
    """

    def __init__(self, app: ASGIApp, date: DateHeader) -> None:
        self.app = app
        self.date = date

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        tracking_id = new_tracking_id()
        envelope_headers = [
            (b"date", self.date.value()),
            (b"x-zm-trackingid", tracking_id.encode()),
        ]

        async def send_with_tracking_id(message: Message) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = [*message.get("headers", []), *envelope_headers]
            await send(message)

        if headers_too_large(scope["headers"]):
            response = zoom_error(431, 431, "Request header fields are too large.")
            await response(scope, receive, send_with_tracking_id)
            return

        scope = dict(scope)
        scope["state"] = {**scope.get("state", {}), "tracking_id": tracking_id}
        raw_path = scope.get("raw_path")
        if raw_path:
            scope["path"] = raw_path.decode("latin-1")
        await self.app(scope, receive, send_with_tracking_id)


class DateHeader:
    """The `Date` header's value by the server clock, formatted once a second."""

    def __init__(self, clock: Clock) -> None:
        self.clock = clock
        self._second = -1
        self._value = b""

    def value(self) -> bytes:
        second = int(self.clock.timestamp())
        if second != self._second:
            self._value = formatdate(second, usegmt=True).encode()
            self._second = second
        return self._value


def headers_too_large(headers: list[tuple[bytes, bytes]]) -> bool:
    return sum(len(name) + len(value) for name, value in headers) > MAX_HEADER_BYTES


class InstrumentationMiddleware:
    """Apply injected faults and record each emulated API request in the journal.

    Control-plane requests pass untouched: they are neither faulted nor journaled.
    """

    def __init__(self, app: ASGIApp, runtime: Runtime) -> None:
        self.app = app
        self.runtime = runtime

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"].startswith(CONTROL_PREFIX):
            await self.app(scope, receive, send)
            return

        started = time.perf_counter()
        status = 0
        error_body = b""

        async def recording_send(message: Message) -> None:
            nonlocal status, error_body
            if message["type"] == "http.response.start":
                status = message["status"]
            elif message["type"] == "http.response.body" and status >= 400:
                error_body += message.get("body", b"")
            await send(message)

        fault = (
            self.runtime.faults.take(scope["method"], scope["path"])
            if self.runtime.faults
            else None
        )
        if fault is None:
            await self.app(scope, receive, recording_send)
        else:
            await self._apply(fault, scope, receive, recording_send, send)
        _record_request(self.runtime, scope, status, error_body, time.perf_counter() - started)

    async def _apply(
        self, fault: Fault, scope: Scope, receive: Receive, send: Send, unrecorded_send: Send
    ) -> None:
        if fault.latency_ms:
            await asyncio.sleep(fault.latency_ms / 1000)
        if fault.drop:
            # The journal records status 0 for a dropped connection: no response was sent.
            await _drop_connection(unrecorded_send)
        elif fault.status is not None:
            body = fault.body or {"code": fault.status, "message": "Injected fault."}
            await zoom_error(
                fault.status, body.get("code", fault.status), body.get("message", ""), fault.headers
            )(scope, receive, send)
        else:
            await self.app(scope, receive, send)


def _record_request(
    runtime: Runtime, scope: Scope, status: int, error_body: bytes, seconds: float
) -> None:
    """Add a request to the journal; `error_body` is the body of a response with status >= 400."""
    state = scope.get("state", {})
    zoom_code, oauth_error = _error_fields(error_body)
    runtime.journal.record(
        (
            runtime.clock.timestamp(),
            scope["method"],
            scope["path"],
            _redacted_query(scope.get("query_string", b"")),
            status,
            zoom_code,
            oauth_error,
            round(seconds * 1000, 3),
            state.get("client_id"),
            state.get("user_id"),
            state.get("tracking_id", ""),
        )
    )


async def _drop_connection(send: Send) -> None:
    # ASGI has no "close" message. A response that announces a body and stops short of it makes
    # the server close the connection, and the client sees a broken response.
    await send(
        {"type": "http.response.start", "status": 200, "headers": [(b"content-length", b"64")]}
    )
    await send({"type": "http.response.body", "body": b"{", "more_body": True})


def _redacted_query(query_string: bytes) -> str:
    if not query_string:
        return ""
    pairs = parse_qsl(query_string.decode("latin-1"), keep_blank_values=True)
    return urlencode(
        [
            (name, "[redacted]" if name in _SECRET_QUERY_PARAMETERS else value)
            for name, value in pairs
        ]
    )


def _error_fields(body: bytes) -> tuple[int | None, str | None]:
    if not body:
        return None, None
    try:
        data = orjson.loads(body)
    except orjson.JSONDecodeError:
        return None, None
    if not isinstance(data, dict):
        return None, None
    code = data.get("code")
    error = data.get("error")
    return (code if isinstance(code, int) else None), (error if isinstance(error, str) else None)
