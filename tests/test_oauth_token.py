"""HTTP contract of `POST /oauth/token` for the Server-to-Server `account_credentials` grant.

Every error is status 400 with Zoom's OAuth body `{"reason": ..., "error": ...}`, and the reasons
are asserted word for word.
"""

from __future__ import annotations

import base64
from collections.abc import Callable

import httpx
import pytest

from tests.helpers import (
    CONTRACT_ACCOUNT,
    CONTRACT_SECRET,
    ROUTE_NOT_RECOGNIZED,
    SEED_BODY,
    TRACKING_ID,
    assert_zoom_error,
    bearer,
)
from tests.server import DEMO_ACCOUNT, DEMO_CLIENT_ID, DEMO_CLIENT_SECRET, ServerProcess

ServerFactory = Callable[..., ServerProcess]

GRANT = {"grant_type": "account_credentials", "account_id": DEMO_ACCOUNT}
DEMO_AUTH = (DEMO_CLIENT_ID, DEMO_CLIENT_SECRET)
TOKEN_KEYS = {"access_token", "token_type", "expires_in", "scope", "api_url"}
INVALID_CLIENT = {"reason": "Invalid client_id or client_secret", "error": "invalid_client"}
UNSUPPORTED_GRANT = {"reason": "Unsupported grant type", "error": "unsupported_grant_type"}


def request_token(
    server: ServerProcess,
    auth: tuple[str, str] | None = DEMO_AUTH,
    data: dict[str, str] | None = None,
    params: dict[str, str] | None = None,
    headers: dict[str, str] | None = None,
) -> httpx.Response:
    return httpx.post(server.token_url, auth=auth, data=data, params=params, headers=headers)


def basic(credentials: bytes) -> dict[str, str]:
    return {"Authorization": "Basic " + base64.b64encode(credentials).decode()}


def assert_oauth_error(response: httpx.Response, body: dict[str, str]) -> None:
    assert response.status_code == 400
    assert response.json() == body
    assert response.headers["content-type"] == "application/json"
    assert TRACKING_ID.fullmatch(response.headers["x-zm-trackingid"])


@pytest.fixture(scope="module")
def form_response(demo_server: ServerProcess) -> httpx.Response:
    return request_token(demo_server, data=GRANT)


@pytest.fixture(scope="module")
def query_response(demo_server: ServerProcess) -> httpx.Response:
    return request_token(demo_server, params=GRANT)


# --- successful grants ----------------------------------------------------------------------


def test_form_body_status(form_response: httpx.Response) -> None:
    assert form_response.status_code == 200


def test_form_body_keys(form_response: httpx.Response) -> None:
    assert set(form_response.json()) == TOKEN_KEYS


def test_token_type(form_response: httpx.Response) -> None:
    assert form_response.json()["token_type"] == "bearer"


def test_expires_in_default(form_response: httpx.Response) -> None:
    assert form_response.json()["expires_in"] == 3600


def test_expires_in_is_integer(form_response: httpx.Response) -> None:
    assert type(form_response.json()["expires_in"]) is int


def test_scope(form_response: httpx.Response) -> None:
    assert form_response.json()["scope"] == "pac:read:admin"


def test_api_url(form_response: httpx.Response, demo_server: ServerProcess) -> None:
    assert form_response.json()["api_url"] == demo_server.base_url


def test_access_token_nonempty(form_response: httpx.Response) -> None:
    assert form_response.json()["access_token"]


def test_content_type(form_response: httpx.Response) -> None:
    assert form_response.headers["content-type"] == "application/json"


def test_tracking_id(form_response: httpx.Response) -> None:
    assert TRACKING_ID.fullmatch(form_response.headers["x-zm-trackingid"])


def test_no_store(form_response: httpx.Response) -> None:
    # RFC 6749 section 5.1: a response that carries a token must not be cached.
    assert form_response.headers["cache-control"] == "no-store"


def test_issued_token_works(form_response: httpx.Response, demo_server: ServerProcess) -> None:
    response = httpx.get(
        f"{demo_server.api_url}/users/pac.user@example.com/pac",
        headers=bearer(form_response.json()["access_token"]),
    )
    assert response.json() == SEED_BODY


