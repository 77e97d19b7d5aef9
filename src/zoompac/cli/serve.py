"""`zoompac serve`: run the emulated Zoom API."""

from __future__ import annotations

import ipaddress
import logging
import socket
import sys
from typing import Any

import click
import uvicorn
from pydantic import ValidationError
from sqlalchemy.engine import make_url

from zoompac import __version__
from zoompac.cli.options import database_option
from zoompac.domain.models import ConferenceIdFormat
from zoompac.domain.ratelimits import parse_overrides
from zoompac.settings import Settings
from zoompac.storage.fixtures import (
    DEMO_ACCOUNT_ID,
    account_exists,
    demo_fixture_text,
    load_fixture,
    parse_fixture,
)
from zoompac.web.app import create_app
from zoompac.web.runtime import build_runtime

logger = logging.getLogger("zoompac")


@click.command()
@click.option(
    "--host", default=None, help="Interface to listen on [env: ZOOMPAC_HOST; default: 127.0.0.1]"
)
@click.option(
    "--port",
    type=int,
    default=None,
    help="TCP port; 0 picks a free one [env: ZOOMPAC_PORT; default: 8090]",
)
@database_option
@click.option(
    "--demo",
    is_flag=True,
    default=None,
    help="Load the demo account, app and users if they are not stored yet [env: ZOOMPAC_DEMO]",
)
@click.option(
    "--conference-id-format",
    type=click.Choice([f.value for f in ConferenceIdFormat]),
    default=None,
    help=(
        "JSON type of conference_id in PAC responses "
        "[env: ZOOMPAC_CONFERENCE_ID_FORMAT; default: string]"
    ),
)
@click.option(
    "--token-lifetime",
    type=click.IntRange(min=1),
    default=None,
    help="Access-token lifetime in seconds [env: ZOOMPAC_TOKEN_LIFETIME; default: 3600]",
)
@click.option(
    "--revoke-older-tokens/--keep-older-tokens",
    default=None,
    help=(
        "Whether a new token revokes the app's older ones "
        "[env: ZOOMPAC_REVOKE_OLDER_TOKENS; default: keep]"
    ),
)
@click.option(
    "--rate-limits/--no-rate-limits",
    default=None,
    help="Enforce Zoom's per-account rate limits [env: ZOOMPAC_RATE_LIMITS; default: on]",
)
@click.option(
    "--rate-limit",
    multiple=True,
    metavar="PLAN.LABEL[.daily]=N|off",
    help=(
        "Override one limit, in requests per second or per UTC day with .daily; repeatable. "
        "Example: --rate-limit pro.light=2 --rate-limit free.light.daily=100"
    ),
)
@click.option(
    "--auto-approve-user",
    metavar="USER",
    default=None,
    help=(
        "Approve every OAuth authorization request at once as USER (an id or e-mail) "
        "[env: ZOOMPAC_AUTO_APPROVE_USER]"
    ),
)
@click.option(
    "--clock-start",
    metavar="ISO-8601",
    default=None,
    help=(
        "Start the server clock at this UTC instant, e.g. 2026-01-01T23:59:58Z; it then "
        "advances in real time [env: ZOOMPAC_CLOCK_START]"
    ),
)
@click.option(
    "--log-level",
    type=click.Choice(["critical", "error", "warning", "info", "debug"]),
    default=None,
    help="Server log level [env: ZOOMPAC_LOG_LEVEL; default: info]",
)
def serve(**options: Any) -> None:
    """Serve the emulated Zoom API until interrupted."""
    overrides = {
        name: value for name, value in options.items() if value is not None and value != ()
    }
    try:
        settings = Settings(**overrides)
        parse_overrides(settings.rate_limit)
    except ValidationError as exc:
        raise click.UsageError(_first_problem(exc)) from exc
    except ValueError as exc:
        raise click.UsageError(str(exc)) from exc

    logging.basicConfig(level=settings.log_level.upper(), format="%(levelname)s: %(message)s")
    listener = _bind(settings.host, settings.port)
    settings.port = listener.getsockname()[1]

    runtime = build_runtime(settings)
    if settings.demo:
        _load_demo_data(runtime.engine, settings.host)

    _print_banner(settings)
    config = uvicorn.Config(
        create_app(runtime),
        log_level=settings.log_level,
        # The access log would print query strings, where a careless client may put a token.
        access_log=False,
        server_header=False,
        date_header=True,
    )
    uvicorn.Server(config).run(sockets=[listener])


def _bind(host: str, port: int) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    listener = socket.socket(family, socket.SOCK_STREAM)
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        listener.bind((host, port))
    except OSError as exc:
        listener.close()
        raise click.ClickException(f"Cannot listen on {host}:{port}: {exc.strerror}.") from exc
    listener.listen(2048)
    listener.set_inheritable(True)
    return listener


def _load_demo_data(engine: Any, host: str) -> None:
    if not account_exists(engine, DEMO_ACCOUNT_ID):
        load_fixture(engine, parse_fixture(demo_fixture_text()))
        logger.info("Loaded the demo data into the database")
    if not _is_loopback(host):
        logger.warning(
            "The demo credentials (demo-client / demo-secret) are public, and this server "
            "listens on %s, beyond this machine. Anyone who reaches it can read the demo data.",
            host,
        )


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _print_banner(settings: Settings) -> None:
    base = settings.public_api_url()
    database = make_url(settings.database).render_as_string(hide_password=True)
    lines = [
        f"zoompac {__version__}: Zoom API emulator at {base}/v2 (database {database})",
    ]
    if settings.demo:
        lines += [
            "",
            "Get a token for the demo app:",
            f"  TOKEN=$(curl -s -X POST -u demo-client:demo-secret "
            f"'{base}/oauth/token?grant_type=account_credentials&account_id={DEMO_ACCOUNT_ID}' "
            "| python3 -c 'import json,sys; print(json.load(sys.stdin)[\"access_token\"])')",
            "List the PAC accounts of the demo user:",
            f'  curl -H "Authorization: Bearer $TOKEN" {base}/v2/users/pac.user@example.com/pac',
        ]
    lines.append("")
    click.echo("\n".join(lines))
    sys.stdout.flush()


def _first_problem(exc: ValidationError) -> str:
    error = exc.errors()[0]
    name = ".".join(str(part) for part in error["loc"])
    return f"Invalid value for {name}: {error['msg']}"
