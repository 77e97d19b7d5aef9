"""HTTP contract of `GET /v2/users/{userId}/pac`, checked against real server processes."""

from __future__ import annotations

import json
import re
import secrets
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import httpx
import jwt
import pytest

from tests.helpers import (
    ACCOUNT_PAC_DISABLED,
    CONTRACT_ACCOUNT,
    CONTRACT_FIXTURE,
    CONTRACT_SECRET,
    EXPIRED_TOKEN,
    INVALID_TOKEN,
    MISSING_ADMIN_SCOPE,
    MISSING_PAC_SCOPES,
    PAC_ACCOUNT_KEYS,
    ROUTE_NOT_RECOGNIZED,
    SEED_BODY,
    TRACKING_ID,
    USER_NOT_IN_ACCOUNT,
    USER_PAC_DISABLED,
    assert_zoom_error,
    bearer,
    load_fixture_file,
    raw_request,
    user_not_found,
)
from tests.server import ServerProcess

TokenFactory = Callable[..., str]

SEED_USER = "pac.user@example.com"
SEED_USER_ID = "pYqg5uJ8QjWkS3d0lX7n2A"
OTHER_ACCOUNT_USER = "other.user@example.com"
OTHER_ACCOUNT_USER_ID = "otherUser0000000000001"
UNKNOWN_USER = "nobody@example.com"
MULTI_PAC_BODY = {
    "pac_accounts": [
        {
            "dedicated_dial_in_number": [
                {"number": "15550100003", "country": "US"},
                {"number": "442071000001", "country": "GB"},
            ],
            "global_dial_in_numbers": [
                {"number": "4930100000", "country": "DE"},
                {"number": "15550100001", "country": "US"},
                {"number": "33100000002", "country": "FR"},
            ],
            "conference_id": "333333",
            "participant_password": "1111",
            "listen_only_password": "2222",
        },
        {
            "dedicated_dial_in_number": [],
            "global_dial_in_numbers": [{"number": "81300000009", "country": "JP"}],
            "conference_id": "444444",
            "participant_password": "3333",
            "listen_only_password": "4444",
        },
    ]
}
PLUS_USER_BODY = {
    "pac_accounts": [
        {
            "dedicated_dial_in_number": [{"number": "15550000001", "country": "US"}],
            "global_dial_in_numbers": [],
            "conference_id": "222222",
            "participant_password": "123456",
            "listen_only_password": "654321",
        }
    ]
}


def get_pac(
    server: ServerProcess, user_ref: str, token: str, params: dict[str, str] | None = None
) -> httpx.Response:
    return httpx.get(f"{server.api_url}/users/{user_ref}/pac", headers=bearer(token), params=params)


def get_pac_raw(server: ServerProcess, segment: bytes, token: str) -> httpx.Response:
    """Send `segment` as the userId exactly as given; httpx would re-encode some forms."""
    response = raw_request(server.port, b"/v2/users/" + segment + b"/pac", headers=bearer(token))
    return httpx.Response(response.status_code, headers=response.headers, content=response.body)


def admin_token(contract_token: TokenFactory, account_id: str) -> str:
    """Mint a token of the `<account>-admin` app that the contract fixture gives each account."""
    return contract_token(f"{account_id}-admin", account_id)


@pytest.fixture(scope="module")
def token(contract_server: ServerProcess) -> str:
    """A token of the demo app, whose scope is `pac:read:admin`."""
    return contract_server.token()


# --- 200 bodies --------------------------------------------------------------------------------


def test_seed_user_status(contract_server: ServerProcess, token: str) -> None:
    assert get_pac(contract_server, SEED_USER, token).status_code == 200


def test_seed_user_body(contract_server: ServerProcess, token: str) -> None:
    assert get_pac(contract_server, SEED_USER, token).json() == SEED_BODY


def test_seed_user_key_order(contract_server: ServerProcess, token: str) -> None:
    body = json.loads(get_pac(contract_server, SEED_USER, token).text)
    assert list(body["pac_accounts"][0]) == PAC_ACCOUNT_KEYS


