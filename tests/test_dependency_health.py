"""`DependencyHealth` logs each outage once and counts the connections lost."""

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


def test_losses_counted(health: DependencyHealth) -> None:
    health.failed(OSError())
    health.succeeded()
    health.failed(OSError(), lost=False)
    health.failed(OSError())
    assert health.losses == 2
