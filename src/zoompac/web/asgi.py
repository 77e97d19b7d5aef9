"""The app factory that each worker process of `zoompac serve --workers N` imports."""

from __future__ import annotations

import logging
import os

from starlette.types import ASGIApp

from zoompac.web.lean import leave_out_cryptography

# The parent process passes its resolved settings to the workers in this variable.
SETTINGS_VARIABLE = "ZOOMPAC_WORKER_SETTINGS"


def worker_app() -> ASGIApp:
    """Build one worker's app; the parent has already migrated and loaded fixtures."""
    # These modules are imported after `cryptography` is left out. The protocol, which the worker
    # imported while it unpickled its configuration, does not import PyJWT.
    leave_out_cryptography()
    from zoompac.settings import Settings
    from zoompac.web.app import create_app
    from zoompac.web.runtime import build_runtime
    from zoompac.web.startup import freeze_startup_objects, keep_large_blocks_mapped

    keep_large_blocks_mapped()
    settings = Settings.model_validate_json(os.environ[SETTINGS_VARIABLE])
    logging.basicConfig(level=settings.log_level.upper(), format="%(levelname)s: %(message)s")
    app = create_app(build_runtime(settings, own_process=True))
    freeze_startup_objects()
    return app
