"""Options shared by several commands."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

import click

from zoompac.settings import default_data_dir

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
