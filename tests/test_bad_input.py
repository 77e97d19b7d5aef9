"""Hostile and malformed `userId` values and headers get Zoom's JSON errors, never a 500.

Requests go over a raw socket, so the request target reaches the server exactly as written here.
httpx would remove dot segments and re-encode some bytes.
"""

from __future__ import annotations

from importlib import resources
from urllib.parse import quote

import httpx
import pytest
import yaml
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from tests.helpers import (
    CONTRACT_FIXTURE,
    INVALID_TOKEN,
    ROUTE_NOT_RECOGNIZED,
    SEED_BODY,
    TRACKING_ID,
    RawResponse,
    assert_zoom_error,
    bearer,
    raw_request,
    user_not_found,
)
from tests.server import ServerProcess

SLASH_USER_BODY = {
    "pac_accounts": [
        {
            "dedicated_dial_in_number": [],
            "global_dial_in_numbers": [],
            "conference_id": "555555",
            "participant_password": "5555",
            "listen_only_password": "5556",
        }
    ]
}
UNICODE_USER_BODY = {
    "pac_accounts": [
        {
            "dedicated_dial_in_number": [],
            "global_dial_in_numbers": [],
            "conference_id": "666666",
            "participant_password": "6666",
            "listen_only_password": "6667",
        }
    ]
}


def known_user_refs() -> set[str]:
    """Return every user id, lower-cased e-mail and `me` that the contract server resolves."""
    demo = resources.files("zoompac").joinpath("fixtures/demo.yaml").read_text(encoding="utf-8")
    refs = {"me"}
    for text in (demo, CONTRACT_FIXTURE.read_text(encoding="utf-8")):
        for account in yaml.safe_load(text)["accounts"]:
            for user in account.get("users", []):
                refs.update({user["id"], user["email"].lower()})
    return refs


KNOWN_USER_REFS = known_user_refs()


@pytest.fixture(scope="module")
def token(contract_server: ServerProcess) -> str:
    """A demo-app token for the shared contract server, which has rate limits off."""
    return contract_server.token()


def get_segment(server: ServerProcess, segment: bytes, token: str) -> RawResponse:
    return raw_request(server.port, b"/v2/users/" + segment + b"/pac", headers=bearer(token))


def assert_envelope(response: RawResponse) -> None:
    """Check that a response is a Zoom JSON error, whatever its code."""
    assert response.headers["content-type"] == "application/json"
    assert set(response.json()) == {"code", "message"}
    assert TRACKING_ID.fullmatch(response.headers["x-zm-trackingid"])


# --- percent-encoding and path tricks ---------------------------------------------------------


def test_long_user_ref(contract_server: ServerProcess, token: str) -> None:
    user_ref = "x" * 10_240
    response = get_segment(contract_server, user_ref.encode(), token)
    assert_zoom_error(response, 404, user_not_found(user_ref))


def test_very_long_user_ref(contract_server: ServerProcess, token: str) -> None:
    # A request line beyond what the server accepts must still get a JSON error.
    response = get_segment(contract_server, b"x" * 100_000, token)
    assert 400 <= response.status_code < 500
    assert_envelope(response)


@pytest.mark.parametrize(
    ("segment", "user_ref"),
    [
        pytest.param(b"%zz", "%zz", id="invalid_escape"),
        pytest.param(b"%", "%", id="lone_percent"),
        pytest.param(b"abc%2", "abc%2", id="truncated_escape"),
        pytest.param(b"%FF%FE", "%FF%FE", id="not_utf8"),
        pytest.param(b"%C3%28", "%C3%28", id="bad_utf8_continuation"),
        pytest.param(b"%ED%A0%80", "%ED%A0%80", id="utf8_surrogate"),
    ],
)
def test_undecodable_user_ref_kept_as_sent(
    contract_server: ServerProcess, token: str, segment: bytes, user_ref: str
) -> None:
    assert_zoom_error(get_segment(contract_server, segment, token), 404, user_not_found(user_ref))


@pytest.mark.parametrize(
    ("segment", "user_ref"),
    [
        pytest.param(b"..%2F", "../", id="dot_dot_slash"),
        pytest.param(b"..%2F..%2Foauth%2Ftoken", "../../oauth/token", id="climb_to_oauth"),
        pytest.param(b"%2E%2E", "..", id="encoded_dot_dot"),
        pytest.param(b"a%2Fb@example.com", "a/b@example.com", id="slash_in_email"),
        pytest.param(b"%00", "\x00", id="nul"),
        pytest.param(b"pac.user@example.com%00", "pac.user@example.com\x00", id="nul_suffix"),
        pytest.param(b"%0D%0AX-Injected:%201", "\r\nX-Injected: 1", id="crlf"),
    ],
)
def test_encoded_path_tricks(
    contract_server: ServerProcess, token: str, segment: bytes, user_ref: str
) -> None:
    assert_zoom_error(get_segment(contract_server, segment, token), 404, user_not_found(user_ref))


