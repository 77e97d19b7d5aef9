"""`GET /v2/users/{userId}/pac`: list a user's PAC accounts."""

from __future__ import annotations

from typing import Any

import orjson
from starlette.requests import Request
from starlette.responses import Response

from zoompac.domain.models import ConferenceIdFormat, DialInKind, Grant, PacAccount
from zoompac.domain.pac import pac_holder
from zoompac.domain.ratelimits import Label
from zoompac.web.endpoint import user_ref_param, zoom_api
from zoompac.web.runtime import Runtime


@zoom_api(Label.LIGHT)
def get_user_pac_accounts(request: Request, runtime: Runtime, grant: Grant) -> Response:
    body = pac_accounts_body(runtime, grant, user_ref_param(request))
    return Response(body, media_type="application/json")


def pac_accounts_body(runtime: Runtime, grant: Grant, user_ref: str) -> bytes:
    """Apply the PAC rules and return the encoded `{"pac_accounts": [...]}` body."""
    user = pac_holder(runtime.store, grant, user_ref)
    # Read once: the control plane may change the setting from another thread meanwhile.
    conference_id_format = runtime.conference_id_format
    generation = runtime.store.cache_generation()
    if generation is None:
        return encoded_body(runtime.store.list_pac_accounts(user.id), conference_id_format)
    # Read before the data: a body encoded from data that a concurrent commit has replaced
    # carries the older version, so it is never served once the newer one is seen.
    version = (generation, conference_id_format.value)
    body = runtime.pac_bodies.get(user.id, version)
    if body is None:
        body = encoded_body(runtime.store.list_pac_accounts(user.id), conference_id_format)
        runtime.pac_bodies.put(user.id, version, body)
    return body


def encoded_body(pac_accounts: list[PacAccount], conference_id_format: ConferenceIdFormat) -> bytes:
    body = {"pac_accounts": [pac_account_body(pac, conference_id_format) for pac in pac_accounts]}
    # orjson returns its whole working buffer, 4 KiB or more. A copy of the exact size keeps a
    # cached body at its own length.
    return bytes(memoryview(orjson.dumps(body)))


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
