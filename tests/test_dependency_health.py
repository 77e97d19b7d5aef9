"""`DependencyHealth` logs one outage once, however many paths to the dependency see it."""

from __future__ import annotations

import logging

import pytest

from zoompac.storage.health import DependencyHealth

UNREACHABLE = (
    "The database at postgresql://db/zoompac is unreachable, "
    "so requests get 503 until it is back: OSError"
)
BACK = "The database at postgresql://db/zoompac is reachable again"


@pytest.fixture
def health() -> DependencyHealth:
    return DependencyHealth("The database", "postgresql://db/zoompac")


def messages(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [record.getMessage() for record in caplog.records]


def test_outage_logged_once(health: DependencyHealth, caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING, logger="zoompac.storage"):
        for _ in range(3):
            health.failed(OSError())
        health.succeeded()
        health.succeeded()
    assert messages(caplog) == [UNREACHABLE, BACK]


def test_working_path_not_recovery(
    health: DependencyHealth, caplog: pytest.LogCaptureFixture
) -> None:
    """A path that still works does not end an outage that another path detects."""
    with caplog.at_level(logging.WARNING, logger="zoompac.storage"):
        health.failed(OSError(), "pool")
        health.succeeded("read connection")
        health.failed(OSError(), "pool")
        health.succeeded("read connection")
        assert messages(caplog) == [UNREACHABLE]
        health.succeeded("pool")
    assert messages(caplog) == [UNREACHABLE, BACK]


def test_both_paths_must_recover(
    health: DependencyHealth, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.WARNING, logger="zoompac.storage"):
        health.failed(OSError(), "pool")
        health.failed(OSError(), "read connection")
        health.succeeded("pool")
        assert messages(caplog) == [UNREACHABLE]
        health.succeeded("read connection")
    assert messages(caplog) == [UNREACHABLE, BACK]
