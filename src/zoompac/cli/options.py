"""Options shared by several commands."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any, TypeVar

import click
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.exc import ArgumentError, DBAPIError

from zoompac.settings import Settings, default_data_dir
from zoompac.storage.database import migrate, open_engine

if TYPE_CHECKING:
    from rich.console import Console

F = TypeVar("F", bound=Callable[..., Any])


def database_option(function: F) -> F:
    return click.option(
        "--database",
        metavar="URL",
        envvar="ZOOMPAC_DATABASE",
        default=None,
        help=(
            "SQLAlchemy database URL [env: ZOOMPAC_DATABASE; default: a SQLite file in "
            f"{default_data_dir()}]"
        ),
    )(function)


@contextmanager
def database_errors(url: str) -> Iterator[None]:
    """Turn a database that cannot be opened or migrated into a one-line CLI error."""
    masked_url = _masked(url)
    try:
        yield
    except ArgumentError as exc:
        raise click.BadParameter(
            f"{masked_url!r} is not a database URL. Expected one such as "
            "sqlite:////path/to/zoompac.db or postgresql://user@host/zoompac",
            param_hint="'--database'",
        ) from exc
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint="'--database'") from exc
    except DBAPIError as exc:
        message = f"Cannot open the database {masked_url}: {exc.orig}."
        raise click.ClickException(message) from exc
    except OSError as exc:
        raise click.ClickException(
            f"Cannot open the database {masked_url}: {exc.strerror}."
        ) from exc


def open_database(database: str | None) -> Engine:
    """Open and migrate the database of `--database`, or the default one."""
    settings = Settings() if database is None else Settings(database=database)
    with database_errors(settings.database):
        engine = open_engine(settings.database)
        migrate(engine)
    return engine


def _masked(url: str) -> str:
    try:
        return make_url(url).render_as_string(hide_password=True)
    except ArgumentError:
        return url


def table_console() -> Console:
    """Return a console for tables: the terminal's width, or 200 columns when output is piped.

    rich assumes 80 columns without a terminal and would cut column headers short in a file.
    """
    # Imported here: `zoompac serve` imports this module and prints no tables.
    from rich.console import Console

    console = Console(soft_wrap=True)
    if not console.is_terminal:
        console = Console(soft_wrap=True, width=200)
    return console
