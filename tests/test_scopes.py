"""Which scopes open which route, in classic and granular form, for S2S and user-level tokens.

Admin scopes reach any user of the account; user scopes reach only the token's own user, as `me`.
A missing scope is 400 with code 4711 and a message naming the route's classic scopes.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import httpx
import pytest

from tests.helpers import FIXTURES_DIR, assert_zoom_error, bearer, load_fixture_file, user_not_found
from tests.server import ServerProcess

FIXTURE = FIXTURES_DIR / "scopes.yaml"
ACCOUNT = "scopes-account"
SECRET = "scope-secret"
REDIRECT_URI = "http://127.0.0.1/unvisited"
SAM_ID = "scopeSam00000000000001"  # The consenting user of every user-level token.
TIA_ID = "scopeTia00000000000001"

PAC, LIST, USER, SETTINGS = "pac", "list", "user", "settings"
PATHS = {
    PAC: "/users/{}/pac",
    LIST: "/users",
    USER: "/users/{}",
    SETTINGS: "/users/{}/settings",
}


def missing(*scopes: str) -> dict[str, Any]:
    return {
        "code": 4711,
        "message": f"Invalid access token, does not contain scopes:[{', '.join(scopes)}].",
    }


NO_PAC = missing("pac:read:admin", "pac:read")
NO_PAC_ADMIN = missing("pac:read:admin")
NO_LIST = missing("user:read:admin")
NO_USER = missing("user:read:admin", "user:read")
NO_USER_ADMIN = missing("user:read:admin")
OK = None

# Server-to-Server apps, each calling every route for Tia, by id: the expected result of PAC,
# GET /users, GET /users/{id} and GET /users/{id}/settings, in that order (OK means 200).
S2S_TABLE: dict[str, tuple[dict[str, Any] | None, ...]] = {
    "s2s-pac-admin": (OK, NO_LIST, NO_USER, NO_USER),
    "s2s-pac-granular-admin": (OK, NO_LIST, NO_USER, NO_USER),
    "s2s-pac-write-admin": (NO_PAC, NO_LIST, NO_USER, NO_USER),
    "s2s-pac-user": (NO_PAC_ADMIN, NO_LIST, NO_USER, NO_USER),
    "s2s-user-admin": (NO_PAC, OK, OK, OK),
    "s2s-user-write-admin": (NO_PAC, OK, OK, OK),
    "s2s-list-users-admin": (NO_PAC, OK, NO_USER, NO_USER),
    "s2s-user-user-admin": (NO_PAC, NO_LIST, OK, NO_USER),
    "s2s-settings-admin": (NO_PAC, NO_LIST, NO_USER, OK),
    "s2s-none": (NO_PAC, NO_LIST, NO_USER, NO_USER),
    "s2s-mixed": (OK, OK, OK, OK),
    "s2s-scope-string": (OK, NO_LIST, NO_USER, OK),
}
S2S_CASES = [
    (client_id, route, TIA_ID, expected)
    for client_id, answers in S2S_TABLE.items()
    for route, expected in zip((PAC, LIST, USER, SETTINGS), answers, strict=True)
]

# User-level apps; Sam's tokens ask for `me`, for Sam's own id, or for Tia.
USER_CASES: list[tuple[str, str, str, dict[str, Any] | None]] = [
    ("user-pac", PAC, "me", OK),
    ("user-pac", PAC, SAM_ID, NO_PAC_ADMIN),
    ("user-pac", PAC, TIA_ID, NO_PAC_ADMIN),
    ("user-pac", LIST, "", NO_LIST),
    ("user-pac", USER, "me", NO_USER),
    ("user-pac", SETTINGS, "me", NO_USER),
    ("user-pac-granular", PAC, "me", OK),
    ("user-pac-granular", PAC, SAM_ID, NO_PAC_ADMIN),
    ("user-pac-granular", USER, "me", NO_USER),
    ("user-user", PAC, "me", NO_PAC),
    ("user-user", LIST, "", NO_LIST),
    ("user-user", USER, "me", OK),
    ("user-user", USER, SAM_ID, NO_USER_ADMIN),
    ("user-user", USER, TIA_ID, NO_USER_ADMIN),
    ("user-user", SETTINGS, "me", OK),
    ("user-user", SETTINGS, TIA_ID, NO_USER_ADMIN),
    ("user-user-write", USER, "me", OK),
    ("user-user-write", SETTINGS, "me", OK),
    ("user-user-write", LIST, "", NO_LIST),
    ("user-user-granular", USER, "me", OK),
    ("user-user-granular", USER, TIA_ID, NO_USER_ADMIN),
    ("user-user-granular", SETTINGS, "me", NO_USER),
    ("user-settings-granular", SETTINGS, "me", OK),
    ("user-settings-granular", SETTINGS, SAM_ID, NO_USER_ADMIN),
    ("user-settings-granular", USER, "me", NO_USER),
    ("user-admin", PAC, "me", OK),
    ("user-admin", PAC, TIA_ID, OK),
    ("user-admin", LIST, "", OK),
    ("user-admin", USER, TIA_ID, OK),
    ("user-admin", SETTINGS, TIA_ID, OK),
    ("user-mixed", PAC, "me", OK),
    ("user-mixed", USER, "me", OK),
    ("user-mixed", PAC, TIA_ID, NO_PAC_ADMIN),
]

CASES = S2S_CASES + USER_CASES
ALLOWED = [case[:3] for case in CASES if case[3] is None]
REFUSED = [case for case in CASES if case[3] is not None]

TokenFactory = Callable[[str], str]


def case_id(value: object) -> str:
    names = {SAM_ID: "sam", TIA_ID: "tia", "": "-"}
    return names.get(value, value) if isinstance(value, str) else ""


@pytest.fixture(scope="module")
def scope_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    server = ServerProcess(tmp_path_factory.mktemp("scopes"), args=["--no-rate-limits"])
    load_fixture_file(server.database_url, FIXTURE)
    server.start()
    yield server
    server.stop()


@pytest.fixture(scope="module")
def http() -> Iterator[httpx.Client]:
    with httpx.Client() as client:
        yield client


def user_token_response(
    http: httpx.Client, server: ServerProcess, client_id: str
) -> httpx.Response:
    """Run the authorization-code grant for Sam without a browser."""
    consent = http.post(
        f"{server.base_url}/oauth/authorize",
        data={
            "client_id": client_id,
            "redirect_uri": REDIRECT_URI,
            "user_id": SAM_ID,
            "decision": "allow",
        },
    )
    assert consent.status_code == 302, consent.text
    code = dict(parse_qsl(urlsplit(consent.headers["location"]).query))["code"]
    return http.post(
        server.token_url,
        auth=(client_id, SECRET),
        data={"grant_type": "authorization_code", "code": code, "redirect_uri": REDIRECT_URI},
    )


@pytest.fixture(scope="module")
def token_of(scope_server: ServerProcess, http: httpx.Client) -> TokenFactory:
    tokens: dict[str, str] = {}

    def token(client_id: str) -> str:
        if client_id not in tokens:
            if client_id.startswith("user-"):
                response = user_token_response(http, scope_server, client_id)
                tokens[client_id] = response.json()["access_token"]
            else:
                tokens[client_id] = scope_server.token(client_id, SECRET, ACCOUNT)
        return tokens[client_id]

    return token


def call(
    http: httpx.Client, server: ServerProcess, token: str, route: str, user: str
) -> httpx.Response:
    path = PATHS[route].format(user)
    return http.get(f"{server.api_url}{path}", headers=bearer(token))


@pytest.mark.parametrize(("client_id", "route", "user"), ALLOWED, ids=case_id)
def test_allowed(
    http: httpx.Client,
    scope_server: ServerProcess,
    token_of: TokenFactory,
    client_id: str,
    route: str,
    user: str,
):
    response = call(http, scope_server, token_of(client_id), route, user)
    assert response.status_code == 200, response.text


@pytest.mark.parametrize(("client_id", "route", "user", "expected"), REFUSED, ids=case_id)
def test_refused(
    http: httpx.Client,
    scope_server: ServerProcess,
    token_of: TokenFactory,
    client_id: str,
    route: str,
    user: str,
    expected: dict[str, Any],
):
    response = call(http, scope_server, token_of(client_id), route, user)
    assert_zoom_error(response, 400, expected)


def test_user_token_reads_own_pac(
    http: httpx.Client, scope_server: ServerProcess, token_of: TokenFactory
):
    response = call(http, scope_server, token_of("user-pac-granular"), PAC, "me")
    assert response.json()["pac_accounts"][0]["conference_id"] == "3030303030"


def test_admin_reads_other_pac(
    http: httpx.Client, scope_server: ServerProcess, token_of: TokenFactory
):
    response = call(http, scope_server, token_of("s2s-pac-granular-admin"), PAC, TIA_ID)
    assert response.json()["pac_accounts"][0]["conference_id"] == "4040404040"


@pytest.mark.parametrize("route", [PAC, USER, SETTINGS])
def test_s2s_me(
    http: httpx.Client, scope_server: ServerProcess, token_of: TokenFactory, route: str
):
    response = call(http, scope_server, token_of("s2s-mixed"), route, "me")
    assert_zoom_error(response, 404, user_not_found("me"))


def test_s2s_user_scope_me(http: httpx.Client, scope_server: ServerProcess, token_of: TokenFactory):
    # A user scope passes the scope check, but a Server-to-Server token has no `me`.
    response = call(http, scope_server, token_of("s2s-pac-user"), PAC, "me")
    assert_zoom_error(response, 404, user_not_found("me"))


@pytest.mark.parametrize(
    ("client_id", "scope"),
    [
        ("s2s-mixed", "user:read:admin pac:read:admin user:read:list_users:admin"),
        ("s2s-scope-string", "user:read:settings:admin pac:read:list_pac_accounts:admin"),
        ("s2s-pac-granular-admin", "pac:read:list_pac_accounts:admin"),
        ("s2s-none", ""),
    ],
)
def test_s2s_scope_field(
    http: httpx.Client, scope_server: ServerProcess, client_id: str, scope: str
):
    response = http.post(
        scope_server.token_url,
        auth=(client_id, SECRET),
        data={"grant_type": "account_credentials", "account_id": ACCOUNT},
    )
    assert response.json()["scope"] == scope


@pytest.mark.parametrize(
    ("client_id", "scope"),
    [
        ("user-mixed", "user:read pac:read"),
        ("user-admin", "pac:read:admin user:read:admin"),
        ("user-settings-granular", "user:read:settings"),
    ],
)
def test_user_scope_field(
    http: httpx.Client, scope_server: ServerProcess, client_id: str, scope: str
):
    assert user_token_response(http, scope_server, client_id).json()["scope"] == scope


def test_refreshed_scope_field(http: httpx.Client, scope_server: ServerProcess):
    first = user_token_response(http, scope_server, "user-mixed").json()
    response = http.post(
        scope_server.token_url,
        auth=("user-mixed", SECRET),
        data={"grant_type": "refresh_token", "refresh_token": first["refresh_token"]},
    )
    assert response.json()["scope"] == "user:read pac:read"
