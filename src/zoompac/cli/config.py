"""Where the API commands get their target and credentials: options, profiles, environment.

A value given on the command line wins. Next come the profile named with `--profile`, then the
`ZOOM_*` environment variables, and last the defaults, which point at real Zoom. A named profile
beats the environment because naming it is an explicit choice, and mixing its account with a
client id left in the environment would call the wrong app.

Profiles live in `~/.config/zoompac/config.toml`:

    [profiles.emulator]
    base_url = "http://127.0.0.1:8090/v2"
    token_url = "http://127.0.0.1:8090/oauth/token"
    account_id = "demo-account"
    client_id = "demo-client"
    client_secret = "demo-secret"
    plan = "pro"
"""

from __future__ import annotations

import stat
import tomllib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import click
from click.core import ParameterSource
from platformdirs import user_config_path

from zoompac.client import (
    DEFAULT_BASE_URL,
    DEFAULT_TOKEN_URL,
    PLAN_LIMITS,
    Auth,
    BearerToken,
    ServerToServerAuth,
    TokenCache,
)

F = TypeVar("F", bound=Callable[..., Any])

PROFILE_KEYS = ("base_url", "token_url", "account_id", "client_id", "client_secret", "plan")
CREDENTIAL_OPTIONS = (
    ("account_id", "--account-id"),
    ("client_id", "--client-id"),
    ("client_secret", "--client-secret"),
)


def default_config_path() -> Path:
    """`~/.config/zoompac/config.toml` on Linux."""
    return user_config_path("zoompac", appauthor=False) / "config.toml"


@dataclass(frozen=True)
class Target:
    """The resolved API target and credentials of one command run."""

    base_url: str
    token_url: str
    account_id: str | None
    client_id: str | None
    client_secret: str | None
    token: str | None
    plan: str | None
    timeout: float
    cache_dir: Path | None

    def __repr__(self) -> str:
        # Keep the secret and the token out of tracebacks.
        return (
            f"Target(base_url={self.base_url!r}, token_url={self.token_url!r}, "
            f"account_id={self.account_id!r}, client_id={self.client_id!r})"
        )

    def auth(self) -> Auth:
        """Return a ready token if one was given, else Server-to-Server auth with the cache."""
        if self.token:
            return BearerToken(self.token)
        missing = [option for name, option in CREDENTIAL_OPTIONS if not getattr(self, name)]
        if missing:
            raise click.UsageError(
                f"Missing {', '.join(missing)}. Pass them, set ZOOM_ACCOUNT_ID, ZOOM_CLIENT_ID "
                "and ZOOM_CLIENT_SECRET, name a --profile that holds them, or pass a ready "
                "--token."
            )
        cache = TokenCache(self.cache_dir) if self.cache_dir is not None else None
        return ServerToServerAuth(
            str(self.account_id),
            str(self.client_id),
            str(self.client_secret),
            token_url=self.token_url,
            cache=cache,
        )


def connection_options(function: F) -> F:
    """Add the options every API command shares: target, credentials, profile, token cache."""
    options = [
        click.option(
            "--profile",
            envvar="ZOOMPAC_PROFILE",
            help="Take settings from this profile of the config file [env: ZOOMPAC_PROFILE]",
        ),
        click.option(
            "--config",
            "config_file",
            type=click.Path(dir_okay=False, path_type=Path),
            envvar="ZOOMPAC_CONFIG",
            help=(
                "Config file of the profiles "
                f"[env: ZOOMPAC_CONFIG; default: {default_config_path()}]"
            ),
        ),
        click.option(
            "--base-url",
            default=DEFAULT_BASE_URL,
            show_default=True,
            envvar="ZOOM_BASE_URL",
            help="Base URL of the Zoom API, ending in /v2 [env: ZOOM_BASE_URL]",
        ),
        click.option(
            "--token-url",
            default=DEFAULT_TOKEN_URL,
            show_default=True,
            envvar="ZOOM_TOKEN_URL",
            help="OAuth token endpoint [env: ZOOM_TOKEN_URL]",
        ),
        click.option(
            "--account-id",
            envvar="ZOOM_ACCOUNT_ID",
            help="Server-to-Server app's account id [env: ZOOM_ACCOUNT_ID]",
        ),
        click.option(
            "--client-id", envvar="ZOOM_CLIENT_ID", help="App's client id [env: ZOOM_CLIENT_ID]"
        ),
        click.option(
            "--client-secret",
            envvar="ZOOM_CLIENT_SECRET",
            help="App's client secret [env: ZOOM_CLIENT_SECRET]",
        ),
        click.option(
            "--token",
            envvar="ZOOM_ACCESS_TOKEN",
            help="A ready access token; skips the token request [env: ZOOM_ACCESS_TOKEN]",
        ),
        click.option(
            "--plan",
            type=click.Choice(sorted(PLAN_LIMITS), case_sensitive=False),
            help=(
                "The account's plan, to pace calls at its published rate limits from the first "
                "call; without it, the limits are learned from the responses"
            ),
        ),
        click.option(
            "--timeout",
            type=click.FloatRange(min=0.1),
            default=30.0,
            show_default=True,
            help="Timeout of each HTTP request, in seconds",
        ),
        click.option(
            "--token-cache-dir",
            type=click.Path(file_okay=False, path_type=Path),
            envvar="ZOOMPAC_TOKEN_CACHE_DIR",
            help=(
                "Folder of the token cache that parallel runs share "
                "[env: ZOOMPAC_TOKEN_CACHE_DIR; default: ~/.cache/zoompac/tokens]"
            ),
        ),
        click.option(
            "--no-token-cache",
            is_flag=True,
            help="Keep tokens in memory only; every run then fetches its own",
        ),
    ]
    for option in reversed(options):
        function = option(function)
    return function


