"""`GET /v2/users/{userId}/pac`: list a user's PAC accounts."""

from __future__ import annotations

import functools
from typing import Any

import orjson
from starlette.requests import Request
from starlette.responses import Response

from zoompac.domain.models import ConferenceIdFormat, DialInKind, Grant, PacAccount
from zoompac.domain.pac import list_pac_accounts
from zoompac.domain.ratelimits import Label
from zoompac.web.endpoint import user_ref_param, zoom_api
from zoompac.web.runtime import Runtime


@zoom_api(Label.LIGHT)
def get_user_pac_accounts(request: Request, runtime: Runtime, grant: Grant) -> Response:
    pac_accounts = list_pac_accounts(runtime.store, grant, user_ref_param(request))
    body = encoded_body(tuple(pac_accounts), runtime.conference_id_format)
    return Response(body, media_type="application/json")


@functools.lru_cache(maxsize=4096)
def encoded_body(
    pac_accounts: tuple[PacAccount, ...], conference_id_format: ConferenceIdFormat
) -> bytes:
    """Encode a PAC account list once; the frozen `PacAccount` values are the cache key."""
    body = {"pac_accounts": [pac_account_body(pac, conference_id_format) for pac in pac_accounts]}
    return orjson.dumps(body)


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
