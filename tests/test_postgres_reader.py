"""`PostgresReader` reads what `SqlStore` reads, and notices every commit by anyone.

The reader runs against a PostgreSQL cluster of this module's own, loaded with
`tests/fixtures/scale_out.yaml`. Other connections change the data as other servers,
`zoompac admin` or a user's own SQL would.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import psycopg
import pytest
from sqlalchemy import event
from sqlalchemy.engine import Engine

from tests.helpers import FIXTURES_DIR, load_fixture_file
from tests.services import PostgresServer
from zoompac.domain.errors import ServiceUnavailable
from zoompac.storage.cache import CachedStore
from zoompac.storage.database import migrate, open_engine
from zoompac.storage.health import DependencyHealth, GuardedEngine
from zoompac.storage.postgres_reader import PostgresReader, postgres_sql
from zoompac.storage.repository import SqlStore

FIXTURE = FIXTURES_DIR / "scale_out.yaml"
# A user with a dedicated number, and one with a global number.
DEDICATED_USER = "so-rate-user"
GLOBAL_USER = "so-workers-user"
FLIP_PAC = "UPDATE users SET pac_enabled = NOT pac_enabled WHERE id = 'so-burst-user'"


@pytest.fixture(scope="module")
def database() -> Iterator[str]:
    postgres = PostgresServer()
    try:
        postgres.start()
        url = postgres.create_database("reader")
        load_fixture_file(url, FIXTURE)
        yield url
    finally:
        postgres.remove()


@pytest.fixture
def engine(database: str) -> Iterator[Engine]:
    engine = open_engine(database)
    migrate(engine)
    yield engine
    engine.dispose()


@pytest.fixture
def reader(engine: Engine) -> Iterator[PostgresReader]:
    reader = PostgresReader(engine)
    # As `zoompac serve` builds it: the store's `GuardedEngine` watches the pool's checkouts.
    CachedStore(engine, reader)
    yield reader
    reader.close()


def test_sql_rewritten_for_postgres() -> None:
    sql = "SELECT id FROM users INDEXED BY ix_users_pac_by_id WHERE id = ?"
    assert postgres_sql(sql) == "SELECT id FROM users WHERE id = %s"


@pytest.mark.parametrize(
    "user_ref",
    [
        DEDICATED_USER,
        GLOBAL_USER,
        "user@so-rate.example.com",
        "USER@So-Rate.Example.COM",
        "no-such-user",
        "nobody@example.com",
    ],
)
def test_users_match_sql_store(engine: Engine, reader: PostgresReader, user_ref: str) -> None:
    store = SqlStore(engine)
    assert reader.pac_user(user_ref) == store.find_pac_user(user_ref)
    if "@" in user_ref:
        user = store.find_user(user_ref)
        assert reader.user_id_by_email(user_ref) == (user.id if user else None)
    else:
        assert reader.user(user_ref) == store.get_user(user_ref)


@pytest.mark.parametrize("user_id", [DEDICATED_USER, GLOBAL_USER, "no-such-user"])
def test_pac_accounts_match_sql_store(engine: Engine, reader: PostgresReader, user_id: str) -> None:
    expected = SqlStore(engine).list_pac_accounts(user_id)
    assert reader.pac_accounts(user_id) == expected
    assert bool(expected) is (user_id != "no-such-user")


def test_accounts_match_sql_store(engine: Engine, reader: PostgresReader) -> None:
    store = SqlStore(engine)
    for account_id in ("so-rate", "so-workers", "no-such-account"):
        assert reader.account(account_id) == store.get_account(account_id)
    assert reader.account("so-rate") is not None


def test_grants_match_sql_store(engine: Engine, reader: PostgresReader) -> None:
    store = SqlStore(engine)
    app = store.get_app_by_client_id("so-revoke-app")
    assert app is not None
    issued = datetime.now(UTC).replace(microsecond=0)
    for token_id in ("reader-token-1", "reader-token-2"):
        # The second mint revokes the first, which the reader must then not return.
        store.insert_token(
            token_id, app, None, issued, issued + timedelta(hours=1), revoke_older=True
        )
    assert reader.grant("reader-token-1") is None
    assert store.get_grant("reader-token-1") is None
    grant = reader.grant("reader-token-2")
    assert grant is not None
    assert grant == store.get_grant("reader-token-2")
    assert reader.grant("no-such-token") is None


def test_quiet_database_unchanged(reader: PostgresReader) -> None:
    reader.changed()
    reader.pac_user(DEDICATED_USER)
    reader.grant("no-such-token")
    assert reader.changed() is False
    assert reader.changed() is False


def test_commit_noticed(database: str, reader: PostgresReader) -> None:
    reader.changed()
    with psycopg.connect(database, autocommit=True) as other:
        other.execute(FLIP_PAC)
        assert reader.changed() is True
        assert reader.changed() is False
        other.execute(FLIP_PAC)
    assert reader.changed() is True


def test_open_transaction_then_commit(database: str, reader: PostgresReader) -> None:
    """A transaction that writes before a check and commits after it shows at the next check."""
    with psycopg.connect(database) as other:
        other.execute(FLIP_PAC)
        reader.changed()
        assert reader.changed() is False  # Still open: nothing committed yet.
        other.commit()
        assert reader.changed() is True
        other.execute(FLIP_PAC)
        other.commit()
    assert reader.changed() is True


def terminate_other_backends(database: str) -> None:
    """Terminate every other session of the database, waiting up to 5 s for each to exit."""
    with psycopg.connect(database, autocommit=True) as other:
        other.execute(
            "SELECT pg_terminate_backend(pid, 5000) FROM pg_stat_activity"
            " WHERE datname = current_database() AND pid <> pg_backend_pid()"
        )


def fill_pool(engine: Engine, count: int) -> None:
    """Leave `count` idle connections in the engine's pool."""
    connections = [engine.connect() for _ in range(count)]
    for connection in connections:
        connection.exec_driver_sql("SELECT 1")
    for connection in connections:
        connection.close()


