"""Entry point of the `zoompac` command."""

from __future__ import annotations

import importlib

import click

from zoompac import __version__
from zoompac.web.lean import leave_out_cryptography

# Each command is imported only when it runs, so `zoompac pac list` does not pay for importing
# the server, and a server start does not import the client.
_COMMANDS = {
    "serve": ("zoompac.cli.serve", "serve", "Serve the emulated Zoom API until interrupted."),
    "load": ("zoompac.cli.load", "load", "Load a JSON or YAML fixture file in one transaction."),
    "export": ("zoompac.cli.export", "export", "Write the stored state as a fixture file."),
    "admin": ("zoompac.cli.admin", "admin", "Create and change accounts, apps, users and PAC."),
    "pac": ("zoompac.cli.pac", "pac", "List or audit PAC accounts on Zoom or zoompac."),
}


class LazyGroup(click.Group):
    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(_COMMANDS)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name not in _COMMANDS:
            return None
        module_name, attribute, _ = _COMMANDS[cmd_name]
        if cmd_name == "serve":
            # Before the server's modules, which import PyJWT.
            leave_out_cryptography()
        command = getattr(importlib.import_module(module_name), attribute)
        if not isinstance(command, click.Command):
            raise TypeError(f"{module_name}.{attribute} is not a click command")
        return command

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        # Help lists the commands from the table above instead of importing every module.
        rows = [(name, help_text) for name, (_, _, help_text) in sorted(_COMMANDS.items())]
        with formatter.section("Commands"):
            formatter.write_dl(rows)


@click.group(cls=LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="zoompac")
def cli() -> None:
    """Emulate Zoom's PAC API offline, and call it or real Zoom."""


def main() -> None:
    cli()
