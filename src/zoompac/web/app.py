"""The ASGI application of the emulated Zoom API."""

from __future__ import annotations

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.routing import Route
from starlette.types import ASGIApp

from zoompac.domain.errors import OAuthError, ZoomApiError
from zoompac.web import errors
from zoompac.web.middleware import ZoomEnvelopeMiddleware
from zoompac.web.routes import oauth, pac, users
from zoompac.web.runtime import Runtime


def create_app(runtime: Runtime) -> ASGIApp:
    routes = [
        Route("/oauth/token", oauth.issue_token, methods=["POST"]),
        Route("/oauth/authorize", oauth.show_consent_page, methods=["GET"]),
        Route("/oauth/authorize", oauth.decide_consent, methods=["POST"]),
        Route("/v2/users", users.list_users, methods=["GET"]),
        Route("/v2/users/{user_id}", users.get_user, methods=["GET"]),
        Route("/v2/users/{user_id}/settings", users.get_user_settings, methods=["GET"]),
        Route("/v2/users/{user_id}/pac", pac.get_user_pac_accounts, methods=["GET"]),
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
