"""The ASGI application of the emulated Zoom API."""

from __future__ import annotations

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.routing import Route
from starlette.types import ASGIApp

from zoompac.domain.errors import OAuthError, ZoomApiError
from zoompac.web import errors
from zoompac.web.middleware import ZoomEnvelopeMiddleware
from zoompac.web.routes.oauth import issue_token
from zoompac.web.routes.pac import get_user_pac_accounts
from zoompac.web.runtime import Runtime


def create_app(runtime: Runtime) -> ASGIApp:
    routes = [
        Route("/oauth/token", issue_token, methods=["POST"]),
        Route("/v2/users/{user_id}/pac", get_user_pac_accounts, methods=["GET"]),
    ]
    app = Starlette(
        routes=routes,
        exception_handlers={
            ZoomApiError: errors.handle_zoom_api_error,
            OAuthError: errors.handle_oauth_error,
            HTTPException: errors.handle_http_exception,
            Exception: errors.handle_unexpected,
        },
    )
    app.state.runtime = runtime
    return ZoomEnvelopeMiddleware(app)