def test_seed_user_top_level_keys(contract_server: ServerProcess, token: str) -> None:
    assert list(get_pac(contract_server, SEED_USER, token).json()) == ["pac_accounts"]


def test_seed_user_number_keys(contract_server: ServerProcess, token: str) -> None:
    pac_account = get_pac(contract_server, SEED_USER, token).json()["pac_accounts"][0]
    assert list(pac_account["dedicated_dial_in_number"][0]) == ["number", "country"]


def test_seed_user_content_type(contract_server: ServerProcess, token: str) -> None:
    response = get_pac(contract_server, SEED_USER, token)
    assert response.headers["content-type"] == "application/json"


def test_seed_user_tracking_id(contract_server: ServerProcess, token: str) -> None:
    response = get_pac(contract_server, SEED_USER, token)
    assert TRACKING_ID.fullmatch(response.headers["x-zm-trackingid"])


def test_tracking_id_differs_per_response(contract_server: ServerProcess, token: str) -> None:
    first = get_pac(contract_server, SEED_USER, token).headers["x-zm-trackingid"]
    second = get_pac(contract_server, SEED_USER, token).headers["x-zm-trackingid"]
    assert first != second


def test_conference_id_string_by_default(contract_server: ServerProcess, token: str) -> None:
    body = json.loads(get_pac(contract_server, SEED_USER, token).text)
    assert body["pac_accounts"][0]["conference_id"] == "111111"


@pytest.fixture(scope="module")
def integer_response(tmp_path_factory: pytest.TempPathFactory) -> Iterator[httpx.Response]:
    """The seed user's response from a server set to send `conference_id` as a JSON integer."""
    server = ServerProcess(
        tmp_path_factory.mktemp("integer-ids"), args=["--demo", "--conference-id-format", "integer"]
    ).start()
    yield get_pac(server, SEED_USER, server.token())
    server.stop()


def test_conference_id_integer_format(integer_response: httpx.Response) -> None:
    expected = json.loads(json.dumps(SEED_BODY).replace('"111111"', "111111"))
    assert integer_response.json() == expected


def test_conference_id_integer_json_type(integer_response: httpx.Response) -> None:
    assert type(integer_response.json()["pac_accounts"][0]["conference_id"]) is int


def test_conference_id_integer_key_order(integer_response: httpx.Response) -> None:
    assert list(json.loads(integer_response.text)["pac_accounts"][0]) == PAC_ACCOUNT_KEYS


def test_pac_on_without_accounts(contract_server: ServerProcess, token: str) -> None:
    response = get_pac(contract_server, "empty.user@example.com", token)
    assert (response.status_code, response.json()) == (200, {"pac_accounts": []})


def test_two_pac_accounts_keep_order(
    contract_server: ServerProcess, contract_token: TokenFactory
) -> None:
    response = get_pac(contract_server, "multi.pac@example.com", contract_token("contract-admin"))
    assert response.json() == MULTI_PAC_BODY


def test_business_plan_allowed(
    contract_server: ServerProcess, contract_token: TokenFactory
) -> None:
    token = admin_token(contract_token, "business-account")
    response = get_pac(contract_server, "business.user@example.com", token)
    assert response.status_code == 200


# --- userId forms ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "segment",
    [
        pytest.param(SEED_USER_ID.encode(), id="user_id"),
        pytest.param(b"pac.user@example.com", id="raw_at"),
        pytest.param(b"PAC.User@Example.COM", id="mixed_case"),
        pytest.param(b"pac.user%40example.com", id="percent_encoded_at"),
        pytest.param(b"PAC.USER%40EXAMPLE.COM", id="upper_case_percent_encoded"),
        pytest.param(b"%70%61%63%2E%75%73%65%72%40example.com", id="every_letter_encoded"),
    ],
)
def test_user_ref_forms(contract_server: ServerProcess, token: str, segment: bytes) -> None:
    assert get_pac_raw(contract_server, segment, token).json() == SEED_BODY


