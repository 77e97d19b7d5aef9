"""The ASGI application: the emulated Zoom API, and the control plane when it is enabled."""

from __future__ import annotations

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.routing import BaseRoute, Mount, Route
from starlette.types import ASGIApp, Receive, Scope, Send

from zoompac.domain.errors import OAuthError, ZoomApiError
from zoompac.web import errors
from zoompac.web.fastpath import PacFastPath
from zoompac.web.middleware import (
    CONTROL_PREFIX,
    DateHeader,
    InstrumentationMiddleware,
    ZoomEnvelopeMiddleware,
)
from zoompac.web.routes import oauth, pac, users
from zoompac.web.runtime import Runtime


def create_app(runtime: Runtime, admin_token: str | None = None) -> ASGIApp:
    """Build the app; with an `admin_token`, the control plane is mounted under /zoompac."""
    routes: list[BaseRoute] = [
        Route("/oauth/token", oauth.issue_token, methods=["POST"]),
        Route("/oauth/authorize", oauth.show_consent_page, methods=["GET"]),
        Route("/oauth/authorize", oauth.decide_consent, methods=["POST"]),
        Route("/v2/users", users.list_users, methods=["GET"]),
        Route("/v2/users/{user_id}", users.get_user, methods=["GET"]),
        Route("/v2/users/{user_id}/settings", users.get_user_settings, methods=["GET"]),
        Route("/v2/users/{user_id}/pac", pac.get_user_pac_accounts, methods=["GET"]),
    ]
    if admin_token is not None:
        routes.append(Mount(CONTROL_PREFIX.rstrip("/"), ControlPlaneOnDemand(runtime, admin_token)))
    app = Starlette(
        routes=routes,
        exception_handlers={
            ZoomApiError: errors.handle_zoom_api_error,
            OAuthError: errors.handle_oauth_error,
            HTTPException: errors.handle_http_exception,
            Exception: errors.handle_unexpected,
        },
    )
    # Zoom treats `/v2/users/x/pac/` as an unknown route and does not redirect.
    app.router.redirect_slashes = False
    app.state.runtime = runtime
    date = DateHeader(runtime.clock)
    enveloped = ZoomEnvelopeMiddleware(InstrumentationMiddleware(app, runtime), date)
    return PacFastPath(enveloped, runtime, date)


class ControlPlaneOnDemand:
    """The control plane, built when its first request arrives.

    Its request models, the admin functions and the YAML encoder take about 2 MB of memory,
    which a server without control-plane requests never needs.
    """

    def __init__(self, runtime: Runtime, admin_token: str) -> None:
        self._runtime = runtime
        self._admin_token = admin_token
        self._app: ASGIApp | None = None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if self._app is None:
            from zoompac.web import control

            self._app = control.create_control_app(self._runtime, self._admin_token)
        await self._app(scope, receive, send)
