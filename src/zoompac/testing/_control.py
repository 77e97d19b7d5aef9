"""A client of the control plane under `/zoompac/`."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any

import httpx


class ControlPlaneError(Exception):
    """The control plane rejected a request."""

    def __init__(self, response: httpx.Response) -> None:
        try:
            message = str(response.json().get("message", response.text))
        except ValueError:
            message = response.text[:200]
        super().__init__(f"Control plane returned HTTP {response.status_code}: {message}")
        self.response = response


class ControlPlane:
    """Steer a zoompac server: reset, load, dump, journal, faults, clock, settings and users."""

    def __init__(self, http: httpx.Client) -> None:
        self._http = http

    def reset(self, to: str = "fixture") -> None:
        """Restore data, counters, journal, faults, clock and settings; `to` is fixture or empty."""
        self._call("POST", "/reset", json={"to": to})

    def load(self, fixture: str | Path | dict[str, Any], *, replace: bool = False) -> None:
        """Load a fixture: a file path, a YAML or JSON text, or a parsed document."""
        params = {"replace": "true"} if replace else {}
        if isinstance(fixture, dict):
            self._call("POST", "/load", json=fixture, params=params)
            return
        text = Path(fixture).read_text(encoding="utf-8") if isinstance(fixture, Path) else fixture
        self._call("POST", "/load", content=text.encode(), params=params)

    def dump(self) -> dict[str, Any]:
        data: dict[str, Any] = self._call("GET", "/state").json()
        return data

    def journal(
        self,
        *,
        path: str | None = None,
        status: int | None = None,
        since: datetime | None = None,
        until: datetime | None = None,
        limit: int | None = None,
    ) -> list[dict[str, Any]]:
        params: dict[str, str] = {}
        if path is not None:
            params["path"] = path
        if status is not None:
            params["status"] = str(status)
        if since is not None:
            params["since"] = since.isoformat()
        if until is not None:
            params["until"] = until.isoformat()
        if limit is not None:
            params["limit"] = str(limit)
        entries: list[dict[str, Any]] = self._call("GET", "/journal", params=params).json()[
            "requests"
        ]
        return entries

    def clear_journal(self) -> None:
        self._call("DELETE", "/journal")

    def add_fault(self, **spec: Any) -> dict[str, Any]:
        """Add a fault, e.g. `add_fault(path="/v2/users/{userId}/pac", status=503, times=1)`."""
        fault: dict[str, Any] = self._call("POST", "/faults", json=spec).json()
        return fault

    def faults(self) -> list[dict[str, Any]]:
        faults: list[dict[str, Any]] = self._call("GET", "/faults").json()["faults"]
        return faults

    def remove_fault(self, fault_id: str) -> None:
        self._call("DELETE", f"/faults/{fault_id}")

    def clear_faults(self) -> None:
        self._call("DELETE", "/faults")

    def now(self) -> datetime:
        return datetime.fromisoformat(
            self._call("GET", "/clock").json()["now"].replace("Z", "+00:00")
        )

    def freeze_clock(self, at: datetime | None = None) -> None:
        body: dict[str, Any] = {"freeze": True}
        if at is not None:
            body["at"] = at.isoformat()
        self._call("POST", "/clock", json=body)

    def unfreeze_clock(self) -> None:
        self._call("POST", "/clock", json={"freeze": False})

    def advance_clock(self, seconds: float) -> None:
        self._call("POST", "/clock", json={"advance_seconds": seconds})

    def settings(self, **changes: Any) -> dict[str, Any]:
        """Change run-time settings, e.g. `settings(rate_limit=["pro.light=2"])`; returns all."""
        if changes:
            result: dict[str, Any] = self._call("PATCH", "/settings", json=changes).json()
        else:
            result = self._call("GET", "/settings").json()
        return result

    def update_user(
        self, user: str, *, pac_enabled: bool | None = None, status: str | None = None
    ) -> dict[str, Any]:
        body = {
            name: value
            for name, value in (("pac_enabled", pac_enabled), ("status", status))
            if value is not None
        }
        updated: dict[str, Any] = self._call("PATCH", f"/users/{user}", json=body).json()
        return updated

    def _call(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        response = self._http.request(method, path, **kwargs)
        if response.status_code >= 400:
            raise ControlPlaneError(response)
        return response
