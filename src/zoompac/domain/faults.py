"""Injected faults: canned errors, added latency or dropped connections for chosen routes."""

from __future__ import annotations

import re
import threading
from dataclasses import dataclass, field
from typing import Any

from zoompac.domain.secrets import chance, random_urlsafe


@dataclass
class Fault:
    """One fault rule. A request it matches gets `status` and `body`, is dropped, or is
    delayed by `latency_ms` and then served normally."""

    id: str
    method: str | None
    path: str | None  # A path template such as /v2/users/{userId}/pac; None matches every route.
    status: int | None = None
    body: dict[str, Any] | None = None
    headers: dict[str, str] = field(default_factory=dict)
    latency_ms: int = 0
    drop: bool = False
    times: int | None = None  # How many more requests it affects; None means no limit.
    probability: float = 1.0
    matched: int = 0
    _pattern: re.Pattern[str] | None = field(default=None, repr=False)

    def __post_init__(self) -> None:
        if self.path is not None:
            self._pattern = compile_path_template(self.path)

    def matches(self, method: str, path: str) -> bool:
        if self.method is not None and self.method != method:
            return False
        return self._pattern is None or self._pattern.fullmatch(path) is not None

    def describe(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "method": self.method,
            "path": self.path,
            "status": self.status,
            "body": self.body,
            "headers": self.headers,
            "latency_ms": self.latency_ms,
            "drop": self.drop,
            "times": self.times,
            "probability": self.probability,
            "matched": self.matched,
        }


def compile_path_template(template: str) -> re.Pattern[str]:
    """Turn `/v2/users/{userId}/pac` into a regex; `{name}` is one segment, `*` anything."""
    pattern = ""
    for part in re.split(r"(\{[^/{}]+\}|\*)", template):
        if part == "*":
            pattern += ".*"
        elif part.startswith("{") and part.endswith("}"):
            pattern += "[^/]+"
        else:
            pattern += re.escape(part)
    return re.compile(pattern)


class FaultRegistry:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._faults: list[Fault] = []

    def __bool__(self) -> bool:
        return bool(self._faults)

    def add(self, **spec: Any) -> Fault:
        fault = Fault(id=random_urlsafe(6), **spec)
        with self._lock:
            self._faults.append(fault)
        return fault

    def list(self) -> list[Fault]:
        with self._lock:
            return list(self._faults)

    def remove(self, fault_id: str) -> bool:
        with self._lock:
            kept = [fault for fault in self._faults if fault.id != fault_id]
            removed = len(kept) != len(self._faults)
            self._faults = kept
        return removed

    def clear(self) -> None:
        with self._lock:
            self._faults.clear()

    def take(self, method: str, path: str) -> Fault | None:
        """Return the first fault that fires for this request, spending one of its `times`."""
        with self._lock:
            for fault in self._faults:
                if not fault.matches(method, path) or not chance(fault.probability):
                    continue
                fault.matched += 1
                if fault.times is not None:
                    fault.times -= 1
                    if fault.times <= 0:
                        self._faults.remove(fault)
                return fault
        return None
