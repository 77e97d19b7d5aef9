"""uvicorn's HTTP protocol, with Zoom's error envelope and a direct response to PAC requests.

uvicorn answers a request line or header it cannot parse (a URL of 100 kB, raw non-ASCII bytes
in the path) with a plain-text 400 before any ASGI app runs. Clients detect Zoom errors by the
JSON `code` and `message`, so this protocol sends those instead. Requests that ask for another
protocol (`Upgrade: websocket`, `h2c`) are served over HTTP/1.1, as Zoom's REST API offers no
other; one that also carries a body gets a JSON 400, since the parser skips that body.

This protocol responds to a plain `GET /v2/users/{userId}/pac` on the embedded database itself,
as soon as the request is parsed, through `PacFastPath.respond`: the same function, and so the
same checks and bytes, as its ASGI entry. Skipping the ASGI task, scope and message objects cut
the server's CPU time per such request by about a fifth in `scripts/bench`. Whatever needs the
event loop or a worker thread, and whatever uvicorn's own request cycle handles specially
(HTTP/1.0, `Connection: close`, upgrades, `Expect`, a request body, pipelined requests behind a
running one, a client that does not read), takes the normal ASGI route.
"""

from __future__ import annotations

from typing import Any

import httptools
import orjson
from starlette.types import Receive, Scope, Send
from uvicorn.protocols.http.httptools_impl import STATUS_LINE, HttpToolsProtocol

from zoompac.domain.secrets import new_tracking_id
from zoompac.web.fastpath import PacFastPath, pac_path

BAD_REQUEST_BODY = orjson.dumps(
    {
        "code": 300,
        "message": "Invalid HTTP request. Percent-encode every byte outside printable ASCII "
        "and keep the request line under 64 kB.",
    }
)
UPGRADE_WITH_BODY_ERROR = orjson.dumps(
    {
        "code": 300,
        "message": "Invalid HTTP request. A request with a body cannot carry an Upgrade header.",
    }
)