@pytest.mark.parametrize(
    "segment",
    [
        pytest.param(b"a+b@example.com", id="raw_plus"),
        pytest.param(b"a%2Bb%40example.com", id="encoded_plus"),
        pytest.param(b"A+B@EXAMPLE.COM", id="upper_case"),
    ],
)
def test_plus_in_email(
    contract_server: ServerProcess, contract_token: TokenFactory, segment: bytes
) -> None:
    response = get_pac_raw(contract_server, segment, contract_token("contract-admin"))
    assert response.json() == PLUS_USER_BODY


def test_plus_is_not_space(contract_server: ServerProcess, contract_token: TokenFactory) -> None:
    response = get_pac_raw(contract_server, b"a%20b@example.com", contract_token("contract-admin"))
    assert_zoom_error(response, 404, user_not_found("a b@example.com"))


# --- unknown users, `me`, other accounts -------------------------------------------------------


def test_me_with_s2s_token(contract_server: ServerProcess, token: str) -> None:
    assert_zoom_error(get_pac(contract_server, "me", token), 404, user_not_found("me"))


def test_unknown_email(contract_server: ServerProcess, token: str) -> None:
    response = get_pac(contract_server, UNKNOWN_USER, token)
    assert_zoom_error(response, 404, user_not_found(UNKNOWN_USER))


def test_unknown_email_keeps_case(contract_server: ServerProcess, token: str) -> None:
    response = get_pac(contract_server, "No.Body@Example.com", token)
    assert_zoom_error(response, 404, user_not_found("No.Body@Example.com"))


def test_unknown_user_id(contract_server: ServerProcess, token: str) -> None:
    response = get_pac(contract_server, "zzzzzzzzzzzzzzzzzzzzzz", token)
    assert_zoom_error(response, 404, user_not_found("zzzzzzzzzzzzzzzzzzzzzz"))


def test_user_id_in_wrong_case(contract_server: ServerProcess, token: str) -> None:
    response = get_pac(contract_server, SEED_USER_ID.lower(), token)
    assert_zoom_error(response, 404, user_not_found(SEED_USER_ID.lower()))


def test_seed_path_variable(contract_server: ServerProcess, token: str) -> None:
    response = get_pac(contract_server, "quis officia in reprehenderit", token)
    assert_zoom_error(response, 404, user_not_found("quis officia in reprehenderit"))


def test_unknown_encoded_email_decoded(contract_server: ServerProcess, token: str) -> None:
    response = get_pac_raw(contract_server, b"nobody%40example.com", token)
    assert_zoom_error(response, 404, user_not_found(UNKNOWN_USER))


@pytest.mark.parametrize("user_ref", [OTHER_ACCOUNT_USER, OTHER_ACCOUNT_USER_ID])
def test_user_of_other_account(contract_server: ServerProcess, token: str, user_ref: str) -> None:
    assert_zoom_error(get_pac(contract_server, user_ref, token), 400, USER_NOT_IN_ACCOUNT)


def test_demo_user_from_other_account(
    contract_server: ServerProcess, contract_token: TokenFactory
) -> None:
    response = get_pac(contract_server, SEED_USER, admin_token(contract_token, "other-account"))
    assert_zoom_error(response, 400, USER_NOT_IN_ACCOUNT)


# --- account and user prerequisites ------------------------------------------------------------


@pytest.mark.parametrize(
    ("account_id", "user_ref"),
    [
        pytest.param("no-audio-account", "no.audio@example.com", id="no_audio_conferencing"),
        pytest.param("pac-off-account", "pac.off@example.com", id="account_pac_off"),
        pytest.param("free-account", "free.user@example.com", id="free_plan"),
        pytest.param("basic-account", "basic.user@example.com", id="basic_plan"),
    ],
)
def test_account_without_pac(
    contract_server: ServerProcess, contract_token: TokenFactory, account_id: str, user_ref: str
) -> None:
    response = get_pac(contract_server, user_ref, admin_token(contract_token, account_id))
    assert_zoom_error(response, 400, ACCOUNT_PAC_DISABLED)


