"""`--seed`: two fresh servers given the same seed and the same requests hand out the same values.

Each server gets the same requests in the same order: freeze the clock, load
`tests/fixtures/determinism.yaml` (users without ids, PAC accounts without conference ids or
passwords), mint tokens, list the users and read their PAC accounts.
"""

from __future__ import annotations

import secrets
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest

from tests.helpers import FIXTURES_DIR, TRACKING_ID, bearer
from tests.server import ServerProcess

ADMIN_TOKEN = secrets.token_urlsafe(24)
ADMIN = {"Authorization": f"Bearer {ADMIN_TOKEN}"}
FIXTURE = FIXTURES_DIR / "determinism.yaml"
EMAILS = ["first.seeded@example.com", "second.seeded@example.com"]
APP = ("seeded-admin", "seeded-secret")
ACCOUNT = "seeded-account"


@dataclass
class LogReadyServer(ServerProcess):
    """A server that counts as ready once its log reports start-up complete, without probes.

    `ServerProcess` probes the API until it answers, and a probe that times out and is served
    later draws a tracking id, which would shift every later generated value.
    """

    def _wait_until_ready(self, timeout: float) -> None:
        assert self.process is not None
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"zoompac serve exited early:\n{self.log()}")
            if "Application startup complete." in self.log():
                return
            time.sleep(0.05)
        self.stop()
        raise RuntimeError(f"zoompac serve did not start within {timeout} s:\n{self.log()}")


@dataclass
class Run:
    """The values that one server generated for the request sequence."""

    user_ids: list[str] = field(default_factory=list)
    pac_accounts: list[dict[str, Any]] = field(default_factory=list)
    access_tokens: list[str] = field(default_factory=list)
    tracking_ids: list[str] = field(default_factory=list)
    state: dict[str, Any] = field(default_factory=dict)

    @property
    def conference_ids(self) -> list[str]:
        return [str(account["conference_id"]) for account in self.pac_accounts]

    @property
    def passwords(self) -> list[str]:
        return [
            account[key]
            for account in self.pac_accounts
            for key in ("participant_password", "listen_only_password")
        ]


def run_sequence(server: ServerProcess) -> Run:
    run = Run()
    with httpx.Client(base_url=server.base_url, timeout=30.0) as client:

        def send(method: str, path: str, **kwargs: Any) -> httpx.Response:
            response = client.request(method, path, **kwargs)
            assert response.status_code < 300, f"{method} {path}: {response.text}"
            run.tracking_ids.append(response.headers["x-zm-trackingid"])
            return response

        def mint() -> str:
            response = send(
                "POST",
                "/oauth/token",
                auth=APP,
                data={"grant_type": "account_credentials", "account_id": ACCOUNT},
            )
            token = str(response.json()["access_token"])
            run.access_tokens.append(token)
            return token

        send(
            "POST",
            "/zoompac/clock",
            headers=ADMIN,
            json={"freeze": True, "at": "2031-03-04T05:06:07Z"},
        )
        send("POST", "/zoompac/load", headers=ADMIN, content=FIXTURE.read_bytes())
        token = mint()
        users = send("GET", "/v2/users", headers=bearer(token)).json()["users"]
        run.user_ids = [user["id"] for user in users]
        for email in EMAILS:
            body = send("GET", f"/v2/users/{email}/pac", headers=bearer(token)).json()
            run.pac_accounts += body["pac_accounts"]
        mint()
        run.state = send("GET", "/zoompac/state", headers=ADMIN).json()
    return run


def start_and_run(
    tmp_path_factory: pytest.TempPathFactory, seeds: tuple[int | None, int | None]
) -> tuple[Run, Run]:
    """Start one fresh server per seed, at the same time, and send each the request sequence."""
    servers = []
    for seed in seeds:
        args = [] if seed is None else ["--seed", str(seed)]
        data_dir = tmp_path_factory.mktemp("determinism")
        servers.append(
            LogReadyServer(data_dir, args=args, env={"ZOOMPAC_ADMIN_TOKEN": ADMIN_TOKEN})
        )
    try:
        with ThreadPoolExecutor(len(servers)) as pool:
            list(pool.map(lambda server: server.start(), servers))
        first, second = (run_sequence(server) for server in servers)
    finally:
        for server in servers:
            server.stop()
    return first, second


