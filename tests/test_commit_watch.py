"""`CommitWatch` notices every commit to a SQLite file, whatever other connections do to it.

The server drops its read caches when the watch reports a commit, so a commit it misses would
serve stale data until the next one. The state machine below drives real SQLite files through
commits from several connections, checkpoints of every kind, journal-mode switches, writers
that close (SQLite deletes the log when the last one does) and reads on the watched connection.
After any commit, the next check must report one.
"""

from __future__ import annotations

import sqlite3
import tempfile
from pathlib import Path

import pytest
from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, precondition, rule

from zoompac.storage.changes import CommitWatch

CHECKPOINTS = ("PASSIVE", "FULL", "RESTART", "TRUNCATE")


def connect(path: Path) -> sqlite3.Connection:
    connection = sqlite3.connect(path, isolation_level=None, timeout=10)
    connection.execute("PRAGMA busy_timeout=10000")
    return connection


def new_database(path: Path, journal_mode: str) -> None:
    with connect(path) as connection:
        connection.execute(f"PRAGMA journal_mode={journal_mode}")
        connection.execute("CREATE TABLE t (id INTEGER PRIMARY KEY, value TEXT)")
    connection.close()


def commit(connection: sqlite3.Connection, value: str = "x") -> None:
    connection.execute("INSERT INTO t (value) VALUES (?)", (value,))


