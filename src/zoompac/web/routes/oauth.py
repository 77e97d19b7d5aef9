"""`POST /oauth/token`: Zoom's OAuth token endpoint."""

from __future__ import annotations

import base64
import binascii
from urllib.parse import parse_qsl, unquote

from starlette.requests import Request
from starlette.responses import Response

from zoompac.domain import errors
from zoompac.web.responses import JSONResponse

# A token request is a few hundred bytes; anything far larger is not one.
MAX_FORM_BYTES = 64 * 1024


async def issue_token(request: Request) -> Response:
    runtime = request.app.state.runtime
    client_id, client_secret = client_credentials(request)
    params = await token_parameters(request)

    grant_type = params.get("grant_type")
    if not grant_type:
        raise errors.InvalidRequest("Missing grant_type")
    if grant_type != "account_credentials":
        raise errors.UnsupportedGrantType()

    issued = runtime.tokens.issue_account_token(client_id, client_secret, params.get("account_id"))
    body = {
        "access_token": issued.access_token,
        "token_type": "bearer",
        "expires_in": issued.expires_in,
        "scope": " ".join(issued.scopes),
        "api_url": runtime.settings.public_api_url(),
    }
    return JSONResponse(body, headers={"cache-control": "no-store", "pragma": "no-cache"})


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


async def token_parameters(request: Request) -> dict[str, str]:
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
