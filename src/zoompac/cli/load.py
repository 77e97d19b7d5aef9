"""`zoompac load`: load a fixture file into the database."""

from __future__ import annotations

from pathlib import Path

import click

from zoompac.cli.options import database_option, open_database
from zoompac.domain.errors import FixtureError
from zoompac.storage.fixtures import load_fixture, read_fixture_file


@click.command()
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@database_option
@click.option(
    "--replace", is_flag=True, help="Delete stored accounts that the file defines, then load them."
)
def load(file: Path, database: str | None, replace: bool) -> None:
    """Load a JSON or YAML fixture FILE in one transaction; on any error nothing is loaded."""
    engine = open_database(database)
    try:
        summary = load_fixture(engine, read_fixture_file(file), replace=replace)
    except FixtureError as exc:
        raise click.ClickException(f"Cannot load {file}: {exc}. Nothing was loaded.") from exc
    click.echo(
        f"Loaded {summary.accounts} account(s), {summary.apps} app(s), {summary.users} user(s) "
        f"and {summary.pac_accounts} PAC account(s) from {file}."
    )
