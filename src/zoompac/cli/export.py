"""`zoompac export`: write the whole database as a fixture file that `zoompac load` reads."""

from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path

import click

from zoompac.cli.options import database_option, open_database
from zoompac.domain.errors import FixtureError
from zoompac.storage.export import ExportFormat, dump_fixture, export_fixture

_FORMAT_BY_SUFFIX: dict[str, ExportFormat] = {".yaml": "yaml", ".yml": "yaml", ".json": "json"}


@click.command()
@click.argument("file", type=click.Path(dir_okay=False, allow_dash=True, path_type=Path))
@database_option
@click.option(
    "--format",
    "export_format",
    type=click.Choice(["yaml", "json"]),
    default=None,
    help="File format [default: from FILE's suffix: .json is JSON, .yaml and .yml are YAML]",
)
def export(file: Path, database: str | None, export_format: ExportFormat | None) -> None:
    """Write every account, app, user and PAC account to FILE ('-' for standard output).

    Apps are written with their client-secret hashes, never with plain secrets, so the same
    secrets work after `zoompac load FILE`. PAC passwords are written in plain text.
    """
    is_stdout = str(file) == "-"
    if export_format is None:
        export_format = "yaml" if is_stdout else _format_from_suffix(file)

    engine = open_database(database)
    try:
        document = export_fixture(engine)
    except FixtureError as exc:
        raise click.ClickException(f"Cannot export the database: {exc}.") from exc
    text = dump_fixture(document, export_format)

    if is_stdout:
        sys.stdout.write(text)
        return
    _write_private(file, text)
    apps = sum(len(account.apps) for account in document.accounts)
    users = sum(len(account.users) for account in document.accounts)
    pac = sum(len(user.pac_accounts) for account in document.accounts for user in account.users)
    click.echo(
        f"Exported {len(document.accounts)} account(s), {apps} app(s), {users} user(s) and "
        f"{pac} PAC account(s) to {file}.",
        err=True,
    )


def _format_from_suffix(file: Path) -> ExportFormat:
    try:
        return _FORMAT_BY_SUFFIX[file.suffix.lower()]
    except KeyError:
        raise click.BadParameter(
            f"cannot tell the format of {str(file)!r} from its suffix {file.suffix!r}: name the "
            "file *.yaml, *.yml or *.json, or pass --format yaml or --format json.",
            param_hint="FILE",
        ) from None


def _write_private(file: Path, text: str) -> None:
    """Replace `file` with `text` atomically, readable by the owner only.

    The file contains PAC passwords, so it is created with mode 0600. Writing a temporary file
    and renaming it means that a failed write never leaves half a fixture behind.
    """
    directory = file.parent
    try:
        descriptor, temporary = tempfile.mkstemp(
            dir=directory, prefix=f".{file.name}.", suffix=".tmp"
        )
    except OSError as exc:
        raise click.ClickException(f"Cannot write {file}: {exc.strerror}.") from exc
    try:
        with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
            handle.write(text)
        os.replace(temporary, file)
    except OSError as exc:
        Path(temporary).unlink(missing_ok=True)
        raise click.ClickException(f"Cannot write {file}: {exc.strerror}.") from exc
