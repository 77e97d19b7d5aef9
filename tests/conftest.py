"""Fixtures that run the real server as a child process over a real SQLite file."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.helpers import CONTRACT_ACCOUNT, CONTRACT_FIXTURE, CONTRACT_SECRET, load_fixture_file
from tests.server import ServerProcess

pytest_plugins = ["pytester"]

ServerFactory = Callable[..., ServerProcess]


@pytest.fixture(scope="session")
def demo_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    """One demo server shared by tests that only read, or that only mint tokens.

    Its rate limits are off because many tests share it; rate limits have tests of their own.
    """
    server = ServerProcess(
        tmp_path_factory.mktemp("demo-server"), args=["--demo", "--no-rate-limits"]
    ).start()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def demo_token(demo_server: ServerProcess) -> str:
    return demo_server.token()


@pytest.fixture
def start_server(tmp_path: Path) -> Iterator[ServerFactory]:
    """Start servers with their own options over a database in this test's temporary folder."""
    started: list[ServerProcess] = []

    def start(
        *args: str, env: dict[str, str] | None = None, data_dir: Path | None = None
    ) -> ServerProcess:
        server = ServerProcess(data_dir or tmp_path, args=list(args), env=env or {}).start()
        started.append(server)
        return server

    yield start
    for server in started:
        server.stop()


@pytest.fixture(scope="session")
def contract_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    """One read-only server holding the demo data and `tests/fixtures/contract.yaml`.

    Rate limits are off because the tests call one account far faster than Zoom's limits allow.
    """
    server = ServerProcess(
        tmp_path_factory.mktemp("contract-server"), args=["--demo", "--no-rate-limits"]
    )
    load_fixture_file(server.database_url, CONTRACT_FIXTURE)
    server.start()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def contract_token(contract_server: ServerProcess) -> Callable[..., str]:
    """Mint, once per session, a token of an app of `tests/fixtures/contract.yaml`."""
    tokens: dict[tuple[str, str], str] = {}

    def token(client_id: str, account_id: str = CONTRACT_ACCOUNT) -> str:
        key = (client_id, account_id)
        if key not in tokens:
            tokens[key] = contract_server.token(client_id, CONTRACT_SECRET, account_id)
        return tokens[key]

    return token