def test_user_pac_off(contract_server: ServerProcess, token: str) -> None:
    response = get_pac(contract_server, "nopac.user@example.com", token)
    assert_zoom_error(response, 400, USER_PAC_DISABLED)


def test_user_pac_off_by_id(contract_server: ServerProcess, token: str) -> None:
    response = get_pac(contract_server, "nQ4cF0rTe2mWbV8hZ1kJ6g", token)
    assert_zoom_error(response, 400, USER_PAC_DISABLED)


# --- scopes ------------------------------------------------------------------------------------


@pytest.mark.parametrize("client_id", ["contract-other-scope", "contract-no-scope"])
@pytest.mark.parametrize("user_ref", ["a+b@example.com", "me"])
def test_token_without_pac_scope(
    contract_server: ServerProcess, contract_token: TokenFactory, client_id: str, user_ref: str
) -> None:
    response = get_pac(contract_server, user_ref, contract_token(client_id))
    assert_zoom_error(response, 400, MISSING_PAC_SCOPES)


@pytest.mark.parametrize("client_id", ["contract-user-scope", "contract-granular-user"])
@pytest.mark.parametrize("user_ref", ["a+b@example.com", "plusUser000000000000001"])
def test_user_scope_asks_for_user_id(
    contract_server: ServerProcess, contract_token: TokenFactory, client_id: str, user_ref: str
) -> None:
    response = get_pac(contract_server, user_ref, contract_token(client_id))
    assert_zoom_error(response, 400, MISSING_ADMIN_SCOPE)


def test_user_scope_s2s_token_asks_for_me(
    contract_server: ServerProcess, contract_token: TokenFactory
) -> None:
    response = get_pac(contract_server, "me", contract_token("contract-user-scope"))
    assert_zoom_error(response, 404, user_not_found("me"))


def test_granular_admin_scope(contract_server: ServerProcess, contract_token: TokenFactory) -> None:
    token = contract_token("contract-granular-admin")
    assert get_pac(contract_server, "a+b@example.com", token).json() == PLUS_USER_BODY


def test_granular_admin_scope_other_account(
    contract_server: ServerProcess, contract_token: TokenFactory
) -> None:
    token = contract_token("contract-granular-admin")
    response = get_pac(contract_server, OTHER_ACCOUNT_USER, token)
    assert_zoom_error(response, 400, USER_NOT_IN_ACCOUNT)


# --- invalid tokens ----------------------------------------------------------------------------


def forge_token(valid_token: str) -> str:
    """Re-sign a valid token's claims, its `jti` included, with a key of our own."""
    claims = jwt.decode(valid_token, options={"verify_signature": False})
    return jwt.encode(claims, secrets.token_bytes(64), algorithm="HS512")


def unsigned_token(valid_token: str) -> str:
    claims = jwt.decode(valid_token, options={"verify_signature": False})
    return jwt.encode(claims, "", algorithm="none")


@pytest.mark.parametrize(
    "authorization",
    [
        pytest.param(None, id="missing_header"),
        pytest.param("Bearer", id="bearer_without_token"),
        pytest.param("Basic ZGVtby1jbGllbnQ6ZGVtby1zZWNyZXQ=", id="basic_scheme"),
        pytest.param("Token {token}", id="other_scheme"),
        pytest.param("{token}", id="token_without_scheme"),
        pytest.param("Bearer garbage", id="garbage"),
        pytest.param("Bearer a.b.c", id="three_garbage_parts"),
        pytest.param("Bearer {token}x", id="tampered_signature"),
        pytest.param("Bearer {token} {token}", id="token_twice"),
    ],
)
def test_invalid_authorization(
    contract_server: ServerProcess, token: str, authorization: str | None
) -> None:
    headers = {} if authorization is None else {"Authorization": authorization.format(token=token)}
    response = httpx.get(f"{contract_server.api_url}/users/{SEED_USER}/pac", headers=headers)
    assert_zoom_error(response, 401, INVALID_TOKEN)