class CommitWatchMachine(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.folder = tempfile.TemporaryDirectory()
        self.path = Path(self.folder.name) / "watched.db"
        self.writers: list[sqlite3.Connection] = []
        self.unreported = False

    @initialize(journal_mode=st.sampled_from(["wal", "delete"]), read_files=st.booleans())
    def start(self, journal_mode: str, read_files: bool) -> None:
        new_database(self.path, journal_mode)
        self.reader = connect(self.path)
        self.watch = CommitWatch(self.reader, str(self.path), read_files=read_files)
        assert not self.watch.committed()

    @rule()
    def open_writer(self) -> None:
        self.writers.append(connect(self.path))

    @precondition(lambda self: self.writers)
    @rule(data=st.data())
    def close_writer(self, data: st.DataObject) -> None:
        index = data.draw(st.integers(0, len(self.writers) - 1))
        self.writers.pop(index).close()

    @precondition(lambda self: self.writers)
    @rule(data=st.data(), rows=st.integers(1, 3))
    def write(self, data: st.DataObject, rows: int) -> None:
        writer = data.draw(st.sampled_from(self.writers))
        for _ in range(rows):
            commit(writer, "y" * data.draw(st.integers(0, 3000)))
        self.unreported = True

    @rule()
    def write_and_close(self) -> None:
        # A writer that comes and goes, as `zoompac admin` does. The last connection to close
        # a WAL database checkpoints it and deletes the log.
        writer = connect(self.path)
        commit(writer)
        writer.close()
        self.unreported = True

    @precondition(lambda self: self.writers)
    @rule(data=st.data(), mode=st.sampled_from(CHECKPOINTS))
    def checkpoint(self, data: st.DataObject, mode: str) -> None:
        data.draw(st.sampled_from(self.writers)).execute(f"PRAGMA wal_checkpoint({mode})")

    @precondition(lambda self: self.writers)
    @rule(data=st.data(), mode=st.sampled_from(["wal", "delete", "truncate", "persist"]))
    def switch_journal_mode(self, data: st.DataObject, mode: str) -> None:
        # Leaving WAL mode fails as "locked" while another connection keeps the log open, as
        # the watched one does. SQLite then fails that connection's checkpoints with "disk I/O
        # error", so it is closed.
        writer = data.draw(st.sampled_from(self.writers))
        writer.execute("PRAGMA busy_timeout=0")
        try:
            writer.execute(f"PRAGMA journal_mode={mode}")
        except sqlite3.OperationalError as exc:
            if "locked" not in str(exc):
                raise
            self.writers.remove(writer)
            writer.close()
            return
        writer.execute("PRAGMA busy_timeout=10000")

    @rule()
    def read_on_watched_connection(self) -> None:
        # The server's cache misses read on the same connection, which may then notice a new
        # journal mode and close or reopen its log.
        self.reader.execute("SELECT count(*) FROM t").fetchone()

    @rule()
    def check(self) -> None:
        committed = self.watch.committed()
        if self.unreported:
            assert committed, "a commit went unreported"
        self.unreported = False

    @invariant()
    def quiet_database_reports_nothing_new(self) -> None:
        if not self.unreported:
            # Without new commits, a second check in a row reports nothing, in any mode.
            self.watch.committed()
            assert not self.watch.committed()

    def teardown(self) -> None:
        for writer in self.writers:
            writer.close()
        if hasattr(self, "watch"):
            self.reader.close()
            self.watch.close()
        self.folder.cleanup()


TestCommitWatch = CommitWatchMachine.TestCase
TestCommitWatch.settings = settings(max_examples=150, stateful_step_count=40, deadline=None)


def test_reads_the_wal_index_in_wal_mode(tmp_path: Path) -> None:
    """In WAL mode a check opens no read transaction: it reads two headers with `pread`."""
    path = tmp_path / "wal.db"
    new_database(path, "wal")
    reader, writer = connect(path), connect(path)
    watch = CommitWatch(reader, str(path), read_files=True)
    statements: list[str] = []
    reader.set_trace_callback(statements.append)

    for _ in range(3):
        assert not watch.committed()
        commit(writer)
        assert watch.committed()

    assert statements == []
    writer.close()
    reader.close()
    watch.close()


def test_rollback_journal(tmp_path: Path) -> None:
    """Without WAL mode, the watch reports each commit through `data_version` alone."""
    path = tmp_path / "rollback.db"
    new_database(path, "delete")
    reader, writer = connect(path), connect(path)
    watch = CommitWatch(reader, str(path), read_files=True)

    for _ in range(3):
        assert not watch.committed()
        commit(writer)
        assert watch.committed()

    assert not Path(f"{path}-shm").exists()
    writer.close()
    reader.close()
    watch.close()


def test_watched_connection_keeps_the_wal_index(tmp_path: Path) -> None:
    """The watch reads the `-shm` file that writers use for as long as it runs.

    SQLite deletes that file when the last connection to a WAL database closes, and a
    connection that leaves WAL mode closes it. The watched connection keeps the log open, so
    neither can happen: writers that come and go keep the same file, and leaving WAL mode fails.
    """
    path = tmp_path / "watched.db"
    new_database(path, "wal")
    reader = connect(path)
    watch = CommitWatch(reader, str(path), read_files=True)
    shm = Path(f"{path}-shm")
    inode = shm.stat().st_ino

    for _ in range(3):
        writer = connect(path)
        commit(writer)
        writer.close()
        assert watch.committed()
        assert not watch.committed()
    switcher = connect(path)
    with pytest.raises(sqlite3.OperationalError, match="database is locked"):
        switcher.execute("PRAGMA journal_mode=delete")
    switcher.close()

    assert shm.stat().st_ino == inode
    reader.close()
    watch.close()


@pytest.mark.parametrize("mode", CHECKPOINTS)
def test_commit_after_checkpoint(tmp_path: Path, mode: str) -> None:
    """A checkpoint that restarts the log resets its frame count. The next commit still shows."""
    path = tmp_path / "checkpointed.db"
    new_database(path, "wal")
    reader, writer = connect(path), connect(path)
    watch = CommitWatch(reader, str(path), read_files=True)

    commit(writer)
    assert watch.committed()
    writer.execute(f"PRAGMA wal_checkpoint({mode})")
    watch.committed()  # A checkpoint may or may not count: it changes no data.
    commit(writer)

    assert watch.committed()
    writer.close()
    reader.close()
    watch.close()


def test_restart_after_locked_database(tmp_path: Path) -> None:
    """A check that fails while another connection locks the database loses nothing.

    The database enters WAL mode, which makes the next check start again, while another
    connection holds it in exclusive locking mode. That check fails as "locked", and the one
    after the lock is released reports the commits.
    """
    path = tmp_path / "locked.db"
    new_database(path, "delete")
    reader = connect(path)
    reader.execute("PRAGMA busy_timeout=0")
    watch = CommitWatch(reader, str(path), read_files=True)
    locker = connect(path)
    locker.execute("PRAGMA journal_mode=wal")
    locker.execute("PRAGMA locking_mode=exclusive")
    commit(locker)

    with pytest.raises(sqlite3.OperationalError, match="locked"):
        watch.committed()
    locker.close()
    writer = connect(path)

    assert watch.committed()
    commit(writer)
    assert watch.committed()
    assert not watch.committed()
    writer.close()
    reader.close()
    watch.close()
