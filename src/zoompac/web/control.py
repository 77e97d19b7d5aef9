"""The control plane under `/zoompac/`: reset, load, dump, journal, faults, clock and settings.

It is a separate Starlette app, so its routes never mix with the emulated Zoom API, and every
request to it must carry `Authorization: Bearer <admin token>`.
"""

from __future__ import annotations

import hmac
import json
from datetime import datetime
from typing import Annotated, Any, Literal, TypeVar

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator
from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route
from starlette.types import ASGIApp, Receive, Scope, Send

from zoompac.domain.errors import AdminError, FixtureError, NotFound, ZoomApiError
from zoompac.domain.models import UserStatus
from zoompac.storage import admin
from zoompac.storage.export import export_fixture
from zoompac.storage.fixtures import parse_fixture
from zoompac.storage.health import CONNECTION_ERRORS
from zoompac.web.errors import handle_connection_error, handle_unexpected, handle_zoom_api_error
from zoompac.web.responses import JSONResponse, zoom_error
from zoompac.web.runtime import Runtime

# A clock step of a hundred years is far beyond any test, and keeps dates representable.
MAX_CLOCK_STEP_SECONDS = 100 * 366 * 86_400
ModelT = TypeVar("ModelT", bound=BaseModel)
MAX_BODY_BYTES = 32 * 1024 * 1024


class ControlPlaneError(Exception):
    """A control-plane request that cannot be carried out; becomes a 400 JSON error."""

    def __init__(self, message: str, status_code: int = 400) -> None:
        super().__init__(message)
        self.message = message
        self.status_code = status_code


class FaultBody(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)

    code: int
    message: str


class FaultSpec(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)

    method: Literal["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"] | None = None
    # A path template such as /v2/users/{userId}/pac; omit it for every route.
    path: Annotated[str, Field(pattern=r"^/")] | None = None
    status: Annotated[int, Field(ge=200, le=599)] | None = None
    body: FaultBody | None = None
    headers: dict[
        Annotated[str, Field(pattern=r"^[!#$%&'*+.^_`|~0-9A-Za-z-]+$")],
        Annotated[str, Field(pattern=r"^[\x20-\x7e\t]*$")],
    ] = {}
    latency_ms: int = Field(default=0, ge=0, le=600_000)
    drop: bool = False
    times: int | None = Field(default=None, ge=1)
    probability: float = Field(default=1.0, ge=0.0, le=1.0, allow_inf_nan=False)

    @field_validator("status")
    @classmethod
    def _status_with_body(cls, status: int | None) -> int | None:
        # These statuses carry no body, so Zoom's JSON error could not be sent with them.
        if status in (204, 205, 304):
            raise ValueError("expected a status that carries a body, not 204, 205 or 304")
        return status


class ClockChange(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)

    freeze: bool | None = None
    at: datetime | None = Field(default=None, strict=False)
    advance_seconds: float | None = Field(
        default=None, ge=-MAX_CLOCK_STEP_SECONDS, le=MAX_CLOCK_STEP_SECONDS, allow_inf_nan=False
    )


class UserChange(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)

    pac_enabled: bool | None = None
    status: UserStatus | None = Field(default=None, strict=False)


async def reset(request: Request) -> Response:
    body = await _json_body(request, default={})
    target = body.get("to", "fixture")
    if target not in ("fixture", "empty"):
        raise ControlPlaneError(f"Invalid reset target {target!r}: expected fixture or empty.")
    runtime = _runtime(request)
    await runtime.run_blocking(lambda: runtime.reset(to_fixture=target == "fixture"))
    return JSONResponse({"reset_to": target})


async def load(request: Request) -> Response:
    raw = await _body(request)
    is_json = request.headers.get("content-type", "").startswith("application/json")
    replace = request.query_params.get("replace") == "true"
    runtime = _runtime(request)
    try:
        document = parse_fixture(raw.decode("utf-8"), is_json=is_json)
        await runtime.run_blocking(lambda: runtime.load(document, replace=replace))
    except UnicodeDecodeError as exc:
        raise ControlPlaneError("The fixture is not valid UTF-8.") from exc
    except FixtureError as exc:
        raise ControlPlaneError(f"Cannot load the fixture: {exc}. Nothing was loaded.") from exc
    return JSONResponse({"loaded": True, "accounts": len(document.accounts)})


