"""Engines, migrations and server-wide secrets kept in the database."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, event, insert, inspect, select, text
from sqlalchemy.engine import URL, Engine, make_url
from sqlalchemy.exc import IntegrityError

from zoompac.domain.secrets import random_bytes
from zoompac.storage.tables import server_state

_MIGRATIONS = str(Path(__file__).with_name("migrations"))
_SIGNING_KEY = "jwt_signing_key"
# The newest migration under migrations/versions; a test keeps it equal to Alembic's head.
HEAD_REVISION = "0003"
# Any fixed number: every zoompac process that migrates one PostgreSQL database takes this
# advisory lock first, so only one of them runs the migrations.
_MIGRATION_LOCK_ID = 7_260_417
# How long a request may wait for PostgreSQL, in seconds, before it fails with a 503.
POSTGRES_TIMEOUT_SECONDS = 3


def database_url(url: str) -> URL:
    """Parse a database URL; plain `postgresql://` URLs get the psycopg 3 driver."""
    parsed = make_url(url)
    if parsed.drivername in ("postgresql", "postgres"):
        parsed = parsed.set(drivername="postgresql+psycopg")
    return parsed


def open_engine(url: str) -> Engine:
    """Create an engine for `url`, creating a SQLite file's folder if needed."""
    parsed = database_url(url)
    if parsed.get_backend_name() == "postgresql":
        return create_engine(
            parsed,
            # No ping per checkout: it doubles the round trips of a request. A connection that
            # died is invalidated on its first error, which returns a 503, and is replaced.
            pool_pre_ping=False,
            # As many connections as request threads (anyio's default limit is 40), and one that
            # `PostgresReader` keeps, all kept open: an overflow connection is closed after each
            # use, and a new PostgreSQL connection costs milliseconds of CPU on both sides.
            pool_size=41,
            max_overflow=0,
            pool_timeout=POSTGRES_TIMEOUT_SECONDS,
            connect_args={
                "connect_timeout": POSTGRES_TIMEOUT_SECONDS,
                "options": f"-c statement_timeout={POSTGRES_TIMEOUT_SECONDS * 1000}",
            },
        )
    if parsed.get_backend_name() != "sqlite":
        raise ValueError(
            f"Unsupported database {parsed.render_as_string(hide_password=True)!r}: "
            "use a sqlite:/// or postgresql:// URL."
        )

    if parsed.database and parsed.database != ":memory:":
        path = Path(parsed.database).expanduser()
        path.parent.mkdir(parents=True, exist_ok=True)
        # The file contains PAC passwords and secret hashes, so only its owner may read it.
        # SQLite gives its -wal and -shm files the same mode.
        path.touch(mode=0o600, exist_ok=True)
    engine = create_engine(url)
    event.listen(engine, "connect", _configure_sqlite)
    return engine


def _configure_sqlite(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    # WAL lets `zoompac load` write while the server reads; the busy timeout makes writers queue
    # instead of failing with "database is locked".
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=10000")
    cursor.close()


def migrate(engine: Engine) -> None:
    """Bring the schema to the newest Alembic revision. Safe to run on every start."""
    if _current_revision(engine) == HEAD_REVISION:
        return  # Skips importing Alembic, which would stay in the server's memory for nothing.

    # Alembic logs every step at INFO, and its plugins log on import, so the level is set
    # before the import. A server start should not show these lines.
    logging.getLogger("alembic").setLevel(logging.WARNING)
    from alembic import command
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", _MIGRATIONS)
    with engine.begin() as connection:
        if connection.dialect.name == "postgresql":
            # Held until this transaction ends; other processes wait here, then find nothing to do.
            connection.execute(
                text("SELECT pg_advisory_xact_lock(:id)"), {"id": _MIGRATION_LOCK_ID}
            )
        config.attributes["connection"] = connection
        command.upgrade(config, "head")


def _current_revision(engine: Engine) -> str | None:
    with engine.connect() as connection:
        if not inspect(connection).has_table("alembic_version"):
            return None
        revision = connection.execute(text("SELECT version_num FROM alembic_version"))
        return revision.scalar_one_or_none()


def signing_key(engine: Engine) -> bytes:
    """Return the token-signing key, creating it on first use.

    The key lives in the database so that tokens survive a restart and every worker over the
    same database accepts them.
    """
    with engine.begin() as connection:
        stored = connection.execute(
            select(server_state.c.value).where(server_state.c.key == _SIGNING_KEY)
        ).scalar_one_or_none()
    if stored is not None:
        return bytes.fromhex(stored)

    candidate = random_bytes(64).hex()
    try:
        with engine.begin() as connection:
            connection.execute(insert(server_state).values(key=_SIGNING_KEY, value=candidate))
    except IntegrityError:
        # Another process created the key first; use that one.
        return signing_key(engine)
    return bytes.fromhex(candidate)
