"""Entry point of the `zoompac` command."""

from __future__ import annotations

import click

from zoompac import __version__
from zoompac.cli.load import load
from zoompac.cli.pac import pac
from zoompac.cli.serve import serve


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="zoompac")
def cli() -> None:
    """Emulate Zoom's PAC API offline, and call it or real Zoom."""


cli.add_command(serve)
cli.add_command(load)
cli.add_command(pac)


def main() -> None:
    cli()
