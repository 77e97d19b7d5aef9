"""ASGI middleware that every response passes through."""

from __future__ import annotations

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from zoompac.domain.secrets import new_tracking_id
from zoompac.web.responses import zoom_error

# Zoom sits behind proxies that reject oversized headers; 16 KiB in total is well above anything
# a Zoom client sends and keeps a 1 MB header from reaching the routes.
MAX_HEADER_BYTES = 16 * 1024


class ZoomEnvelopeMiddleware:
    """Add `x-zm-trackingid` to every response and route on the undecoded path.

    Routing on `raw_path` keeps an encoded slash (`%2F`) inside its path segment, so a `userId`
    such as `a%2Fb@example.com` reaches the route intact instead of splitting the path. Routes
    percent-decode their own parameters.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        tracking_header = (b"x-zm-trackingid", new_tracking_id().encode())

        async def send_with_tracking_id(message: Message) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = [*message.get("headers", []), tracking_header]
            await send(message)

        if sum(len(name) + len(value) for name, value in scope["headers"]) > MAX_HEADER_BYTES:
            response = zoom_error(431, 431, "Request header fields are too large.")
            await response(scope, receive, send_with_tracking_id)
            return

        raw_path = scope.get("raw_path")
        if raw_path:
            scope = dict(scope)
            scope["path"] = raw_path.decode("latin-1")
        await self.app(scope, receive, send_with_tracking_id)
