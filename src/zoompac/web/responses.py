"""JSON responses encoded once with orjson."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import orjson
from starlette.responses import Response


class JSONResponse(Response):
    media_type = "application/json"

    def __init__(
        self, content: Any, status_code: int = 200, headers: Mapping[str, str] | None = None
    ) -> None:
        super().__init__(orjson.dumps(content), status_code, headers)


def zoom_error(
    status_code: int, code: int, message: str, headers: Mapping[str, str] | None = None
) -> Response:
    """Build Zoom's error envelope: `{"code", "message"}` and nothing else."""
    return Response(zoom_error_body(code, message), status_code, headers, "application/json")


def zoom_error_body(code: int, message: str) -> bytes:
    return orjson.dumps({"code": code, "message": message})