def test_query_string_status(query_response: httpx.Response) -> None:
    assert query_response.status_code == 200


def test_query_string_keys(query_response: httpx.Response) -> None:
    assert set(query_response.json()) == TOKEN_KEYS


def test_query_string_token_works(
    query_response: httpx.Response, demo_server: ServerProcess
) -> None:
    response = httpx.get(
        f"{demo_server.api_url}/users/pac.user@example.com/pac",
        headers=bearer(query_response.json()["access_token"]),
    )
    assert response.json() == SEED_BODY


def test_tokens_differ(demo_server: ServerProcess) -> None:
    assert demo_server.token() != demo_server.token()


def test_expires_in_follows_token_lifetime(start_server: ServerFactory) -> None:
    server = start_server("--demo", "--token-lifetime", "120")
    assert request_token(server, data=GRANT).json()["expires_in"] == 120


def test_scope_of_granular_app(contract_server: ServerProcess) -> None:
    response = request_token(
        contract_server,
        auth=("contract-granular-admin", CONTRACT_SECRET),
        data={"grant_type": "account_credentials", "account_id": CONTRACT_ACCOUNT},
    )
    assert response.json()["scope"] == "pac:read:list_pac_accounts:admin"


# --- client authentication ------------------------------------------------------------------


def test_wrong_secret(demo_server: ServerProcess) -> None:
    response = request_token(demo_server, auth=(DEMO_CLIENT_ID, "wrong-secret"), data=GRANT)
    assert_oauth_error(response, INVALID_CLIENT)


def test_empty_secret(demo_server: ServerProcess) -> None:
    response = request_token(demo_server, auth=(DEMO_CLIENT_ID, ""), data=GRANT)
    assert_oauth_error(response, INVALID_CLIENT)


def test_unknown_client(demo_server: ServerProcess) -> None:
    response = request_token(demo_server, auth=("no-such-client", DEMO_CLIENT_SECRET), data=GRANT)
    assert_oauth_error(response, INVALID_CLIENT)


def test_client_id_in_wrong_case(demo_server: ServerProcess) -> None:
    response = request_token(demo_server, auth=("DEMO-CLIENT", DEMO_CLIENT_SECRET), data=GRANT)
    assert_oauth_error(response, INVALID_CLIENT)


def test_missing_authorization(demo_server: ServerProcess) -> None:
    assert_oauth_error(request_token(demo_server, auth=None, data=GRANT), INVALID_CLIENT)


def test_credentials_in_form_only(demo_server: ServerProcess) -> None:
    # Credentials in the form body do not replace the Basic header.
    data = {**GRANT, "client_id": DEMO_CLIENT_ID, "client_secret": DEMO_CLIENT_SECRET}
    assert_oauth_error(request_token(demo_server, auth=None, data=data), INVALID_CLIENT)


@pytest.mark.parametrize(
    "authorization",
    [
        pytest.param("Basic", id="basic_without_credentials"),
        pytest.param("Basic !!!not-base64!!!", id="not_base64"),
        pytest.param("Basic ZGVtby1jbGllbnQ6ZGVtby1zZWNyZXQ", id="missing_padding"),
        pytest.param("Bearer ZGVtby1jbGllbnQ6ZGVtby1zZWNyZXQ=", id="bearer_scheme"),
        pytest.param("ZGVtby1jbGllbnQ6ZGVtby1zZWNyZXQ=", id="no_scheme"),
    ],
)
def test_malformed_authorization(demo_server: ServerProcess, authorization: str) -> None:
    response = request_token(
        demo_server, auth=None, data=GRANT, headers={"Authorization": authorization}
    )
    assert_oauth_error(response, INVALID_CLIENT)


@pytest.mark.parametrize(
    "credentials",
    [
        pytest.param(b"demo-client", id="no_colon"),
        pytest.param(b":demo-secret", id="empty_client_id"),
        pytest.param(b"demo-client:\xff\xfe", id="not_utf8"),
    ],
)
def test_malformed_basic_credentials(demo_server: ServerProcess, credentials: bytes) -> None:
    response = request_token(demo_server, auth=None, data=GRANT, headers=basic(credentials))
    assert_oauth_error(response, INVALID_CLIENT)