def test_crlf_adds_no_header(contract_server: ServerProcess, token: str) -> None:
    response = get_segment(contract_server, b"%0D%0AX-Injected:%201", token)
    assert "x-injected" not in response.headers


def test_raw_dot_dot_segment(contract_server: ServerProcess, token: str) -> None:
    # Either routing outcome is acceptable: the user ".." or a path without a user.
    response = raw_request(contract_server.port, b"/v2/users/../pac", headers=bearer(token))
    assert response.status_code == 404
    assert_envelope(response)


def test_encoded_slash_other_account(contract_server: ServerProcess, token: str) -> None:
    # The contract fixture's `slash/user@example.com` belongs to another account.
    response = get_segment(contract_server, b"slash%2Fuser%40example.com", token)
    assert_zoom_error(
        response, 400, {"code": 1010, "message": "User does not belong to this account."}
    )


def test_encoded_slash_own_account(contract_server: ServerProcess) -> None:
    token = contract_server.token("contract-admin", "contract-secret", "contract-account")
    response = get_segment(contract_server, b"slash%2Fuser%40example.com", token)
    assert response.json() == SLASH_USER_BODY


def test_empty_segment(contract_server: ServerProcess, token: str) -> None:
    response = raw_request(contract_server.port, b"/v2/users//pac", headers=bearer(token))
    assert_zoom_error(response, 404, ROUTE_NOT_RECOGNIZED)


# --- SQL and pattern metacharacters -----------------------------------------------------------


@pytest.mark.parametrize(
    "user_ref",
    [
        "' OR 1=1 --",
        '"; DROP TABLE users; --',
        "x' OR '1'='1'@example.com",
        "%@example.com",
        "_ac.user@example.com",
        "pac.user@example.com' --",
        "*",
    ],
)
def test_sql_metacharacters(contract_server: ServerProcess, token: str, user_ref: str) -> None:
    response = get_segment(contract_server, quote(user_ref, safe="").encode(), token)
    assert_zoom_error(response, 404, user_not_found(user_ref))


def test_sql_drop_table_harmless(contract_server: ServerProcess, token: str) -> None:
    get_segment(contract_server, quote('"; DROP TABLE users; --', safe="").encode(), token)
    response = get_segment(contract_server, b"pac.user@example.com", token)
    assert response.json() == SEED_BODY


# --- unicode e-mails --------------------------------------------------------------------------


UNICODE_EMAIL = "jörg.müller@example.com"


def test_unicode_email_encoded(contract_server: ServerProcess) -> None:
    token = contract_server.token("contract-admin", "contract-secret", "contract-account")
    response = get_segment(contract_server, quote(UNICODE_EMAIL).encode(), token)
    assert response.json() == UNICODE_USER_BODY


def test_unicode_email_upper_case(contract_server: ServerProcess) -> None:
    token = contract_server.token("contract-admin", "contract-secret", "contract-account")
    response = get_segment(contract_server, quote(UNICODE_EMAIL.upper()).encode(), token)
    assert response.json() == UNICODE_USER_BODY


@pytest.mark.parametrize(
    "segment",
    [
        pytest.param(UNICODE_EMAIL.encode(), id="utf8_email"),
        pytest.param(b"\xff\xfe", id="not_utf8"),
        pytest.param(b"a b", id="space"),
        pytest.param(b"a\tb", id="tab"),
        pytest.param(b"\x00", id="nul"),
    ],
)
def test_raw_bytes_in_path(contract_server: ServerProcess, token: str, segment: bytes) -> None:
    # Bytes outside printable ASCII are invalid in a request target unless percent-encoded.
    response = get_segment(contract_server, segment, token)
    assert response.status_code == 400
    assert_envelope(response)


@pytest.mark.parametrize("user_ref", ["用户@例子.广告", "😀@example.com", "ﬁ@example.com"])
def test_unknown_unicode_email(contract_server: ServerProcess, token: str, user_ref: str) -> None:
    response = get_segment(contract_server, quote(user_ref).encode(), token)
    assert_zoom_error(response, 404, user_not_found(user_ref))


# --- oversized headers ------------------------------------------------------------------------


