"""Start-up steps shared by `zoompac serve` and the in-process test server."""

from __future__ import annotations

import logging
import os
from pathlib import Path

from zoompac.domain.secrets import random_urlsafe
from zoompac.settings import Settings, default_data_dir, is_loopback
from zoompac.storage.fixtures import (
    DEMO_ACCOUNT_ID,
    FixtureDocument,
    account_exists,
    demo_fixture_text,
    parse_fixture,
    read_fixture_file,
    with_hashed_secrets,
)
from zoompac.web.runtime import Runtime, build_runtime

logger = logging.getLogger("zoompac")


def prepare_runtime(settings: Settings, fixture_files: list[Path] | None = None) -> Runtime:
    """Build the runtime and load the demo data and fixture files that are not stored yet.

    Every fixture given at start becomes part of the state that a control-plane reset restores,
    whether this start loaded it or an earlier one did.
    """
    runtime = build_runtime(settings)
    documents: list[FixtureDocument] = []
    if settings.demo:
        documents.append(parse_fixture(demo_fixture_text()))
    documents += [read_fixture_file(path) for path in fixture_files or []]

    for document in documents:
        stored = all(account_exists(runtime.engine, account.id) for account in document.accounts)
        if stored:
            runtime.baseline.append(with_hashed_secrets(document))
        else:
            runtime.load(document)
            logger.info("Loaded %d account(s) from a fixture", len(document.accounts))

    if settings.demo and not is_loopback(settings.host):
        logger.warning(
            "The demo credentials (demo-client / demo-secret) are public, and this server "
            "listens on %s, beyond this machine. Anyone who reaches it can read the demo data.",
            settings.host,
        )
    return runtime


def control_plane_token(settings: Settings) -> tuple[str | None, Path | None]:
    """Return the admin token of the control plane, or None when the control plane is off.

    Without a configured token, a random one is written to a file readable only by the current
    user, and that file's path is returned, so the token never appears in output or logs.
    """
    if not settings.control_plane_enabled():
        return None, None
    if settings.admin_token:
        return settings.admin_token, None
    path = default_data_dir() / "admin-token"
    path.parent.mkdir(parents=True, exist_ok=True)
    token = random_urlsafe(24)
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "w") as handle:
        handle.write(token + "\n")
    return token, path


__all__ = ["DEMO_ACCOUNT_ID", "control_plane_token", "prepare_runtime"]