async def dump(request: Request) -> Response:
    runtime = _runtime(request)
    document = await runtime.run_blocking(export_fixture, runtime.engine)
    content = document.model_dump(mode="json", exclude_none=True)
    export_format = request.query_params.get("format", "json")
    if export_format not in ("json", "yaml"):
        raise ControlPlaneError(f"Invalid format {export_format!r}: expected json or yaml.")
    if export_format == "yaml":
        text = yaml.safe_dump(content, sort_keys=False, allow_unicode=True)
        return Response(text, media_type="application/yaml")
    return JSONResponse(content)


async def read_journal(request: Request) -> Response:
    query = request.query_params
    entries = _runtime(request).journal.query(
        path=query.get("path"),
        status=_int_param(query.get("status"), "status"),
        since=_time_param(query.get("since"), "since"),
        until=_time_param(query.get("until"), "until"),
        limit=_int_param(query.get("limit"), "limit"),
    )
    return JSONResponse({"requests": [entry.to_json() for entry in entries]})


async def clear_journal(request: Request) -> Response:
    _runtime(request).journal.clear()
    return Response(status_code=204)


async def list_faults(request: Request) -> Response:
    faults = _runtime(request).faults.list()
    return JSONResponse({"faults": [fault.describe() for fault in faults]})


async def add_fault(request: Request) -> Response:
    data = await _json_body(request)
    if isinstance(data.get("method"), str):
        data["method"] = data["method"].upper()
    spec = _model(FaultSpec, data)
    if spec.status is None and not spec.drop and not spec.latency_ms:
        raise ControlPlaneError("A fault needs a status, drop: true, or a latency_ms above 0.")
    fields = spec.model_dump()
    fault = _runtime(request).faults.add(**fields)
    return JSONResponse(fault.describe(), status_code=201)


async def remove_fault(request: Request) -> Response:
    if not _runtime(request).faults.remove(request.path_params["fault_id"]):
        raise ControlPlaneError(f"No fault has the id {request.path_params['fault_id']!r}.", 404)
    return Response(status_code=204)


async def clear_faults(request: Request) -> Response:
    _runtime(request).faults.clear()
    return Response(status_code=204)


async def read_clock(request: Request) -> Response:
    return JSONResponse(_clock_state(_runtime(request)))


async def change_clock(request: Request) -> Response:
    change = _model(ClockChange, await _json_body(request))
    runtime = _runtime(request)
    clock = runtime.clock
    saved = clock.state()
    before = clock.timestamp()
    try:
        if change.freeze is True:
            clock.freeze(change.at)
        elif change.at is not None:
            clock.jump_to(change.at)
        if change.freeze is False:
            clock.unfreeze()
        if change.advance_seconds is not None:
            clock.advance(change.advance_seconds)
    except ValueError as exc:
        clock.restore(saved)  # A change applies whole or not at all.
        raise ControlPlaneError(str(exc)) from exc
    after = clock.timestamp()
    if after < before:
        await runtime.run_blocking(runtime.rate_counter.rewind, after)
    return JSONResponse(_clock_state(runtime))


async def read_settings(request: Request) -> Response:
    return JSONResponse(_runtime(request).runtime_settings())


async def change_settings(request: Request) -> Response:
    runtime = _runtime(request)
    try:
        runtime.update_settings(await _json_body(request))
    except ValidationError as exc:
        error = exc.errors()[0]
        name = ".".join(str(part) for part in error["loc"])
        raise ControlPlaneError(f"Invalid value for {name}: {error['msg']}.") from exc
    except ValueError as exc:
        raise ControlPlaneError(str(exc)) from exc
    return JSONResponse(runtime.runtime_settings())


async def change_user(request: Request) -> Response:
    change = _model(UserChange, await _json_body(request))
    runtime = _runtime(request)
    user = await runtime.run_blocking(
        lambda: admin.update_user(
            runtime.engine,
            request.path_params["user_ref"],
            pac_enabled=change.pac_enabled,
            status=change.status,
        )
    )
    return JSONResponse(
        {
            "id": user.id,
            "email": user.email,
            "status": user.status.value,
            "pac_enabled": user.pac_enabled,
        }
    )