def test_bearer_with_blank_token(contract_server: ServerProcess) -> None:
    # httpx rejects a header value that ends in a space, so this one goes over a raw socket.
    response = raw_request(
        contract_server.port,
        f"/v2/users/{SEED_USER}/pac".encode(),
        extra_header_lines=b"Authorization: Bearer    \r\n",
    )
    assert_zoom_error(response, 401, INVALID_TOKEN)


def test_token_signed_with_other_key(contract_server: ServerProcess, token: str) -> None:
    response = get_pac(contract_server, SEED_USER, forge_token(token))
    assert_zoom_error(response, 401, INVALID_TOKEN)


def test_unsigned_token(contract_server: ServerProcess, token: str) -> None:
    response = get_pac(contract_server, SEED_USER, unsigned_token(token))
    assert_zoom_error(response, 401, INVALID_TOKEN)


@pytest.mark.parametrize("algorithm", ["RS256", "PS512", "ES256", "EdDSA"])
def test_token_with_asymmetric_algorithm(
    contract_server: ServerProcess, token: str, algorithm: str
) -> None:
    # The server process goes without `cryptography`, so its PyJWT offers no asymmetric
    # algorithm. Such a token must still be an invalid token, not a server error.
    header = jwt.utils.base64url_encode(json.dumps({"alg": algorithm, "typ": "JWT"}).encode())
    claims = token.split(".")[1]
    signature = jwt.utils.base64url_encode(secrets.token_bytes(64))
    asymmetric = b".".join([header, claims.encode(), signature]).decode()
    response = get_pac(contract_server, SEED_USER, asymmetric)
    assert_zoom_error(response, 401, INVALID_TOKEN)


def test_token_of_other_server(contract_server: ServerProcess, demo_token: str) -> None:
    # Both servers hold the same demo app, but each database has its own signing key.
    response = get_pac(contract_server, SEED_USER, demo_token)
    assert_zoom_error(response, 401, INVALID_TOKEN)


def test_token_in_query_string(contract_server: ServerProcess, token: str) -> None:
    response = httpx.get(
        f"{contract_server.api_url}/users/{SEED_USER}/pac", params={"access_token": token}
    )
    assert_zoom_error(response, 401, INVALID_TOKEN)


def test_token_in_query_and_header(contract_server: ServerProcess, token: str) -> None:
    response = get_pac(contract_server, SEED_USER, token, {"access_token": token})
    assert_zoom_error(response, 401, INVALID_TOKEN)


def test_invalid_token_for_unknown_user(contract_server: ServerProcess) -> None:
    response = get_pac(contract_server, UNKNOWN_USER, "garbage")
    assert_zoom_error(response, 401, INVALID_TOKEN)


# --- expired tokens ----------------------------------------------------------------------------


@dataclass
class ExpiredTokens:
    server: ServerProcess
    admin: str
    no_scope: str


@pytest.fixture(scope="module")
def expired(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ExpiredTokens]:
    """Tokens of a server whose tokens live one second, minted and then left to expire."""
    server = ServerProcess(
        tmp_path_factory.mktemp("short-tokens"), args=["--demo", "--token-lifetime", "1"]
    )
    load_fixture_file(server.database_url, CONTRACT_FIXTURE)
    server.start()
    tokens = ExpiredTokens(
        server,
        admin=server.token(),
        no_scope=server.token("contract-no-scope", CONTRACT_SECRET, CONTRACT_ACCOUNT),
    )
    # A token issued during second t expires at t + 1 at the latest, so 2.1 s later it has expired.
    time.sleep(2.1)
    yield tokens
    server.stop()


