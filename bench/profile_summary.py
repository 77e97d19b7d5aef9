"""Summarise a py-spy `--format raw` profile, in % of samples, to show where the time goes.

Each input line is `frame;frame;...;leaf count`, root first, a frame being `function (file)` as
`py-spy record --nolineno` writes it. The summary has four tables:
- phases: each sample counted once, by what the request was doing (SQLAlchemy is split into
  building statements, cache keys, compiling, SQLite's execute, result handling and the pool);
- zoompac functions, inclusive (the function and all it calls);
- self time per function (its own code and any C code it calls, such as SQLite in `do_execute`);
- self time per library, where standard-library frames count for the library that called them.

    python bench/profile_summary.py bench/results/profile-...-by_id.txt [--top 25]
"""

from __future__ import annotations

import argparse
import re
from collections import Counter
from pathlib import Path

_FRAME = re.compile(r"^(?P<function>.*) \((?P<file>[^()]*)\)$")

# Library of a frame, by the start of its file path as py-spy prints it.
_LIBRARIES = [
    ("sqlalchemy/", "SQLAlchemy"),
    ("jwt/", "PyJWT"),
    ("starlette/", "Starlette"),
    ("uvicorn/", "uvicorn"),
    ("zoompac/", "zoompac"),
    ("orjson", "orjson"),
    ("uvloop", "uvloop"),
    ("httptools", "httptools"),
    ("pydantic", "pydantic"),
]
STDLIB = "Python standard library"

# SQLAlchemy entry points, the first SQLAlchemy frame under zoompac code, that do not run a query.
_POOL_ENTRIES = ("Engine.connect", "Engine.begin", "Connection.__exit__", "Connection.close")
_RESULT_ENTRIES = ("Result.", "CursorResult.", "Row.", "ScalarResult.", "MappingResult.")
# Leaf frames of a thread that waits for work. py-spy reports some of them as active, for example
# an idle worker thread of anyio's pool blocked in Queue.get.
_IDLE_LEAVES = (
    "Condition.wait (threading.py)",
    "Event.wait (threading.py)",
    "Queue.get (queue.py)",
)
# The outermost frame of a complete stack: the main module, or a thread's bootstrap.
_ROOTS = ("_run_module_as_main", "<module>", "Thread._bootstrap")
# Frames seen only when SQLAlchemy compiles a statement afresh, not on a compiled-cache hit.
_COMPILING = re.compile(r"(SQLCompiler|Compiled)\.__init__|\.visit_")


def parse(text: str) -> tuple[list[tuple[list[str], int]], int]:
    """Return the busy stacks with their sample counts, and the number of idle samples left out."""
    stacks = []
    idle = 0
    for line in text.splitlines():
        stack, _, count = line.rstrip().rpartition(" ")
        if not stack or not count.isdigit():
            continue
        frames = stack.split(";")
        if frames[-1].startswith(_IDLE_LEAVES):
            idle += int(count)
        else:
            stacks.append((frames, int(count)))
    return stacks, idle


def file_of(frame: str) -> str:
    match = _FRAME.match(frame)
    return match.group("file") if match else ""


def library_of(frame: str) -> str:
    path = file_of(frame)
    for prefix, name in _LIBRARIES:
        if path.startswith(prefix) or f"/{prefix}" in path:
            return name
    return STDLIB


def owning_library(frames: list[str]) -> str:
    """Return the library of the leaf, or of its nearest caller outside the standard library."""
    for frame in reversed(frames):
        library = library_of(frame)
        if library != STDLIB:
            return library
    return STDLIB


def phase_of(frames: list[str]) -> str:
    """Return the phase that one sampled stack belongs to. Every sample gets exactly one phase."""
    if not frames[0].startswith(_ROOTS):
        return "unattributed: partial stack (py-spy --nonblocking read it while it changed)"
    if not any("run_asgi" in frame for frame in frames):
        return "uvicorn and the event loop outside the app (HTTP parsing, socket writes)"
    entry = _sqlalchemy_entry(frames)
    if entry is not None:
        below = frames[entry:]
        name = _FRAME.match(frames[entry])
        function = name.group("function") if name else frames[entry]
        if function.startswith(_POOL_ENTRIES):
            return "SQLAlchemy: connection checkout and return (pool, events)"
        if function.startswith(_RESULT_ENTRIES):
            return "SQLAlchemy: fetching rows and building Row objects"
        if function.startswith("Connection.execute"):
            if any(_COMPILING.search(frame) for frame in below):
                return "SQLAlchemy: compiling SQL (compiled-cache misses)"
            if any("_generate_cache_key" in frame for frame in below):
                return "SQLAlchemy: statement cache key"
            if any("do_execute" in frame for frame in below):
                return "SQLite: running the query (DB-API cursor.execute)"
            if any("_compile_w_cache" in frame for frame in below):
                return "SQLAlchemy: compiled-cache lookup"
            return "SQLAlchemy: execution context (bind parameters, cursor, result metadata)"
        return "SQLAlchemy: building statements (select, where, ==)"
    library = owning_library(frames)
    if library == "PyJWT":
        return "PyJWT: decoding and verifying the token"
    if library == "zoompac":
        return "zoompac's own code (routes, domain, row mapping, middleware)"
    if library in ("Starlette", "uvicorn"):
        return f"{library} inside the app (routing, request, response, middleware)"
    return f"{library} (other)"


def _sqlalchemy_entry(frames: list[str]) -> int | None:
    """Return the index of the first SQLAlchemy frame called straight from zoompac code, if any."""
    for index in range(1, len(frames)):
        if library_of(frames[index]) == "SQLAlchemy" and library_of(frames[index - 1]) == "zoompac":
            return index
    return None


def summarise(text: str, top: int = 25) -> str:
    stacks, idle = parse(text)
    total = sum(count for _, count in stacks)
    if total == 0:
        return "no samples"
    phases: Counter[str] = Counter()
    zoompac_inclusive: Counter[str] = Counter()
    own: Counter[str] = Counter()
    libraries: Counter[str] = Counter()
    for frames, count in stacks:
        phases[phase_of(frames)] += count
        for frame in set(frames):
            if library_of(frame) == "zoompac" and not file_of(frame).startswith("zoompac/cli/"):
                zoompac_inclusive[frame] += count
        own[frames[-1]] += count
        libraries[owning_library(frames)] += count

    def table(counter: Counter[str], limit: int) -> list[str]:
        return [f"{100 * n / total:5.1f} %  {name}" for name, n in counter.most_common(limit)]

    return "\n".join(
        [
            f"{total} samples of busy threads ({idle} samples of idle threads left out)",
            "",
            "Phases (each sample counted once):",
            *table(phases, len(phases)),
            "",
            "zoompac functions, inclusive (the function and all it calls):",
            *table(zoompac_inclusive, top),
            "",
            "Self time per function (its own code and the C code it calls):",
            *table(own, top),
            "",
            "Self time per library (standard-library frames count for their caller):",
            *table(libraries, len(libraries)),
        ]
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("profile", type=Path)
    parser.add_argument("--top", type=int, default=25)
    args = parser.parse_args()
    print(summarise(args.profile.read_text(), args.top))


if __name__ == "__main__":
    main()