def test_lost_connection_replaced(
    database: str, engine: Engine, reader: PostgresReader, caplog: pytest.LogCaptureFixture
) -> None:
    """A connection closed by the server fails one read with a 503, and the next reconnects.

    The engine's pool contains dead connections too by then, and the reader must not use them.
    """
    assert reader.account("so-rate") is not None
    fill_pool(engine, 5)
    terminate_other_backends(database)
    with caplog.at_level(logging.WARNING, logger="zoompac.storage"):
        with pytest.raises(ServiceUnavailable):
            reader.account("so-rate")
        assert reader.account("so-rate") is not None
    messages = [record.getMessage() for record in caplog.records]
    assert len(messages) == 2
    assert "is unreachable, so requests get 503 until it is back" in messages[0]
    assert messages[1].endswith("is reachable again")


def test_new_connection_counts_as_change(database: str, reader: PostgresReader) -> None:
    """A server restored from a backup can repeat an old snapshot with other data in it."""
    reader.changed()
    assert reader.changed() is False
    terminate_other_backends(database)
    with pytest.raises(ServiceUnavailable):
        reader.changed()
    assert reader.changed() is True
    assert reader.changed() is False


def test_schema_change_prepares_again(
    database: str, engine: Engine, reader: PostgresReader
) -> None:
    """A column whose type changes under prepared statements costs no request an error."""
    for _ in range(3):
        reader.pac_accounts(DEDICATED_USER)
    with psycopg.connect(database, autocommit=True) as other:
        other.execute("ALTER TABLE pac_accounts ALTER COLUMN participant_password TYPE text")
    try:
        assert reader.pac_accounts(DEDICATED_USER) == SqlStore(engine).list_pac_accounts(
            DEDICATED_USER
        )
    finally:
        with psycopg.connect(database, autocommit=True) as other:
            other.execute(
                "ALTER TABLE pac_accounts ALTER COLUMN participant_password TYPE varchar(16)"
            )
    assert reader.pac_accounts(DEDICATED_USER) == SqlStore(engine).list_pac_accounts(DEDICATED_USER)