def test_expired_token(expired: ExpiredTokens) -> None:
    response = get_pac(expired.server, SEED_USER, expired.admin)
    assert_zoom_error(response, 401, EXPIRED_TOKEN)


def test_expired_token_unknown_user(expired: ExpiredTokens) -> None:
    response = get_pac(expired.server, UNKNOWN_USER, expired.admin)
    assert_zoom_error(response, 401, EXPIRED_TOKEN)


def test_expired_token_without_scope(expired: ExpiredTokens) -> None:
    response = get_pac(expired.server, SEED_USER, expired.no_scope)
    assert_zoom_error(response, 401, EXPIRED_TOKEN)


# --- several tokens of one app -----------------------------------------------------------------


def test_older_tokens_stay_valid_by_default(contract_server: ServerProcess) -> None:
    first = contract_server.token()
    contract_server.token()
    assert get_pac(contract_server, SEED_USER, first).json() == SEED_BODY


@pytest.fixture(scope="module")
def revoking_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    server = ServerProcess(
        tmp_path_factory.mktemp("revoking"), args=["--demo", "--revoke-older-tokens"]
    ).start()
    yield server
    server.stop()


def test_revoke_older_tokens_first_invalid(revoking_server: ServerProcess) -> None:
    first = revoking_server.token()
    revoking_server.token()
    response = get_pac(revoking_server, SEED_USER, first)
    assert_zoom_error(response, 401, INVALID_TOKEN)


def test_revoke_older_tokens_newest_valid(revoking_server: ServerProcess) -> None:
    revoking_server.token()
    newest = revoking_server.token()
    assert get_pac(revoking_server, SEED_USER, newest).json() == SEED_BODY


# --- order of checks ---------------------------------------------------------------------------


def test_order_scope_before_lookup(
    contract_server: ServerProcess, contract_token: TokenFactory
) -> None:
    response = get_pac(contract_server, UNKNOWN_USER, contract_token("contract-no-scope"))
    assert_zoom_error(response, 400, MISSING_PAC_SCOPES)


def test_order_scope_before_account(
    contract_server: ServerProcess, contract_token: TokenFactory
) -> None:
    response = get_pac(contract_server, OTHER_ACCOUNT_USER, contract_token("contract-no-scope"))
    assert_zoom_error(response, 400, MISSING_PAC_SCOPES)


def test_order_user_scope_before_lookup(
    contract_server: ServerProcess, contract_token: TokenFactory
) -> None:
    response = get_pac(contract_server, UNKNOWN_USER, contract_token("contract-user-scope"))
    assert_zoom_error(response, 400, MISSING_ADMIN_SCOPE)


def test_order_user_scope_before_account(
    contract_server: ServerProcess, contract_token: TokenFactory
) -> None:
    response = get_pac(contract_server, OTHER_ACCOUNT_USER, contract_token("contract-user-scope"))
    assert_zoom_error(response, 400, MISSING_ADMIN_SCOPE)


def test_order_lookup_before_account_pac(
    contract_server: ServerProcess, contract_token: TokenFactory
) -> None:
    token = admin_token(contract_token, "pac-off-account")
    response = get_pac(contract_server, UNKNOWN_USER, token)
    assert_zoom_error(response, 404, user_not_found(UNKNOWN_USER))


def test_order_membership_before_account_pac(
    contract_server: ServerProcess, contract_token: TokenFactory
) -> None:
    # The user's own account has PAC off, but the caller's account is checked first.
    response = get_pac(contract_server, "pac.off@example.com", contract_token("contract-admin"))
    assert_zoom_error(response, 400, USER_NOT_IN_ACCOUNT)


def test_order_account_pac_before_user_pac(
    contract_server: ServerProcess, contract_token: TokenFactory
) -> None:
    token = admin_token(contract_token, "pac-off-account")
    response = get_pac(contract_server, "both.off@example.com", token)
    assert_zoom_error(response, 400, ACCOUNT_PAC_DISABLED)