class ZoomHttpToolsProtocol(HttpToolsProtocol):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._fast_path = _find_fast_path(self.app)
        # The response to the request being parsed, when this protocol sends it itself.
        self._direct_response: bytes | None = None
        # Set once an upgrade request with a body is rejected. Its 400 closes the connection, so
        # the bytes after it, starting with its skipped body, are not parsed.
        self._discarding = False
        # When the connection last became idle (its last response sent, no request begun), on
        # the loop's clock; None while a request is on its way or in progress. The keep-alive
        # timer reads it (see `timeout_keep_alive_handler`).
        self._idle_since: float | None = None

    def send_400_response(self, msg: str) -> None:
        lines = [b"HTTP/1.1 400 Bad Request\r\n"]
        for name, value in self.server_state.default_headers:
            lines += [name, b": ", value, b"\r\n"]
        lines += [
            b"content-type: application/json\r\n",
            b"content-length: " + str(len(BAD_REQUEST_BODY)).encode() + b"\r\n",
            b"x-zm-trackingid: " + new_tracking_id().encode() + b"\r\n",
            b"connection: close\r\n",
            b"\r\n",
            BAD_REQUEST_BODY,
        ]
        self.transport.write(b"".join(lines))
        self.transport.close()

    def data_received(self, data: bytes) -> None:
        # The server runs with `ws="none"`, as Zoom's REST API has no WebSocket. llhttp still
        # stops at the end of a request with an `Upgrade` header and leaves the bytes after it
        # to the new protocol. uvicorn drops those bytes, and with them any pipelined request,
        # so this method parses them as the HTTP requests they are, and logs no warning.
        self._idle_since = None
        while data and not self._discarding:
            try:
                self.parser.feed_data(data)
            except httptools.HttpParserUpgrade as upgrade:
                data = data[upgrade.args[0] :] if not self.transport.is_closing() else b""
                continue
            except httptools.HttpParserError:
                self.logger.warning("Invalid HTTP request received.")
                self.send_400_response("")
            return

    def on_message_begin(self) -> None:
        # uvicorn builds the request's ASGI scope here. A request served directly needs none,
        # so `_begin_asgi_request` builds it once the request is known to take the ASGI route.
        self.url = b""
        self.expect_100_continue = False
        self.headers = []

    def on_headers_complete(self) -> None:
        # An earlier direct response in the same read marked the connection idle.
        self._idle_since = None
        if self.parser.should_upgrade() and _has_body(self.headers):
            # llhttp skips the body of such a request. The request gets a 400 after the responses
            # to earlier requests on the connection, which then closes.
            self._discarding = True
            app, self.app = self.app, _reject_upgrade_with_body
            try:
                self._begin_asgi_request()
            finally:
                self.app = app
            return
        self._direct_response = self._respond_directly()
        if self._direct_response is None:
            self._begin_asgi_request()

    def _begin_asgi_request(self) -> None:
        url, headers, expect_100_continue = self.url, self.headers, self.expect_100_continue
        super().on_message_begin()  # Builds the scope, resetting what the parser filled in.
        self.url, self.headers, self.expect_100_continue = url, headers, expect_100_continue
        self.scope["headers"] = headers
        super().on_headers_complete()

    def on_message_complete(self) -> None:
        response = self._direct_response
        if response is None:
            super().on_message_complete()
            return
        self._direct_response = None
        self.transport.write(response)
        # What uvicorn does when a response completes: count it, then wait for the next request.
        self.server_state.total_requests += 1
        if not self.transport.is_closing():
            self._idle_since = self.loop.time()
            if self.timeout_keep_alive_task is None:
                self._arm_keep_alive_timer(self.timeout_keep_alive)

    def on_response_complete(self) -> None:
        # An ASGI response: uvicorn re-arms the timer itself, and the connection is idle unless a
        # pipelined request starts meanwhile (`on_headers_complete` ran for it already).
        self._idle_since = None if self.pipeline else self.loop.time()
        super().on_response_complete()

    def timeout_keep_alive_handler(self) -> None:
        # uvicorn arms a new timer after every response and cancels it when data arrives, which
        # cost about 3 µs a request. A direct response only notes the time instead, and the one
        # timer closes the connection once it has been idle for the whole timeout.
        self.timeout_keep_alive_task = None
        if self._idle_since is None:
            return  # A request is in progress; the response re-arms the timer.
        remaining = self._idle_since + self.timeout_keep_alive - self.loop.time()
        if remaining > 0:
            self._arm_keep_alive_timer(remaining)
            return
        super().timeout_keep_alive_handler()

    def _arm_keep_alive_timer(self, delay: float) -> None:
        self.timeout_keep_alive_task = self.loop.call_later(delay, self.timeout_keep_alive_handler)

    def _respond_directly(self) -> bytes | None:
        fast_path = self._fast_path
        parser = self.parser
        if (
            fast_path is None
            or not fast_path.serves_inline
            or parser.get_method() != b"GET"
            or parser.get_http_version() != "1.1"
            or not parser.should_keep_alive()
            or parser.should_upgrade()
            or self.expect_100_continue
            or self.pipeline
            or (self.cycle is not None and not self.cycle.response_complete)
            or self.flow.write_paused
            or self.limit_concurrency is not None
            or self.root_path
        ):
            return None
        url = httptools.parse_url(self.url)
        if url.query or _has_body(self.headers):
            return None
        path = pac_path(url.path.decode("latin-1"))
        if path is None or not fast_path.accepts(self.headers):
            return None
        status, headers, body = fast_path.respond(path, self.headers)
        lines = [STATUS_LINE[status]]
        for name, value in (*self.server_state.default_headers, *headers):
            lines += [name, b": ", value, b"\r\n"]
        lines += [b"\r\n", body]
        return b"".join(lines)


async def _reject_upgrade_with_body(scope: Scope, receive: Receive, send: Send) -> None:
    headers = [
        (b"content-type", b"application/json"),
        (b"content-length", str(len(UPGRADE_WITH_BODY_ERROR)).encode()),
        (b"x-zm-trackingid", new_tracking_id().encode()),
        (b"connection", b"close"),
    ]
    await send({"type": "http.response.start", "status": 400, "headers": headers})
    await send({"type": "http.response.body", "body": UPGRADE_WITH_BODY_ERROR})


def uvicorn_options() -> dict[str, Any]:
    """Return the `uvicorn.Config` options that every zoompac server runs with."""
    return {
        "http": ZoomHttpToolsProtocol,
        # Zoom's REST API has no WebSocket: an `Upgrade: websocket` request gets its HTTP response.
        "ws": "none",
        "server_header": False,
        # The app writes `Date` from its own clock, which tests can move.
        "date_header": False,
    }


def _has_body(headers: list[tuple[bytes, bytes]]) -> bool:
    # The response goes out when the request is complete. A body still on its way would hold it
    # back, and a shutdown meanwhile would drop it, so such requests take the ASGI route.
    for name, value in headers:
        if name == b"transfer-encoding":
            return True
        if name == b"content-length" and (not value.strip().isdigit() or int(value) != 0):
            return True
    return False


def _find_fast_path(app: Any) -> PacFastPath | None:
    """Find the PAC fast path among the wrappers that uvicorn and zoompac put around the app."""
    for _ in range(8):
        if isinstance(app, PacFastPath):
            return app
        app = getattr(app, "app", None)
    return None
