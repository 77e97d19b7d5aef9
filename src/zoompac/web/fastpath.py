"""A direct route to `GET /v2/users/{userId}/pac`, the endpoint clients call most.

Starlette's router and its two exception middlewares cost more per request than the PAC lookup
itself once reads are cached. This dispatcher recognises the PAC path with one string split and
calls the same endpoint function, with the same error mapping, that the router would call.
Every other request goes to the Starlette app unchanged.
"""

from __future__ import annotations

import logging

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.types import Receive, Scope, Send

from zoompac.domain.errors import ZoomApiError
from zoompac.web.endpoint import Endpoint
from zoompac.web.errors import INTERNAL_ERROR, zoom_api_error_response
from zoompac.web.responses import zoom_error

logger = logging.getLogger("zoompac.web")


class PacFastPath:
    def __init__(self, app: Starlette, endpoint: Endpoint) -> None:
        self.app = app
        self.endpoint = endpoint

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        user_segment = _pac_user_segment(scope)
        if user_segment is None:
            await self.app(scope, receive, send)
            return

        scope["app"] = self.app  # Endpoints find the runtime through `request.app.state`.
        scope["path_params"] = {"user_id": user_segment}
        try:
            response = await self.endpoint(Request(scope, receive))
        except ZoomApiError as exc:
            response = zoom_api_error_response(exc)
        except Exception:
            logger.exception("Unhandled error while serving %s", scope["method"])
            code, message = INTERNAL_ERROR
            response = zoom_error(500, code, message)
        await response(scope, receive, send)


def _pac_user_segment(scope: Scope) -> str | None:
    """Return the `userId` segment of `GET /v2/users/{userId}/pac`, or None for other requests."""
    if scope["type"] != "http" or scope["method"] != "GET":
        return None
    parts = scope["path"].split("/")
    # ["", "v2", "users", userId, "pac"]
    if len(parts) != 5 or parts[1] != "v2" or parts[2] != "users" or parts[4] != "pac":
        return None
    return parts[3] or None