def create_control_app(runtime: Runtime, admin_token: str) -> ASGIApp:
    routes = [
        Route("/reset", reset, methods=["POST"]),
        Route("/load", load, methods=["POST"]),
        Route("/state", dump, methods=["GET"]),
        Route("/journal", read_journal, methods=["GET"]),
        Route("/journal", clear_journal, methods=["DELETE"]),
        Route("/faults", list_faults, methods=["GET"]),
        Route("/faults", add_fault, methods=["POST"]),
        Route("/faults", clear_faults, methods=["DELETE"]),
        Route("/faults/{fault_id}", remove_fault, methods=["DELETE"]),
        Route("/clock", read_clock, methods=["GET"]),
        Route("/clock", change_clock, methods=["POST"]),
        Route("/settings", read_settings, methods=["GET"]),
        Route("/settings", change_settings, methods=["PATCH"]),
        Route("/users/{user_ref}", change_user, methods=["PATCH"]),
    ]
    app = Starlette(
        routes=routes,
        exception_handlers={
            ControlPlaneError: _handle_control_error,
            AdminError: _handle_admin_error,
            HTTPException: _handle_http_exception,
            **dict.fromkeys(CONNECTION_ERRORS, handle_connection_error),
            ZoomApiError: handle_zoom_api_error,
            Exception: handle_unexpected,
        },
    )
    app.state.runtime = runtime
    return AdminTokenGuard(app, admin_token)


class AdminTokenGuard:
    """Reject every control-plane request without the admin bearer token."""

    def __init__(self, app: ASGIApp, admin_token: str) -> None:
        self.app = app
        self._expected = f"Bearer {admin_token}".encode()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            presented = dict(scope["headers"]).get(b"authorization", b"")
            if not hmac.compare_digest(presented, self._expected):
                response = zoom_error(
                    401, 401, "Missing or invalid admin token for the control plane."
                )
                await response(scope, receive, send)
                return
        await self.app(scope, receive, send)


def _runtime(request: Request) -> Runtime:
    runtime: Runtime = request.app.state.runtime
    return runtime


async def _body(request: Request) -> bytes:
    body = await request.body()
    if len(body) > MAX_BODY_BYTES:
        raise ControlPlaneError(f"The request body is larger than {MAX_BODY_BYTES} bytes.", 413)
    return body


async def _json_body(request: Request, default: dict[str, Any] | None = None) -> dict[str, Any]:
    raw = await _body(request)
    if not raw.strip() and default is not None:
        return default
    try:
        data = json.loads(raw)
    except ValueError as exc:
        raise ControlPlaneError(f"The request body is not valid JSON: {exc}.") from exc
    if not isinstance(data, dict):
        raise ControlPlaneError("The request body must be a JSON object.")
    return data


def _model(model: type[ModelT], data: dict[str, Any]) -> ModelT:
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        error = exc.errors()[0]
        name = ".".join(str(part) for part in error["loc"]) or "body"
        raise ControlPlaneError(f"Invalid value for {name}: {error['msg']}.") from exc


def _int_param(raw: str | None, name: str) -> int | None:
    if raw is None:
        return None
    if not (raw.isascii() and raw.isdigit()):
        raise ControlPlaneError(f"Invalid {name} {raw!r}: expected a whole number of 0 or more.")
    return int(raw)


def _time_param(raw: str | None, name: str) -> datetime | None:
    if raw is None:
        return None
    try:
        parsed = datetime.fromisoformat(raw.replace("Z", "+00:00"))
    except ValueError as exc:
        raise ControlPlaneError(
            f"Invalid {name} {raw!r}: expected an ISO-8601 time such as 2026-01-01T00:00:00Z."
        ) from exc
    if parsed.tzinfo is None:
        raise ControlPlaneError(f"Invalid {name} {raw!r}: give a time zone, for example Z.")
    return parsed


def _clock_state(runtime: Runtime) -> dict[str, Any]:
    now = runtime.clock.now().isoformat().replace("+00:00", "Z")
    return {"now": now, "frozen": runtime.clock.frozen}


async def _handle_control_error(_request: Request, exc: Exception) -> Response:
    assert isinstance(exc, ControlPlaneError)
    return zoom_error(exc.status_code, exc.status_code, exc.message)


async def _handle_admin_error(_request: Request, exc: Exception) -> Response:
    status = 404 if isinstance(exc, NotFound) else 400
    return zoom_error(status, status, str(exc))


async def _handle_http_exception(_request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    return zoom_error(exc.status_code, exc.status_code, str(exc.detail), exc.headers)