def test_huge_header_rejected(contract_server: ServerProcess, token: str) -> None:
    response = raw_request(
        contract_server.port,
        b"/v2/users/pac.user@example.com/pac",
        headers=bearer(token),
        extra_header_lines=b"X-Padding: " + b"a" * 1_000_000 + b"\r\n",
    )
    assert 400 <= response.status_code < 500
    assert_envelope(response)


def test_many_headers_rejected(contract_server: ServerProcess, token: str) -> None:
    response = raw_request(
        contract_server.port,
        b"/v2/users/pac.user@example.com/pac",
        headers=bearer(token),
        extra_header_lines=b"".join(b"X-Padding-%d: aaaaaaaa\r\n" % i for i in range(5000)),
    )
    assert 400 <= response.status_code < 500
    assert_envelope(response)


# --- protocol upgrades --------------------------------------------------------------------------

WEBSOCKET_UPGRADE = b"Connection: Upgrade\r\nUpgrade: websocket\r\n"
WEBSOCKET_HANDSHAKE = (
    WEBSOCKET_UPGRADE
    + b"Sec-WebSocket-Version: 13\r\n"
    + b"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
)


@pytest.mark.parametrize(
    "upgrade", [WEBSOCKET_UPGRADE, WEBSOCKET_HANDSHAKE], ids=["bare", "handshake"]
)
def test_websocket_upgrade_gets_http(
    contract_server: ServerProcess, token: str, upgrade: bytes
) -> None:
    # Zoom's REST API has no WebSocket, so the request gets the response it would get without
    # the upgrade headers.
    response = raw_request(
        contract_server.port,
        b"/v2/users/pac.user@example.com/pac",
        headers=bearer(token),
        extra_header_lines=upgrade,
    )
    assert response.status_code == 200
    assert response.json() == SEED_BODY


@pytest.mark.parametrize(
    ("target", "status", "error"),
    [
        (b"/v2/users/pac.user@example.com/pac", 401, INVALID_TOKEN),
        (b"/v2/nowhere", 404, ROUTE_NOT_RECOGNIZED),
    ],
    ids=["pac_without_token", "unknown_route"],
)
def test_websocket_upgrade_error(
    contract_server: ServerProcess, target: bytes, status: int, error: dict[str, object]
) -> None:
    response = raw_request(contract_server.port, target, extra_header_lines=WEBSOCKET_HANDSHAKE)
    assert_zoom_error(response, status, error)


def test_websocket_upgrade_not_logged(contract_server: ServerProcess) -> None:
    raw_request(contract_server.port, b"/v2/users/me/pac", extra_header_lines=WEBSOCKET_HANDSHAKE)
    # uvicorn would warn twice per such request and advise installing a WebSocket library.
    assert "upgrade" not in contract_server.log().lower()
    assert "websocket" not in contract_server.log().lower()


def test_serves_after_huge_header(contract_server: ServerProcess, token: str) -> None:
    raw_request(
        contract_server.port,
        b"/v2/users/pac.user@example.com/pac",
        extra_header_lines=b"X-Padding: " + b"a" * 1_000_000 + b"\r\n",
    )
    response = httpx.get(
        f"{contract_server.api_url}/users/pac.user@example.com/pac", headers=bearer(token)
    )
    assert response.status_code == 200


# --- properties -------------------------------------------------------------------------------


user_refs = st.text(st.characters(codec="utf-8"), min_size=1, max_size=40).filter(
    lambda text: text not in KNOWN_USER_REFS and text.lower() not in KNOWN_USER_REFS
)


@settings(max_examples=200, deadline=None, database=None)
@given(user_ref=user_refs)
def test_any_unknown_user_ref(contract_server: ServerProcess, token: str, user_ref: str) -> None:
    response = get_segment(contract_server, quote(user_ref, safe="").encode(), token)
    assert_zoom_error(response, 404, user_not_found(user_ref))


def expected_user_ref(raw: bytes) -> str:
    """Return the `userId` the server reports: decoded UTF-8, or the escapes as sent."""
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        return "".join(f"%{byte:02X}" for byte in raw)


@settings(max_examples=200, deadline=None, database=None)
@given(raw=st.binary(min_size=1, max_size=40))
def test_any_encoded_bytes(contract_server: ServerProcess, token: str, raw: bytes) -> None:
    user_ref = expected_user_ref(raw)
    assume(user_ref not in KNOWN_USER_REFS and user_ref.lower() not in KNOWN_USER_REFS)
    segment = "".join(f"%{byte:02X}" for byte in raw).encode()
    assert_zoom_error(get_segment(contract_server, segment, token), 404, user_not_found(user_ref))
