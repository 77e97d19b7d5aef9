"""`zoompac serve`: run the emulated Zoom API."""

from __future__ import annotations

import logging
import os
import socket
import sys
from pathlib import Path
from typing import Any

import click
import uvicorn
from pydantic import ValidationError
from sqlalchemy.engine import make_url

from zoompac import __version__
from zoompac.cli.options import database_errors, database_option
from zoompac.domain.errors import FixtureError
from zoompac.domain.models import ConferenceIdFormat
from zoompac.domain.ratelimits import parse_overrides
from zoompac.settings import Settings
from zoompac.storage.fixtures import DEMO_ACCOUNT_ID
from zoompac.web.app import create_app
from zoompac.web.asgi import SETTINGS_VARIABLE
from zoompac.web.protocol import uvicorn_options
from zoompac.web.startup import (
    control_plane_token,
    freeze_startup_objects,
    keep_large_blocks_mapped,
    prepare_runtime,
)

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
    "--redis",
    metavar="URL",
    default=None,
    help=(
        "Redis URL for rate-limit counters shared by workers, e.g. redis://127.0.0.1:6379/0 "
        "[env: ZOOMPAC_REDIS; default: counters in this process]"
    ),
)
@click.option(
    "--redis-prefix",
    default=None,
    help=(
        "Prefix of every Redis key; servers of one deployment share it "
        "[env: ZOOMPAC_REDIS_PREFIX; default: zoompac]"
    ),
)
@click.option(
    "--workers",
    type=click.IntRange(min=1, max=256),
    default=None,
    help="Worker processes sharing the port; more than 1 needs --redis [env: ZOOMPAC_WORKERS]",
)
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
    "--fixture",
    "fixture_files",
    multiple=True,
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="Load this JSON or YAML fixture at start if its accounts are not stored yet; repeatable",
)
@click.option(
    "--seed",
    type=int,
    default=None,
    help=(
        "Seed every generated id, password, token and tracking id, for repeatable runs "
        "[env: ZOOMPAC_SEED]"
    ),
)
@click.option(
    "--control-plane/--no-control-plane",
    default=None,
    help=(
        "Serve the control plane under /zoompac/ "
        "[env: ZOOMPAC_CONTROL_PLANE; default: on for loopback hosts only]"
    ),
)
@click.option(
    "--admin-token-file",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    default=None,
    help=(
        "File containing the control plane's admin token [env ZOOMPAC_ADMIN_TOKEN contains the "
        "token itself; default: a new random token written to the data folder]"
    ),
)
@click.option(
    "--log-level",
    type=click.Choice(["critical", "error", "warning", "info", "debug"]),
    default=None,
    help="Server log level [env: ZOOMPAC_LOG_LEVEL; default: info]",
)
def serve(fixture_files: tuple[Path, ...], admin_token_file: Path | None, **options: Any) -> None:
    """Serve the emulated Zoom API until interrupted."""
    if admin_token_file is not None:
        options["admin_token"] = admin_token_file.read_text(encoding="utf-8").strip()
        if not options["admin_token"]:
            raise click.BadParameter(
                f"{admin_token_file} is empty: write the admin token into it.",
                param_hint="'--admin-token-file'",
            )
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
    if settings.workers > 1 and not settings.redis:
        raise click.UsageError(
            f"--workers {settings.workers} needs --redis: rate-limit counters must be shared by "
            "all workers, or each would allow the full limit. Start Redis and pass its URL, "
            "or serve with one worker."
        )

    logging.basicConfig(level=settings.log_level.upper(), format="%(levelname)s: %(message)s")
    keep_large_blocks_mapped()  # Before fixtures are loaded, as their secrets are hashed.
    listener = _bind(settings.host, settings.port)
    settings.port = listener.getsockname()[1]

    try:
        with database_errors(settings.database):
            runtime = prepare_runtime(settings, list(fixture_files), own_process=True)
    except FixtureError as exc:
        raise click.ClickException(f"Cannot load a fixture: {exc}.") from exc
    if settings.workers > 1:
        _serve_workers(settings, listener)
        return

    admin_token, admin_token_path = control_plane_token(settings)
    _print_banner(settings, admin_token is not None, admin_token_path)
    config = uvicorn.Config(create_app(runtime, admin_token), **_uvicorn_options(settings))
    freeze_startup_objects()
    uvicorn.Server(config).run(sockets=[listener])


def _uvicorn_options(settings: Settings) -> dict[str, Any]:
    return {
        **uvicorn_options(),
        "log_level": settings.log_level,
        # The access log would print query strings, where a careless client may put a token.
        "access_log": False,
    }


def _serve_workers(settings: Settings, listener: socket.socket) -> None:
    """Run `settings.workers` processes on one listening socket, each with its own runtime."""
    if settings.control_plane_enabled():
        # TODO: share the journal, faults, clock and run-time settings through Redis, so the
        # control plane can steer every worker at once.
        logger.warning("The control plane is off: it works with one worker only.")
    _print_banner(settings, control_plane=False, admin_token_path=None)
    os.environ[SETTINGS_VARIABLE] = settings.model_dump_json()
    config = uvicorn.Config(
        "zoompac.web.asgi:worker_app",
        factory=True,
        workers=settings.workers,
        **_uvicorn_options(settings),
    )
    from uvicorn.supervisors import Multiprocess

    Multiprocess(config, sockets=[listener]).run()


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


def _print_banner(settings: Settings, control_plane: bool, admin_token_path: Path | None) -> None:
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
    if control_plane:
        where = f" (admin token in {admin_token_path})" if admin_token_path else ""
        lines += ["", f"Control plane: {base}/zoompac/{where}"]
    lines.append("")
    click.echo("\n".join(lines))
    sys.stdout.flush()


def _first_problem(exc: ValidationError) -> str:
    error = exc.errors()[0]
    name = ".".join(str(part) for part in error["loc"])
    return f"Invalid value for {name}: {error['msg']}"