@pytest.fixture(scope="module")
def same_seed(tmp_path_factory: pytest.TempPathFactory) -> tuple[Run, Run]:
    return start_and_run(tmp_path_factory, (2718, 2718))


@pytest.fixture(scope="module")
def other_seed(tmp_path_factory: pytest.TempPathFactory) -> tuple[Run, Run]:
    return start_and_run(tmp_path_factory, (2718, 3141))


@pytest.fixture(scope="module")
def no_seed(tmp_path_factory: pytest.TempPathFactory) -> tuple[Run, Run]:
    return start_and_run(tmp_path_factory, (None, None))


def test_values_generated(same_seed: tuple[Run, Run]) -> None:
    run, _ = same_seed

    assert len(run.user_ids) == 2
    assert all(len(user_id) == 22 for user_id in run.user_ids)
    assert len(run.pac_accounts) == 3
    assert all(len(conference_id) == 10 for conference_id in run.conference_ids)
    assert run.passwords[1] != run.passwords[0]
    assert run.passwords[2] == "1234"
    assert len(run.access_tokens) == 2
    assert run.access_tokens[0] != run.access_tokens[1]
    assert all(TRACKING_ID.fullmatch(tracking_id) for tracking_id in run.tracking_ids)
    assert len(set(run.tracking_ids)) == len(run.tracking_ids)


def test_same_seed_user_ids(same_seed: tuple[Run, Run]) -> None:
    first, second = same_seed

    assert first.user_ids == second.user_ids


def test_same_seed_conference_ids(same_seed: tuple[Run, Run]) -> None:
    first, second = same_seed

    assert first.conference_ids == second.conference_ids


def test_same_seed_passwords(same_seed: tuple[Run, Run]) -> None:
    first, second = same_seed

    assert first.passwords == second.passwords


def test_same_seed_access_tokens(same_seed: tuple[Run, Run]) -> None:
    first, second = same_seed

    assert first.access_tokens == second.access_tokens


def test_same_seed_tracking_ids(same_seed: tuple[Run, Run]) -> None:
    first, second = same_seed

    assert first.tracking_ids == second.tracking_ids


def test_same_seed_state(same_seed: tuple[Run, Run]) -> None:
    """The dumped state, client-secret hashes and their random salts included, is the same."""
    first, second = same_seed

    assert first.state == second.state


@pytest.mark.parametrize("fixture_name", ["other_seed", "no_seed"])
def test_runs_differ(request: pytest.FixtureRequest, fixture_name: str) -> None:
    first, second = request.getfixturevalue(fixture_name)

    assert first.user_ids[0] != second.user_ids[0]
    assert first.user_ids[1] != second.user_ids[1]
    assert first.conference_ids[0] != second.conference_ids[0]
    assert first.passwords[:2] != second.passwords[:2]
    assert first.access_tokens[0] != second.access_tokens[0]
    assert first.tracking_ids[0] != second.tracking_ids[0]


def test_seed_keeps_admin_token_secret(tmp_path_factory: pytest.TempPathFactory) -> None:
    """A generated admin token stays unpredictable when the seed makes everything else repeat."""
    data_dirs = [tmp_path_factory.mktemp("seeded-admin-token") for _ in range(2)]
    servers = [
        LogReadyServer(data_dir, args=["--seed", "2718"], env={"XDG_DATA_HOME": str(data_dir)})
        for data_dir in data_dirs
    ]
    try:
        with ThreadPoolExecutor(len(servers)) as pool:
            list(pool.map(lambda server: server.start(), servers))
    finally:
        for server in servers:
            server.stop()
    first, second = (
        (data_dir / "zoompac" / "admin-token").read_text(encoding="utf-8") for data_dir in data_dirs
    )

    assert first != second
