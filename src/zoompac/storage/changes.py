"""Notice commits to a SQLite file by any connection, cheaply enough to check on every request.

`PRAGMA data_version` answers that question, but each call is a read transaction: with its
file locks it cost about 5 µs on the development machine, a tenth of a whole cached PAC request.
In WAL mode every commit rewrites the wal-index header at the start of the `-shm` file, whose
layout SQLite documents for its unix VFS (https://www.sqlite.org/walformat.html, "The WAL-Index
Header"). Reading those 48 bytes with `pread` takes about 1 µs, and a commit always changes
them: it raises `mxFrame`, or restarts the log with new salts, and increments `iChange`.

The header only speaks for a database in WAL mode, so every check also reads the two version
bytes at offset 18 of the database file, which are 2 in WAL mode. When they change, the watch
runs `PRAGMA data_version` and starts again from the connection's current state. A database
that is not in WAL mode is watched through `PRAGMA data_version` alone. While the watched
connection is open, no other connection can take the database out of WAL mode or delete the
`-shm` file (`tests/test_commit_watch.py`).

`pread` rather than `mmap`: SQLite may truncate a `-shm` file that no connection has open, and
reading a mapped page past the end of a file kills the process with SIGBUS.

The watch keeps its own descriptors of the two files, and closing one would drop every POSIX
lock that the process holds on that file, SQLite's included: another process could then
checkpoint and delete the log under this one's connections. So the watch never closes them
while the process may still use the database. Only a process that owns its database
connections, such as a `zoompac serve` worker, should read the files; they stay open until it
exits. Elsewhere the watch runs `PRAGMA data_version` on every check.
"""

from __future__ import annotations

import os
import sqlite3
import sys

# The write and read versions in the database header: both 2 in WAL mode, 1 otherwise.
_VERSIONS_OFFSET = 18
_WAL_VERSIONS = b"\x02\x02"
# The first copy of the wal-index header, written last when a commit publishes a new one.
_WAL_INDEX_HEADER_SIZE = 48
# `iVersion`, the first field of the wal-index header, in the machine's byte order.
_WAL_INDEX_VERSION = (3007000).to_bytes(4, sys.byteorder)


class CommitWatch:
    """A check for commits to a SQLite database by any connection since the previous check.

    `connection` must be a connection of its own that this watch alone uses and that never
    writes. It stays open in WAL mode, which keeps SQLite from removing the `-shm` file.
    The watch's file descriptors stay open until `close()`, which is safe only once no
    connection of this process has the database open (see the module's docstring).
    """

    def __init__(
        self, connection: sqlite3.Connection, database_path: str, *, read_files: bool
    ) -> None:
        self._connection = connection
        self._database: int | None = None
        self._versions = b""
        self._wal_index: int | None = None
        self._wal_index_header = b""
        # Descriptors of `-shm` files replaced since: closing them could drop SQLite's locks.
        self._retired: list[int] = []
        if read_files:
            self._database = os.open(database_path, os.O_RDONLY | os.O_CLOEXEC)
            self._restart(self._database)
        self._version = self._data_version()

    def committed(self) -> bool:
        """Return whether a commit happened since the last call (or since the watch began)."""
        if self._database is None:
            return self._version_changed()
        versions = os.pread(self._database, 2, _VERSIONS_OFFSET)
        if versions == self._versions:
            if self._wal_index is None:
                return self._version_changed()
            header = os.pread(self._wal_index, _WAL_INDEX_HEADER_SIZE, 0)
            if header == self._wal_index_header:
                return False
            self._wal_index_header = header
            return True
        # The database entered or left WAL mode.
        self._restart(self._database)
        self._version_changed()
        return True

    def close(self) -> None:
        """Close the descriptors; only once no connection of this process uses the database."""
        self._retire_wal_index()
        for descriptor in self._retired:
            os.close(descriptor)
        self._retired.clear()
        if self._database is not None:
            os.close(self._database)
            self._database = None

    def _restart(self, database: int) -> None:
        """Take the version bytes and, in WAL mode, the wal-index and its header.

        A commit after this shows as a new wal-index header, or in `data_version`. If a step
        fails, the watch keeps its state, so the next check starts again.
        """
        # A read transaction opens the log and the wal-index for this connection in WAL mode.
        # Open, they keep any other connection from deleting or truncating the `-shm` file.
        self._data_version()
        versions = os.pread(database, 2, _VERSIONS_OFFSET)
        (mode,) = self._connection.execute("PRAGMA journal_mode").fetchone()
        wal_index = None
        header = b""
        if mode == "wal" and versions == _WAL_VERSIONS:
            # The `-shm` file is named after the database path as SQLite resolved it.
            path = self._connection.execute("PRAGMA database_list").fetchone()[2]
            wal_index = _open_wal_index(f"{path}-shm", self._wal_index)
        if wal_index is not None:
            try:
                header = os.pread(wal_index, _WAL_INDEX_HEADER_SIZE, 0)
            except OSError:
                if wal_index != self._wal_index:
                    self._retired.append(wal_index)
                raise

        if self._wal_index is not None and self._wal_index != wal_index:
            self._retired.append(self._wal_index)
        self._versions = versions
        self._wal_index = wal_index
        self._wal_index_header = header
        if len(header) != _WAL_INDEX_HEADER_SIZE or header[:4] != _WAL_INDEX_VERSION:
            # Not in WAL mode, or the wal-index is kept elsewhere: `data_version` decides.
            self._retire_wal_index()

    def _retire_wal_index(self) -> None:
        if self._wal_index is not None:
            self._retired.append(self._wal_index)
            self._wal_index = None

    def _version_changed(self) -> bool:
        version = self._data_version()
        changed = version != self._version
        self._version = version
        return changed

    def _data_version(self) -> int:
        (version,) = self._connection.execute("PRAGMA data_version").fetchone()
        return int(version)


def _open_wal_index(path: str, previous: int | None) -> int | None:
    """Open the `-shm` file at `path`, reusing `previous` if it is that same file."""
    try:
        current = os.stat(path)
    except OSError:
        return None  # Another VFS, or a wal-index in heap memory.
    if previous is not None and os.path.samestat(os.fstat(previous), current):
        return previous
    try:
        return os.open(path, os.O_RDONLY | os.O_CLOEXEC)
    except OSError:
        return None
