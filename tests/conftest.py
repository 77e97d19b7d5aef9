"""Fixtures that run the real server as a child process over a real SQLite file."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.server import ServerProcess

ServerFactory = Callable[..., ServerProcess]


@pytest.fixture(scope="session")
def demo_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    """One demo server shared by tests that only read, or that only mint tokens."""
    server = ServerProcess(tmp_path_factory.mktemp("demo-server"), args=["--demo"]).start()
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