def test_order_membership_before_user_pac(
    contract_server: ServerProcess, contract_token: TokenFactory
) -> None:
    response = get_pac(contract_server, "nopac.user@example.com", contract_token("contract-admin"))
    assert_zoom_error(response, 400, USER_NOT_IN_ACCOUNT)


# --- unknown routes and wrong methods ----------------------------------------------------------


@pytest.mark.parametrize(
    "path",
    [
        "/",
        "/v2/no-such-resource",
        "/v2/users/me/pac/extra",
        "/v2/users/me/pacs",
        "/v1/users/me/pac",
        "/v2/users//pac",
        "/V2/users/me/pac",
    ],
)
def test_unknown_route(contract_server: ServerProcess, token: str, path: str) -> None:
    response = raw_request(contract_server.port, path.encode(), headers=bearer(token))
    assert_zoom_error(response, 404, ROUTE_NOT_RECOGNIZED)


@pytest.mark.parametrize("method", ["POST", "PUT", "DELETE", "PATCH"])
def test_wrong_method(contract_server: ServerProcess, token: str, method: str) -> None:
    response = httpx.request(
        method, f"{contract_server.api_url}/users/{SEED_USER}/pac", headers=bearer(token)
    )
    assert_zoom_error(response, 405, ROUTE_NOT_RECOGNIZED)


@pytest.mark.parametrize("method", ["POST", "PUT", "DELETE", "PATCH"])
def test_wrong_method_allow_header(contract_server: ServerProcess, token: str, method: str) -> None:
    response = httpx.request(
        method, f"{contract_server.api_url}/users/{SEED_USER}/pac", headers=bearer(token)
    )
    assert "GET" in [part.strip() for part in response.headers["allow"].split(",")]


def test_wrong_method_without_token(contract_server: ServerProcess) -> None:
    response = httpx.delete(f"{contract_server.api_url}/users/{SEED_USER}/pac")
    assert_zoom_error(response, 405, ROUTE_NOT_RECOGNIZED)


# --- rate limits -------------------------------------------------------------------------------


RATE_LIMIT_HEADERS = [
    "x-ratelimit-category",
    "x-ratelimit-type",
    "x-ratelimit-limit",
    "x-ratelimit-remaining",
]
QPS_LIMITED = {
    "code": 429,
    "message": "You have reached the maximum per-second rate limit for this API. Try again later.",
}
DAILY_LIMITED = {
    "code": 429,
    "message": (
        "You have reached the maximum daily rate limit for this API. Refer to the response header"
        " for details on when you can make another request."
    ),
}
BURST_SIZE = 20


@pytest.fixture(scope="module")
def limited_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    """A server with Zoom's default rate limits, which the shared contract server turns off."""
    server = ServerProcess(tmp_path_factory.mktemp("rate-limits"), args=["--demo"])
    load_fixture_file(server.database_url, CONTRACT_FIXTURE)
    server.start()
    yield server
    server.stop()


def burst(server: ServerProcess, token: str, user_ref: str) -> list[httpx.Response]:
    """Send back-to-back calls, far more than the Free plan's 4 per second."""
    with httpx.Client(headers=bearer(token)) as client:
        url = f"{server.api_url}/users/{user_ref}/pac"
        return [client.get(url) for _ in range(BURST_SIZE)]


def first_rate_limited(responses: list[httpx.Response]) -> httpx.Response:
    limited = [response for response in responses if response.status_code == 429]
    assert limited, f"Expected a 429 among {len(responses)} calls, but got none"
    return limited[0]


@pytest.fixture(scope="module")
def free_plan_burst(limited_server: ServerProcess) -> list[httpx.Response]:
    token = limited_server.token("free-account-admin", CONTRACT_SECRET, "free-account")
    return burst(limited_server, token, "free.user@example.com")


@pytest.mark.parametrize("header", RATE_LIMIT_HEADERS)
def test_rate_limit_header_on_success(limited_server: ServerProcess, header: str) -> None:
    assert header in get_pac(limited_server, SEED_USER, limited_server.token()).headers


