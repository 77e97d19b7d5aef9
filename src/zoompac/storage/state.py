"""Whole-state operations of the control plane: wipe everything, or replace it with fixtures."""

from __future__ import annotations

from sqlalchemy import delete
from sqlalchemy.engine import Engine

from zoompac.storage.fixtures import FixtureDocument, insert_documents
from zoompac.storage.tables import (
    access_tokens,
    accounts,
    apps,
    authorization_codes,
    dial_in_numbers,
    pac_accounts,
    refresh_tokens,
    users,
)

# Children before parents, so the deletes work whether or not foreign keys cascade.
_TABLES_IN_DELETE_ORDER = (
    refresh_tokens,
    authorization_codes,
    access_tokens,
    dial_in_numbers,
    pac_accounts,
    users,
    apps,
    accounts,
)


def replace_state(engine: Engine, documents: list[FixtureDocument]) -> None:
    """Delete every account, app, user and token, then load `documents`, in one transaction.

    The token-signing key in `server_state` stays, so the server keeps its identity.
    """
    with engine.begin() as connection:
        for table in _TABLES_IN_DELETE_ORDER:
            connection.execute(delete(table))
        insert_documents(connection, documents)