def test_pool_failure_renews_reader(database: str, engine: Engine, reader: PostgresReader) -> None:
    """Once a request through the pool finds the database gone, the reader reconnects first."""
    store = SqlStore(engine, reader.health)
    assert reader.account("so-rate") is not None
    assert store.get_account("so-rate") is not None
    terminate_other_backends(database)
    with pytest.raises(ServiceUnavailable):
        store.get_account("so-rate")
    assert reader.account("so-rate") is not None


def test_reader_failure_renews_pool(database: str, engine: Engine, reader: PostgresReader) -> None:
    """Once the reader loses its connection, the pool replaces its older ones at checkout."""
    store = SqlStore(engine, reader.health)
    assert reader.account("so-rate") is not None
    fill_pool(engine, 5)
    terminate_other_backends(database)
    with pytest.raises(ServiceUnavailable):
        reader.account("so-rate")
    assert store.get_account("so-rate") is not None


def reader_backends(database: str) -> set[int]:
    """Return the pids of the backends whose last statement was a snapshot check."""
    with psycopg.connect(database, autocommit=True) as other:
        rows = other.execute(
            "SELECT pid FROM pg_stat_activity WHERE datname = current_database()"
            " AND query LIKE 'SELECT pg_current_snapshot()%'"
        ).fetchall()
    return {row[0] for row in rows}


def test_timeout_keeps_connection(database: str, reader: PostgresReader) -> None:
    """A read that waits past `statement_timeout` fails alone: the connection stays."""
    assert reader.health is not None
    reader.changed()
    before = reader_backends(database)
    losses = reader.health.losses
    with psycopg.connect(database) as other:
        other.execute("LOCK TABLE users IN ACCESS EXCLUSIVE MODE")
        with pytest.raises(ServiceUnavailable):
            reader.pac_user(DEDICATED_USER)
        other.rollback()
    assert reader.health.losses == losses
    reader.changed()
    assert reader_backends(database) == before
    assert reader.pac_user(DEDICATED_USER) is not None


def test_refused_connection_keeps_reader(database: str) -> None:
    """A connection over the role's limit fails its own request and loses the reader nothing."""
    with psycopg.connect(database, autocommit=True) as admin:
        admin.execute("DROP ROLE IF EXISTS limited")
        admin.execute("CREATE ROLE limited LOGIN CONNECTION LIMIT 3")
        admin.execute(
            "GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO limited"
        )
        admin.execute("GRANT USAGE ON ALL SEQUENCES IN SCHEMA public TO limited")
    engine = open_engine(database.replace("postgres@", "limited@"))
    reader = PostgresReader(engine)
    store = CachedStore(engine, reader)
    try:
        assert reader.account("so-rate") is not None
        others = [engine.connect() for _ in range(2)]  # The limit's other two connections.
        assert reader.health is not None
        losses = reader.health.losses
        reader.changed()
        before = reader_backends(database)
        with pytest.raises(ServiceUnavailable):
            store.get_app_by_client_id("so-rate-app")
        assert reader.health.losses == losses
        assert reader.account("so-rate") is not None
        reader.changed()
        assert reader_backends(database) == before
        for connection in others:
            connection.close()
        assert store.get_app_by_client_id("so-rate-app") is not None
    finally:
        reader.close()
        engine.dispose()


def test_loss_during_checkout_tolerated(engine: Engine) -> None:
    """Losses reported while the pool opens a connection do not fail the checkout."""
    health = DependencyHealth("The database", "test")
    guarded = GuardedEngine(engine, health)
    fill_pool(engine, 1)
    health.failed(OSError())
    reports_left = [2]

    def lose_while_connecting(_dbapi_connection: object, _record: object) -> None:
        if reports_left[0]:
            reports_left[0] -= 1
            health.failed(OSError())

    event.listen(engine, "connect", lose_while_connecting)
    with guarded.connect() as connection:
        assert connection.exec_driver_sql("SELECT 1").scalar() == 1
    assert reports_left == [1]  # One loss came in while the pool opened the connection.