@pytest.mark.parametrize("header", RATE_LIMIT_HEADERS)
def test_rate_limit_header_on_error(limited_server: ServerProcess, header: str) -> None:
    assert header in get_pac(limited_server, UNKNOWN_USER, limited_server.token()).headers


def test_rate_limit_category_light(limited_server: ServerProcess) -> None:
    response = get_pac(limited_server, SEED_USER, limited_server.token())
    assert response.headers.get("x-ratelimit-category") == "Light"


def test_rate_limit_pro_type(limited_server: ServerProcess) -> None:
    response = get_pac(limited_server, SEED_USER, limited_server.token())
    assert response.headers.get("x-ratelimit-type") == "QPS"


def test_rate_limit_pro_per_second(limited_server: ServerProcess) -> None:
    response = get_pac(limited_server, SEED_USER, limited_server.token())
    assert response.headers.get("x-ratelimit-limit") == "30"


def test_rate_limit_business_per_second(limited_server: ServerProcess) -> None:
    token = limited_server.token("business-account-admin", CONTRACT_SECRET, "business-account")
    response = get_pac(limited_server, "business.user@example.com", token)
    assert response.headers.get("x-ratelimit-limit") == "80"


def test_free_plan_burst_limited(free_plan_burst: list[httpx.Response]) -> None:
    assert_zoom_error(first_rate_limited(free_plan_burst), 429, QPS_LIMITED)


def test_free_plan_burst_type(free_plan_burst: list[httpx.Response]) -> None:
    assert first_rate_limited(free_plan_burst).headers.get("x-ratelimit-type") == "QPS"


def test_free_plan_burst_retry_after(free_plan_burst: list[httpx.Response]) -> None:
    assert first_rate_limited(free_plan_burst).headers.get("retry-after", "").isdigit()


def test_free_plan_burst_category(free_plan_burst: list[httpx.Response]) -> None:
    assert first_rate_limited(free_plan_burst).headers.get("x-ratelimit-category") == "Light"


def test_free_plan_allowed_calls_answered(free_plan_burst: list[httpx.Response]) -> None:
    # The calls that pass the limit reach the PAC rules, which reject a Free plan.
    assert_zoom_error(free_plan_burst[0], 400, ACCOUNT_PAC_DISABLED)


@pytest.fixture(scope="module")
def daily_limit_burst(tmp_path_factory: pytest.TempPathFactory) -> Iterator[list[httpx.Response]]:
    server = ServerProcess(
        tmp_path_factory.mktemp("daily-limit"), args=["--rate-limit", "free.light.daily=3"]
    )
    load_fixture_file(server.database_url, CONTRACT_FIXTURE)
    server.start()
    token = server.token("free-account-admin", CONTRACT_SECRET, "free-account")
    responses = burst(server, token, "free.user@example.com")
    yield responses
    server.stop()


def test_daily_limit_fourth_call(daily_limit_burst: list[httpx.Response]) -> None:
    assert_zoom_error(daily_limit_burst[3], 429, DAILY_LIMITED)


def test_daily_limit_type(daily_limit_burst: list[httpx.Response]) -> None:
    assert daily_limit_burst[3].headers.get("x-ratelimit-type") == "Daily-limit"


def test_daily_limit_retry_after_is_utc_midnight(daily_limit_burst: list[httpx.Response]) -> None:
    retry_after = daily_limit_burst[3].headers.get("retry-after", "")
    assert re.fullmatch(r"\d{4}-\d{2}-\d{2}T00:00:00Z", retry_after)


def test_rate_limits_off(contract_server: ServerProcess, contract_token: TokenFactory) -> None:
    # The shared contract server runs with --no-rate-limits.
    responses = burst(
        contract_server, admin_token(contract_token, "free-account"), "free.user@example.com"
    )
    assert [response.status_code for response in responses] == [400] * BURST_SIZE
