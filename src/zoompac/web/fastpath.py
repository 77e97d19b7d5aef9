"""A direct route to `GET /v2/users/{userId}/pac`, the endpoint clients call most.

Once reads are cached, Starlette's router, its Request and Response objects and the two
middlewares cost more than the PAC rules themselves. This handler serves plain
PAC requests in raw ASGI, through the same functions the routed endpoint calls: the token check,
the rate limiter, the PAC rules and the error table. It adds the envelope headers and the
journal entry that the middlewares would add.

Requests it does not recognise go to the full app. So do PAC requests with a query string or
oversized headers, and every request while a fault is armed, so the middlewares keep the only
copy of those rules.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass

from starlette.types import ASGIApp, Receive, Scope, Send

from zoompac.domain.errors import ZoomApiError
from zoompac.domain.models import Grant
from zoompac.domain.ratelimits import Label
from zoompac.domain.secrets import new_tracking_id
from zoompac.web.endpoint import authenticate, bearer_of, count_request, decode_user_ref
from zoompac.web.errors import (
    INTERNAL_ERROR,
    RawHeaders,
    raw_error_headers,
    raw_rate_limit_headers,
    status_of,
)
from zoompac.web.middleware import DateHeader, headers_too_large
from zoompac.web.responses import zoom_error_body
from zoompac.web.routes.pac import pac_accounts_body
from zoompac.web.runtime import Runtime

logger = logging.getLogger("zoompac.web")

Headers = RawHeaders
_JSON = (b"content-type", b"application/json")


class PacFastPath:
    def __init__(self, app: ASGIApp, runtime: Runtime, date: DateHeader) -> None:
        self.app = app
        self.runtime = runtime
        self.date = date
        # Whether `respond` may run on the event loop: fixed for the life of the server, and
        # false on PostgreSQL or Redis, whose calls need a worker thread. The protocol checks it.
        self.serves_inline = not runtime.blocking_io

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path = _plain_pac_request_path(scope)
        if path is None or not self.accepts(scope["headers"]):
            await self.app(scope, receive, send)
            return

        if not self.serves_inline:
            started = time.perf_counter()
            bearer, user_ref = _request_inputs(path, scope["headers"])
            try:
                outcome = await self.runtime.run_blocking(self._serve, bearer, user_ref)
            except ZoomApiError as exc:  # The request deadline passed.
                outcome = _error(exc, None)
            except Exception:
                outcome = _internal_error(path)
            status, headers, body = self._finish(path, outcome, started)
        else:
            status, headers, body = self.respond(path, scope["headers"])
        await send({"type": "http.response.start", "status": status, "headers": headers})
        await send({"type": "http.response.body", "body": body})

    def accepts(self, headers: Headers) -> bool:
        """Return whether a plain PAC request with these headers is served here."""
        return not self.runtime.faults and not headers_too_large(headers)

    def respond(self, path: str, headers: Headers) -> tuple[int, Headers, bytes]:
        """Serve a plain PAC request at once: its status, response headers and body.

        `path` is the undecoded request path; the request is journaled.
        """
        started = time.perf_counter()
        bearer, user_ref = _request_inputs(path, headers)
        try:
            outcome = self._serve(bearer, user_ref)
        except Exception:
            outcome = _internal_error(path)
        return self._finish(path, outcome, started)

    def _finish(self, path: str, outcome: Outcome, started: float) -> tuple[int, Headers, bytes]:
        tracking_id = new_tracking_id()
        body = outcome.body
        headers = [
            (b"content-length", str(len(body)).encode()),
            _JSON,
            *outcome.headers,
            (b"date", self.date.value()),
            (b"x-zm-trackingid", tracking_id.encode()),
        ]
        grant = outcome.grant
        self.runtime.journal.record(
            (
                self.runtime.clock.timestamp(),
                "GET",
                path,
                "",
                outcome.status,
                outcome.zoom_code,
                None,
                round((time.perf_counter() - started) * 1000, 3),
                grant.client_id if grant else None,
                grant.user_id if grant else None,
                tracking_id,
            )
        )
        return outcome.status, headers, body

    def _serve(self, bearer: str | None, user_ref: str) -> Outcome:
        # The same steps, in the same order, as `endpoint.zoom_api`.
        runtime = self.runtime
        with runtime.store.request_scope():
            try:
                grant = authenticate(runtime, bearer)
            except ZoomApiError as exc:
                return _error(exc, None)
            try:
                decision = count_request(runtime, grant, Label.LIGHT)
            except ZoomApiError as exc:
                return _error(exc, grant)
            try:
                outcome = Outcome(200, pac_accounts_body(runtime, grant, user_ref), [], grant, None)
            except ZoomApiError as exc:
                outcome = _error(exc, grant)
        if decision is not None:
            outcome.headers = raw_rate_limit_headers(decision)
        return outcome


@dataclass(slots=True)
class Outcome:
    status: int
    body: bytes
    headers: Headers
    grant: Grant | None  # For the journal, once the token is known to be valid.
    zoom_code: int | None


def _plain_pac_request_path(scope: Scope) -> str | None:
    """Return the undecoded path of a `GET /v2/users/{userId}/pac` without a query string."""
    if scope["type"] != "http" or scope["method"] != "GET" or scope["query_string"]:
        return None
    raw_path = scope.get("raw_path")
    return pac_path(raw_path.decode("latin-1") if raw_path else scope["path"])


def pac_path(path: str) -> str | None:
    """Return `path` if it is an undecoded `/v2/users/{userId}/pac` path, else None."""
    parts = path.split("/")
    # ["", "v2", "users", userId, "pac"]
    if len(parts) != 5 or parts[1] != "v2" or parts[2] != "users" or parts[4] != "pac":
        return None
    return path if parts[3] else None


def _request_inputs(path: str, headers: Headers) -> tuple[str | None, str]:
    return _bearer_token(headers), decode_user_ref(path.split("/")[3])


def _internal_error(path: str) -> Outcome:
    logger.exception("Unhandled error while serving GET %s", path)
    code, message = INTERNAL_ERROR
    return Outcome(500, zoom_error_body(code, message), [], None, code)


def _bearer_token(headers: Headers) -> str | None:
    # The first Authorization header counts, as with Starlette's `Headers.get`.
    for name, value in headers:
        if name == b"authorization":
            return bearer_of(value.decode("latin-1"))
    return None


def _error(error: ZoomApiError, grant: Grant | None) -> Outcome:
    return Outcome(
        status_of(error),
        zoom_error_body(error.code, error.message),
        raw_error_headers(error),
        grant,
        error.code,
    )
