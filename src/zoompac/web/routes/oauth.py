"""Zoom's OAuth server: `POST /oauth/token` and the consent page at `/oauth/authorize`."""

from __future__ import annotations

import base64
import binascii
from html import escape
from urllib.parse import parse_qsl, unquote, urlencode, urlsplit, urlunsplit

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response

from zoompac.domain import errors
from zoompac.domain.models import App, User, UserStatus
from zoompac.domain.tokens import IssuedToken
from zoompac.web.responses import JSONResponse
from zoompac.web.runtime import Runtime

# A token request or a consent form is a few hundred bytes; anything far larger is not one.
MAX_FORM_BYTES = 64 * 1024


async def issue_token(request: Request) -> Response:
    runtime: Runtime = request.app.state.runtime
    client_id, client_secret = client_credentials(request)
    params = await form_parameters(request)
    # Always off the event loop: checking a client secret runs scrypt for tens of milliseconds.
    # TODO: bound this wait by REQUEST_DEADLINE_SECONDS, as `Runtime.run_blocking` does for API
    # requests. A hung PostgreSQL now keeps a token request waiting until it responds.
    issued = await run_in_threadpool(run_grant, runtime, client_id, client_secret, params)
    request.state.client_id = client_id
    return token_response(issued, runtime)


def run_grant(
    runtime: Runtime, client_id: str, client_secret: str, params: dict[str, str]
) -> IssuedToken:
    runtime.store.refresh()
    grant_type = params.get("grant_type")
    if not grant_type:
        raise errors.InvalidRequest("Missing grant_type")
    if grant_type == "account_credentials":
        return runtime.tokens.issue_account_token(
            client_id, client_secret, params.get("account_id")
        )
    if grant_type == "authorization_code":
        return runtime.tokens.exchange_authorization_code(
            client_id, client_secret, params.get("code"), params.get("redirect_uri")
        )
    if grant_type == "refresh_token":
        return runtime.tokens.refresh(client_id, client_secret, params.get("refresh_token"))
    raise errors.UnsupportedGrantType()


def token_response(issued: IssuedToken, runtime: Runtime) -> Response:
    body: dict[str, object] = {
        "access_token": issued.access_token,
        "token_type": "bearer",
    }
    if issued.refresh_token is not None:
        body["refresh_token"] = issued.refresh_token
    body |= {
        "expires_in": issued.expires_in,
        "scope": " ".join(issued.scopes),
        "api_url": runtime.settings.public_api_url(),
    }
    return JSONResponse(body, headers={"cache-control": "no-store", "pragma": "no-cache"})


async def show_consent_page(request: Request) -> Response:
    """Ask which user of the app's account consents, or approve at once when so configured."""
    runtime: Runtime = request.app.state.runtime
    return await runtime.run_blocking(_consent_page, runtime, request)


def _consent_page(runtime: Runtime, request: Request) -> Response:
    runtime.store.refresh()
    params = request.query_params
    app, redirect_uri = _validated_authorization_request(
        runtime, params.get("response_type"), params.get("client_id"), params.get("redirect_uri")
    )
    state = params.get("state")
    if runtime.settings.auto_approve_user:
        user = runtime.tokens.consenting_user(app, runtime.settings.auto_approve_user)
        code = runtime.tokens.create_authorization_code(app, user, redirect_uri)
        return _redirect(redirect_uri, code=code, state=state)

    # TODO: page the user list; the consent page shows the first 1,000 active users.
    candidates = runtime.store.list_users(app.account_id, UserStatus.ACTIVE, "", 1000)
    return HTMLResponse(_consent_html(app, redirect_uri, state, candidates))


async def decide_consent(request: Request) -> Response:
    """Handle the consent form: redirect with a code, or with `error=access_denied`."""
    runtime: Runtime = request.app.state.runtime
    form = await form_parameters(request)
    return await runtime.run_blocking(_decide, runtime, form)


def _decide(runtime: Runtime, form: dict[str, str]) -> Response:
    runtime.store.refresh()
    app, redirect_uri = _validated_authorization_request(
        runtime, "code", form.get("client_id"), form.get("redirect_uri")
    )
    state = form.get("state") or None
    if form.get("decision") != "allow":
        return _redirect(redirect_uri, error="access_denied", state=state)
    user = runtime.tokens.consenting_user(app, form.get("user_id", ""))
    code = runtime.tokens.create_authorization_code(app, user, redirect_uri)
    return _redirect(redirect_uri, code=code, state=state)


def client_credentials(request: Request) -> tuple[str, str]:
    """Read `client_id:client_secret` from the HTTP Basic `Authorization` header."""
    scheme, _, encoded = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() != "basic":
        raise errors.InvalidClient()
    try:
        decoded = base64.b64decode(encoded.strip(), validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError) as exc:
        raise errors.InvalidClient() from exc
    client_id, separator, client_secret = decoded.partition(":")
    if not separator or not client_id:
        raise errors.InvalidClient()
    # RFC 6749 section 2.3.1 form-encodes both parts before Base64; plain values pass unchanged.
    return unquote(client_id), unquote(client_secret)


async def form_parameters(request: Request) -> dict[str, str]:
    """Merge the query string and a form-encoded body; the body wins where both set a field."""
    params = dict(request.query_params)
    body = await request.body()
    if len(body) > MAX_FORM_BYTES:
        raise errors.InvalidRequest("The request body is too large")
    if body:
        try:
            text = body.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise errors.InvalidRequest("The request body is not valid UTF-8") from exc
        params.update(parse_qsl(text, keep_blank_values=True))
    return params


def _validated_authorization_request(
    runtime: Runtime, response_type: str | None, client_id: str | None, redirect_uri: str | None
) -> tuple[App, str]:
    # Errors here are never redirected: the redirect URI is not trusted until it matches.
    if response_type != "code":
        raise errors.OAuthError("unsupported_response_type", "Unsupported response_type")
    app = runtime.tokens.user_app(client_id)
    return app, runtime.tokens.redirect_uri_for(app, redirect_uri)


def _redirect(redirect_uri: str, **params: str | None) -> Response:
    parts = urlsplit(redirect_uri)
    query = parse_qsl(parts.query, keep_blank_values=True)
    query += [(name, value) for name, value in params.items() if value is not None]
    return RedirectResponse(urlunsplit(parts._replace(query=urlencode(query))), status_code=302)


def _consent_html(app: App, redirect_uri: str, state: str | None, candidates: list[User]) -> str:
    options = "\n".join(
        f'<label><input type="radio" name="user_id" value="{escape(user.id)}"'
        f"{' checked' if index == 0 else ''}> {escape(user.display_name or user.email)} "
        f"&lt;{escape(user.email)}&gt;</label><br>"
        for index, user in enumerate(candidates)
    )
    hidden = {"client_id": app.client_id, "redirect_uri": redirect_uri, "state": state or ""}
    hidden_inputs = "\n".join(
        f'<input type="hidden" name="{name}" value="{escape(value)}">'
        for name, value in hidden.items()
    )
    scopes = ", ".join(escape(scope) for scope in app.scopes) or "no scopes"
    return f"""<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><title>Authorize {escape(app.client_id)} - zoompac</title></head>
<body>
<h1>Authorize app {escape(app.client_id)}</h1>
<p>The app asks for: {scopes}.</p>
<form method="post" action="/oauth/authorize">
{hidden_inputs}
<fieldset><legend>Sign in as</legend>
{options or "<p>This account has no active users.</p>"}
</fieldset>
<button type="submit" name="decision" value="allow">Allow</button>
<button type="submit" name="decision" value="deny">Deny</button>
</form>
</body>
</html>
"""
