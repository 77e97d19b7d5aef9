"""Migrations: the revision the server checks at start is Alembic's newest one."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, inspect, text

import zoompac.storage.database as database
from zoompac.domain.models import PacUser
from zoompac.storage.cache import _PAC_ACCOUNTS, _PAC_USER_BY_EMAIL, _PAC_USER_BY_ID, SqliteReader


def test_head_revision_matches_alembic() -> None:
    config = Config()
    config.set_main_option("script_location", str(Path(database.__file__).with_name("migrations")))

    assert ScriptDirectory.from_config(config).get_current_head() == database.HEAD_REVISION


def test_migrated_database_skips_alembic(tmp_path: Path) -> None:
    engine = database.open_engine(f"sqlite:///{tmp_path / 'zoompac.db'}")
    database.migrate(engine)

    assert database._current_revision(engine) == database.HEAD_REVISION
    engine.dispose()


def _alembic(engine: Engine, action: str, revision: str) -> None:
    config = Config()
    config.set_main_option("script_location", str(Path(database.__file__).with_name("migrations")))
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        getattr(command, action)(config, revision)


def _index_names(engine: Engine, table: str) -> set[str]:
    with engine.connect() as connection:
        return {index["name"] for index in inspect(connection).get_indexes(table) if index["name"]}


def test_upgrade_to_covering_indexes_keeps_data(tmp_path: Path) -> None:
    path = tmp_path / "zoompac.db"
    engine = database.open_engine(f"sqlite:///{path}")
    _alembic(engine, "upgrade", "0002")
    with engine.begin() as connection:
        connection.execute(
            text("INSERT INTO accounts VALUES ('acct1', 'Acme', 'business', 1, 1, 0);")
        )
        connection.execute(
            text(
                "INSERT INTO users VALUES ('u1', 'acct1', 'Ann@Example.com', 'ann@example.com',"
                " 'Ann', 'Lee', 1, 'active', 1, 0)"
            )
        )
        connection.execute(
            text(
                "INSERT INTO pac_accounts VALUES (1, 'u1', 'acct1', 5551234567, '111111', '222222')"
            )
        )
        connection.execute(
            text("INSERT INTO dial_in_numbers VALUES (1, 1, 'global', '+1 555', 'US')")
        )

    database.migrate(engine)

    assert database._current_revision(engine) == "0003"
    assert {"ix_users_pac_by_id", "ix_users_pac_by_email"} <= _index_names(engine, "users")
    assert _index_names(engine, "pac_accounts") == {"ix_pac_accounts_by_user"}
    assert _index_names(engine, "dial_in_numbers") == {"ix_dial_in_numbers_by_pac_account"}
    reader = SqliteReader(str(path))
    try:
        assert reader.pac_user("u1") == PacUser("u1", "acct1", True)
        assert reader.pac_user("ANN@example.COM") == PacUser("u1", "acct1", True)
        assert [pac.conference_id for pac in reader.pac_accounts("u1")] == [5551234567]
    finally:
        reader.close()
        engine.dispose()


def test_pac_queries_read_covering_indexes_only(tmp_path: Path) -> None:
    engine = database.open_engine(f"sqlite:///{tmp_path / 'zoompac.db'}")
    database.migrate(engine)
    plans = []
    with engine.connect() as connection:
        for sql in (_PAC_USER_BY_ID.sql, _PAC_USER_BY_EMAIL.sql, _PAC_ACCOUNTS.sql):
            rows = connection.exec_driver_sql(f"EXPLAIN QUERY PLAN {sql}", ("x",)).all()
            plans.append([row[-1] for row in rows])
    engine.dispose()

    # Every step searches a covering index, so no step reads table rows. The plan's wording
    # differs between SQLite versions; the index names and "COVERING INDEX" do not.
    expected = [
        ["ix_users_pac_by_id"],
        ["ix_users_pac_by_email"],
        ["ix_pac_accounts_by_user", "ix_dial_in_numbers_by_pac_account"],
    ]
    assert len(plans) == len(expected)
    for steps, indexes in zip(plans, expected, strict=True):
        assert len(steps) == len(indexes)
        for step, index in zip(steps, indexes, strict=True):
            assert f"USING COVERING INDEX {index} " in step


def test_downgrade_restores_plain_indexes(tmp_path: Path) -> None:
    engine = database.open_engine(f"sqlite:///{tmp_path / 'zoompac.db'}")
    database.migrate(engine)

    _alembic(engine, "downgrade", "0002")

    assert database._current_revision(engine) == "0002"
    assert "ix_users_pac_by_id" not in _index_names(engine, "users")
    assert _index_names(engine, "pac_accounts") == {"ix_pac_accounts_user_id"}
    assert _index_names(engine, "dial_in_numbers") == {"ix_dial_in_numbers_pac_account_id"}
    engine.dispose()
