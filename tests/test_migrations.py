"""Migrations: the revision the server checks at start is Alembic's newest one."""

from __future__ import annotations

from pathlib import Path

from alembic.config import Config
from alembic.script import ScriptDirectory

import zoompac.storage.database as database


def test_head_revision_matches_alembic() -> None:
    config = Config()
    config.set_main_option("script_location", str(Path(database.__file__).with_name("migrations")))

    assert ScriptDirectory.from_config(config).get_current_head() == database.HEAD_REVISION


def test_migrated_database_skips_alembic(tmp_path: Path) -> None:
    engine = database.open_engine(f"sqlite:///{tmp_path / 'zoompac.db'}")
    database.migrate(engine)

    assert database._current_revision(engine) == database.HEAD_REVISION
    engine.dispose()
