"""`GET /v2/users/{userId}/pac`: list a user's PAC accounts."""

from __future__ import annotations

from typing import Any
from urllib.parse import unquote_to_bytes

from starlette.requests import Request
from starlette.responses import Response

from zoompac.domain import errors
from zoompac.domain.models import ConferenceIdFormat, DialInKind, PacAccount
from zoompac.domain.pac import list_pac_accounts
from zoompac.web.responses import JSONResponse
from zoompac.web.runtime import Runtime


async def get_user_pac_accounts(request: Request) -> Response:
    runtime: Runtime = request.app.state.runtime
    grant = runtime.tokens.authenticate(bearer_token(request))
    user_ref = decode_path_segment(request.path_params["user_id"])
    pac_accounts = list_pac_accounts(runtime.store, grant, user_ref)
    body = {
        "pac_accounts": [
            pac_account_body(pac, runtime.conference_id_format) for pac in pac_accounts
        ]
    }
    return JSONResponse(body)


def bearer_token(request: Request) -> str | None:
    """Return the token of an `Authorization: Bearer` header.

    Zoom stopped accepting `?access_token=` in 2023, and such a request fails as if it carried no
    token at all, even when a valid header is present too.
    """
    if "access_token" in request.query_params:
        raise errors.InvalidAccessToken()
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() != "bearer":
        return None
    return token.strip() or None


def decode_path_segment(raw: str) -> str:
    """Percent-decode one path segment as UTF-8; a segment that is not valid UTF-8 stays encoded."""
    try:
        return unquote_to_bytes(raw).decode("utf-8")
    except UnicodeDecodeError:
        return raw


def pac_account_body(pac: PacAccount, conference_id_format: ConferenceIdFormat) -> dict[str, Any]:
    # Key order follows the sample response that Zoom publishes for this endpoint.
    conference_id: int | str = pac.conference_id
    if conference_id_format is ConferenceIdFormat.STRING:
        conference_id = str(pac.conference_id)
    return {
        "dedicated_dial_in_number": [
            {"number": n.number, "country": n.country} for n in pac.numbers_of(DialInKind.DEDICATED)
        ],
        "global_dial_in_numbers": [
            {"number": n.number, "country": n.country} for n in pac.numbers_of(DialInKind.GLOBAL)
        ],
        "conference_id": conference_id,
        "participant_password": pac.participant_password,
        "listen_only_password": pac.listen_only_password,
    }