CONNECTION_PARAMS = (
    "profile",
    "config_file",
    "base_url",
    "token_url",
    "account_id",
    "client_id",
    "client_secret",
    "token",
    "plan",
    "timeout",
    "token_cache_dir",
    "no_token_cache",
)


def resolve_target(ctx: click.Context, params: dict[str, Any]) -> Target:
    """Merge options, the named profile and the environment, in that order of precedence."""
    profile = _load_profile(params["profile"], params["config_file"]) if params["profile"] else {}

    def pick(name: str) -> Any:
        if ctx.get_parameter_source(name) is ParameterSource.COMMANDLINE:
            return params[name]
        if name in profile:
            return profile[name]
        return params[name]

    cache_dir = None
    if not params["no_token_cache"]:
        cache_dir = params["token_cache_dir"] or TokenCache().directory
    plan = pick("plan")
    return Target(
        base_url=str(pick("base_url")),
        token_url=str(pick("token_url")),
        account_id=pick("account_id") or None,
        client_id=pick("client_id") or None,
        client_secret=pick("client_secret") or None,
        # An empty --token is no token, so the credentials decide.
        token=params["token"] or None,
        plan=str(plan).lower() if plan else None,
        timeout=float(params["timeout"]),
        cache_dir=cache_dir,
    )


def _load_profile(name: str, config_file: Path | None) -> dict[str, Any]:
    path = config_file or default_config_path()
    try:
        with path.open("rb") as stream:
            document = tomllib.load(stream)
    except FileNotFoundError:
        raise click.UsageError(
            f"Cannot use --profile {name!r}: the config file {str(path)!r} does not exist. "
            "Create it (see docs/client.md) or pass --config."
        ) from None
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise click.UsageError(f"Cannot read the config file {str(path)!r}: {exc}.") from exc

    profiles = document.get("profiles", {})
    profile = profiles.get(name) if isinstance(profiles, dict) else None
    if not isinstance(profile, dict):
        known = ", ".join(sorted(profiles)) if isinstance(profiles, dict) else ""
        raise click.UsageError(
            f"No profile {name!r} in {str(path)!r}; "
            + (f"it defines {known}." if known else "it defines no [profiles.NAME] table.")
        )
    _check_profile(name, path, profile)
    return profile


def _check_profile(name: str, path: Path, profile: dict[str, Any]) -> None:
    unknown = sorted(set(profile) - set(PROFILE_KEYS))
    if unknown:
        raise click.UsageError(
            f"Profile {name!r} in {str(path)!r} has unknown key(s) {', '.join(unknown)}; "
            f"expected some of {', '.join(PROFILE_KEYS)}."
        )
    for key, value in profile.items():
        if not isinstance(value, str):
            raise click.UsageError(
                # The type only: the value may be a secret.
                f"Profile {name!r} in {str(path)!r}: {key} must be a string, but got a "
                f"{type(value).__name__}."
            )
    if "client_secret" in profile and path.stat().st_mode & (stat.S_IRWXG | stat.S_IRWXO):
        click.echo(
            f"Warning: {path} holds a client secret and other users may read it; "
            f"run chmod 600 {path}.",
            err=True,
        )