def test_inactive_app(contract_server: ServerProcess) -> None:
    response = request_token(
        contract_server,
        auth=("contract-inactive", CONTRACT_SECRET),
        data={"grant_type": "account_credentials", "account_id": CONTRACT_ACCOUNT},
    )
    assert_oauth_error(response, INVALID_CLIENT)


# --- grant parameters -----------------------------------------------------------------------


def test_missing_grant_type(demo_server: ServerProcess) -> None:
    response = request_token(demo_server, data={"account_id": DEMO_ACCOUNT})
    assert_oauth_error(response, {"reason": "Missing grant_type", "error": "invalid_request"})


def test_empty_grant_type(demo_server: ServerProcess) -> None:
    response = request_token(demo_server, data={"grant_type": "", "account_id": DEMO_ACCOUNT})
    assert_oauth_error(response, {"reason": "Missing grant_type", "error": "invalid_request"})


def test_no_parameters(demo_server: ServerProcess) -> None:
    response = request_token(demo_server)
    assert_oauth_error(response, {"reason": "Missing grant_type", "error": "invalid_request"})


@pytest.mark.parametrize("grant_type", ["client_credentials", "password", "ACCOUNT_CREDENTIALS"])
def test_unknown_grant_type(demo_server: ServerProcess, grant_type: str) -> None:
    response = request_token(
        demo_server, data={"grant_type": grant_type, "account_id": DEMO_ACCOUNT}
    )
    assert_oauth_error(response, UNSUPPORTED_GRANT)


def test_user_app_account_credentials(contract_server: ServerProcess) -> None:
    # An app that acts for users cannot use the Server-to-Server grant.
    response = request_token(
        contract_server,
        auth=("contract-user-app", CONTRACT_SECRET),
        data={"grant_type": "account_credentials", "account_id": CONTRACT_ACCOUNT},
    )
    assert_oauth_error(response, UNSUPPORTED_GRANT)


def test_missing_account_id(demo_server: ServerProcess) -> None:
    response = request_token(demo_server, data={"grant_type": "account_credentials"})
    assert_oauth_error(response, {"reason": "Missing account_id", "error": "invalid_request"})


def test_empty_account_id(demo_server: ServerProcess) -> None:
    response = request_token(
        demo_server, data={"grant_type": "account_credentials", "account_id": ""}
    )
    assert_oauth_error(response, {"reason": "Missing account_id", "error": "invalid_request"})


@pytest.mark.parametrize("account_id", ["no-such-account", "other-account", "DEMO-ACCOUNT"])
def test_wrong_account_id(contract_server: ServerProcess, account_id: str) -> None:
    response = request_token(
        contract_server, data={"grant_type": "account_credentials", "account_id": account_id}
    )
    assert_oauth_error(response, {"reason": "Invalid account_id", "error": "invalid_grant"})


def test_body_not_utf8(demo_server: ServerProcess) -> None:
    response = httpx.post(
        demo_server.token_url,
        auth=DEMO_AUTH,
        content=b"grant_type=account_credentials&account_id=\xff",
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    assert_oauth_error(
        response, {"reason": "The request body is not valid UTF-8", "error": "invalid_request"}
    )


def test_body_too_large(demo_server: ServerProcess) -> None:
    padding = "x" * (65 * 1024)
    response = request_token(demo_server, data={**GRANT, "padding": padding})
    assert_oauth_error(
        response, {"reason": "The request body is too large", "error": "invalid_request"}
    )


# --- methods ----------------------------------------------------------------------------------


@pytest.mark.parametrize("method", ["GET", "PUT", "DELETE"])
def test_wrong_method(demo_server: ServerProcess, method: str) -> None:
    response = httpx.request(method, demo_server.token_url, auth=DEMO_AUTH, params=GRANT)
    assert_zoom_error(response, 405, ROUTE_NOT_RECOGNIZED)


def test_wrong_method_allow_header(demo_server: ServerProcess) -> None:
    response = httpx.get(demo_server.token_url, auth=DEMO_AUTH, params=GRANT)
    assert "POST" in [part.strip() for part in response.headers["allow"].split(",")]
