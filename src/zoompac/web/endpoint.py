"""The steps every emulated Zoom API route shares: token, rate limit, handler, headers."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from urllib.parse import unquote_to_bytes

from starlette.requests import Request
from starlette.responses import Response

from zoompac.domain import errors
from zoompac.domain.models import Grant
from zoompac.domain.ratelimits import Label, RateDecision
from zoompac.web.errors import rate_limit_headers, zoom_api_error_response
from zoompac.web.runtime import Runtime

Handler = Callable[[Request, Runtime, Grant], Response]
Endpoint = Callable[[Request], Awaitable[Response]]


def zoom_api(label: Label) -> Callable[[Handler], Endpoint]:
    """Wrap a route handler in Zoom's order: token check, rate limit, then the handler.

    The account's rate-limit headers go on every response once the token names an account,
    errors from the handler included.
    """

    def decorate(handler: Handler) -> Endpoint:
        async def endpoint(request: Request) -> Response:
            runtime: Runtime = request.app.state.runtime
            return await runtime.run_blocking(serve, request, runtime)

        def serve(request: Request, runtime: Runtime) -> Response:
            with runtime.store.request_scope():
                return serve_in_scope(request, runtime)

        def serve_in_scope(request: Request, runtime: Runtime) -> Response:
            grant = authenticate(runtime, bearer_token(request))
            request.state.client_id = grant.client_id
            request.state.user_id = grant.user_id
            decision = count_request(runtime, grant, label)
            try:
                response = handler(request, runtime, grant)
            except errors.ZoomApiError as exc:
                response = zoom_api_error_response(exc)
            if decision is not None:
                response.headers.update(rate_limit_headers(decision))
            return response

        endpoint.__name__ = handler.__name__
        endpoint.__doc__ = handler.__doc__
        return endpoint

    return decorate


def authenticate(runtime: Runtime, bearer: str | None) -> Grant:
    """Make the store current for this request, then turn its bearer token into a grant."""
    runtime.store.refresh()
    return runtime.tokens.authenticate(bearer)


def count_request(runtime: Runtime, grant: Grant, label: Label) -> RateDecision | None:
    """Count the request against the rate limits of the grant's account."""
    account = runtime.store.get_account(grant.account_id)
    if account is None:
        raise errors.InvalidAccessToken()
    return runtime.rate_limiter.consume(account.id, account.plan, label, runtime.clock.timestamp())


def bearer_token(request: Request) -> str | None:
    """Return the token of an `Authorization: Bearer` header.

    Zoom stopped accepting `?access_token=` in 2023, and such a request fails as if it carried no
    token at all, even when a valid header is present too.
    """
    # The raw query string is checked first, because parsing it costs more than the whole lookup.
    if b"access_token" in request.scope["query_string"] and "access_token" in request.query_params:
        raise errors.InvalidAccessToken()
    return bearer_of(request.headers.get("authorization", ""))


def bearer_of(authorization: str) -> str | None:
    """Return the token of an `Authorization` header value, or None if it is not Bearer."""
    scheme, _, token = authorization.partition(" ")
    if scheme.lower() != "bearer":
        return None
    return token.strip() or None


def user_ref_param(request: Request) -> str:
    """Percent-decode the `userId` path segment as UTF-8; invalid UTF-8 stays as sent."""
    return decode_user_ref(request.path_params["user_id"])


def decode_user_ref(raw: str) -> str:
    """Percent-decode an undecoded `userId` path segment; invalid UTF-8 stays as sent."""
    if "%" not in raw:
        return raw
    try:
        return unquote_to_bytes(raw).decode("utf-8")
    except UnicodeDecodeError:
        return raw
