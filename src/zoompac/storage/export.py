"""Export of the whole stored state as a fixture document that `load_fixture` loads again.

Loading the export into an empty database stores the same accounts, apps, users and PAC
accounts: the same ids, the same client-secret hashes (so the same secrets still work) and the
same order of dial-in numbers. Creation times, issued tokens and the token-signing key are not
part of the fixture format and are not exported.
"""

from __future__ import annotations

import json
import re
from collections import defaultdict
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any, Literal

import yaml
from pydantic import ValidationError
from sqlalchemy import select
from sqlalchemy.engine import Connection, Engine

from zoompac.domain.errors import FixtureError
from zoompac.storage.fixtures import FixtureDocument
from zoompac.storage.tables import accounts, apps, dial_in_numbers, pac_accounts, users

ExportFormat = Literal["yaml", "json"]

_YAML_HEADER = (
    "# A zoompac fixture exported from a database. `zoompac load FILE` loads it.\n"
    "# Apps carry only client-secret hashes, but PAC passwords are in plain text.\n"
)


def export_fixture(engine: Engine) -> FixtureDocument:
    """Read every account with its apps, users and PAC accounts into one fixture document.

    Accounts and users are ordered by id, apps, PAC accounts and dial-in numbers by the order
    they were stored in, so exporting a database loaded from an export gives the same document.
    """
    with _snapshot(engine) as connection:
        account_rows = connection.execute(select(accounts).order_by(accounts.c.id)).all()
        app_rows = connection.execute(select(apps).order_by(apps.c.id)).all()
        user_rows = connection.execute(select(users).order_by(users.c.id)).all()
        pac_rows = connection.execute(select(pac_accounts).order_by(pac_accounts.c.id)).all()
        number_rows = connection.execute(
            select(dial_in_numbers).order_by(dial_in_numbers.c.id)
        ).all()

    numbers_by_pac: dict[int, dict[str, list[dict[str, str]]]] = defaultdict(
        lambda: {"dedicated": [], "global": []}
    )
    for row in number_rows:
        numbers_by_pac[row.pac_account_id][row.kind].append(
            {"number": row.number, "country": row.country}
        )

    pac_by_user: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for row in pac_rows:
        numbers = numbers_by_pac[row.id]
        pac_by_user[row.user_id].append(
            {
                "conference_id": row.conference_id,
                "participant_password": row.participant_password,
                "listen_only_password": row.listen_only_password,
                "dedicated_dial_in_number": numbers["dedicated"],
                "global_dial_in_numbers": numbers["global"],
            }
        )

    users_by_account: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for row in user_rows:
        users_by_account[row.account_id].append(
            {
                "id": row.id,
                "email": row.email,
                "first_name": row.first_name,
                "last_name": row.last_name,
                "type": row.type,
                "status": row.status,
                "pac_enabled": bool(row.pac_enabled),
                "pac_accounts": pac_by_user[row.id],
            }
        )

    apps_by_account: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for row in app_rows:
        apps_by_account[row.account_id].append(
            {
                "client_id": row.client_id,
                "client_secret_hash": row.client_secret_hash,
                "kind": row.kind,
                "scopes": row.scopes.split(),
                "redirect_uri": row.redirect_uri,
                "active": bool(row.active),
            }
        )

    document = {
        "version": 1,
        "accounts": [
            {
                "id": row.id,
                "name": row.name,
                "plan": row.plan,
                "audio_conferencing": bool(row.audio_conferencing),
                "pac_enabled": bool(row.pac_enabled),
                "apps": apps_by_account[row.id],
                "users": users_by_account[row.id],
            }
            for row in account_rows
        ],
    }
    return _validated(document)


def dump_fixture(document: FixtureDocument, export_format: ExportFormat) -> str:
    """Render a fixture document as YAML (with a header comment) or as JSON."""
    data = document.model_dump(mode="json", exclude_none=True)
    if export_format == "json":
        return json.dumps(data, indent=2, ensure_ascii=False) + "\n"
    body = yaml.dump(
        data,
        Dumper=_FixtureDumper,
        sort_keys=False,
        allow_unicode=True,
        default_flow_style=False,
    )
    return _YAML_HEADER + body


class _FixtureDumper(yaml.SafeDumper):
    """A YAML dumper that quotes every number-like string.

    PyYAML reads a password such as 074905 as a string, because YAML 1.1 has no such integer,
    but YAML 1.2 parsers read it as the number 74905 and lose the leading zero.
    """


def _represent_str(dumper: yaml.SafeDumper, value: str) -> yaml.ScalarNode:
    style = "'" if _NUMBER_LIKE.fullmatch(value) else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", value, style=style)


_NUMBER_LIKE = re.compile(r"[-+]?[0-9][0-9._]*")
_FixtureDumper.add_representer(str, _represent_str)


@contextmanager
def _snapshot(engine: Engine) -> Iterator[Connection]:
    """Open a connection whose queries all read one consistent state of the database.

    Without this, a write by another process between two queries could export a PAC account
    whose user is missing.
    """
    with engine.connect() as connection:
        if engine.dialect.name == "sqlite":
            # pysqlite opens no transaction before a SELECT, so each query would read the latest
            # state. An explicit BEGIN makes all of them read one snapshot.
            connection.exec_driver_sql("BEGIN")
        else:
            # NOTE: only the SQLite branch is covered by the tests.
            connection.execution_options(isolation_level="REPEATABLE READ")
        yield connection


def _validated(document: dict[str, Any]) -> FixtureDocument:
    """Build the fixture model, so a stored value that the fixture format rejects shows now.

    `zoompac load` and `zoompac admin` check values against the same models, so this fails only
    for rows written another way.
    """
    try:
        return FixtureDocument.model_validate(document)
    except ValidationError as exc:
        error = exc.errors()[0]
        location = ""
        for part in error["loc"]:
            location += f"[{part}]" if isinstance(part, int) else f".{part}"
        raise FixtureError(
            location.lstrip("."),
            f"the stored value {error['input']!r} cannot be exported: {error['msg']}",
        ) from exc
