"""Postman's newman runs Zoom's exported item for `GET /users/{userId}/pac` on a demo server."""

from __future__ import annotations

import copy
import json
import os
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests.server import ServerProcess

pytestmark = pytest.mark.newman

REPO = Path(__file__).resolve().parents[1]
COLLECTION = REPO / "tests" / "newman" / "pac.postman_collection.json"
LOCAL_NEWMAN = REPO / "node_modules" / ".bin" / "newman"
# Zoom's export of the item, as text; shared/ sits beside the repository locally and in CI.
ZOOM_EXPORT_FILE = REPO.parent / "shared" / "seed" / "000_4ed0d8a812972e94.txt"
ITEM_MARKER = "Postman Collection Item JSON\n"
EXPORTED_USER_ID = "quis officia in reprehenderit"

TOKEN_REQUEST = "Get a token"
AS_IS_FOLDER = "Zoom's item as exported"
PAC_USER_FOLDER = "Zoom's item for a PAC user"
NOPAC_USER_FOLDER = "Zoom's item for a user without PAC"
# Three in the token request and four in each folder's script.
ASSERTIONS_PER_RUN = 7


@dataclass(frozen=True)
class Scenario:
    folder: str
    user_id: str | None
    status: int
    body: dict[str, Any] | None  # None: the body of the item's saved 200 example


SCENARIOS = {
    "as-is": Scenario(
        AS_IS_FOLDER,
        None,
        404,
        {"code": 1001, "message": f"User does not exist: {EXPORTED_USER_ID}."},
    ),
    "pac-user": Scenario(PAC_USER_FOLDER, "pac.user@example.com", 200, None),
    "nopac-user": Scenario(
        NOPAC_USER_FOLDER,
        "nopac.user@example.com",
        400,
        {"code": 2024, "message": "User does not have PAC enabled."},
    ),
}


@dataclass(frozen=True)
class NewmanRun:
    returncode: int
    output: str
    report: dict[str, Any]

    @property
    def stats(self) -> dict[str, Any]:
        return dict(self.report["run"]["stats"])

    @property
    def executions(self) -> list[dict[str, Any]]:
        return list(self.report["run"]["executions"])

    def pac_execution(self) -> dict[str, Any]:
        return self.executions[-1]


def load_collection() -> dict[str, Any]:
    return dict(json.loads(COLLECTION.read_text(encoding="utf-8")))


def folder(collection: dict[str, Any], name: str) -> dict[str, Any]:
    matches = [item for item in collection["item"] if item["name"] == name]
    assert len(matches) == 1, f"the collection has {len(matches)} items named {name!r}"
    return dict(matches[0])


def item_from_zoom_export() -> dict[str, Any]:
    assert ZOOM_EXPORT_FILE.is_file(), f"Zoom's exported item is missing: {ZOOM_EXPORT_FILE}"
    text = ZOOM_EXPORT_FILE.read_text(encoding="utf-8")
    return dict(json.loads(text[text.index(ITEM_MARKER) + len(ITEM_MARKER) :]))


def example_200_body() -> Any:
    item = folder(load_collection(), AS_IS_FOLDER)["item"][0]
    [example] = [response for response in item["response"] if response["code"] == 200]
    return json.loads(example["body"])


def find_newman() -> str:
    on_path = shutil.which("newman")
    if on_path is not None:
        return on_path
    if os.access(LOCAL_NEWMAN, os.X_OK):
        return str(LOCAL_NEWMAN)
    pytest.fail(
        f"newman was found neither on PATH nor at {LOCAL_NEWMAN}. "
        "Install it with `npm install` in the repository root (scripts/test does)."
    )


def run_newman(
    server: ServerProcess, report_dir: Path, folder_name: str, user_id: str | None
) -> NewmanRun:
    report_path = report_dir / "report.json"
    command = [
        find_newman(),
        "run",
        str(COLLECTION),
        "--folder",
        TOKEN_REQUEST,
        "--folder",
        folder_name,
        "--env-var",
        f"baseUrl={server.api_url}",
        "--env-var",
        f"tokenUrl={server.token_url}",
        "--reporters",
        "cli,json",
        "--reporter-json-export",
        str(report_path),
        "--color",
        "off",
        "--disable-unicode",
        "--timeout-request",
        "30000",
    ]
    if user_id is not None:
        command += ["--env-var", f"userId={user_id}"]
    completed = subprocess.run(
        command, capture_output=True, text=True, timeout=300, check=False, cwd=report_dir
    )
    output = completed.stdout + completed.stderr
    assert report_path.is_file(), f"newman wrote no JSON report:\n{output}"
    report = json.loads(report_path.read_text(encoding="utf-8"))
    return NewmanRun(completed.returncode, output, report)


@pytest.fixture(scope="module", params=sorted(SCENARIOS))
def scenario_run(
    request: pytest.FixtureRequest,
    demo_server: ServerProcess,
    tmp_path_factory: pytest.TempPathFactory,
) -> tuple[Scenario, NewmanRun]:
    scenario = SCENARIOS[request.param]
    report_dir = tmp_path_factory.mktemp(f"newman-{request.param}")
    return scenario, run_newman(demo_server, report_dir, scenario.folder, scenario.user_id)


def test_exit_code(scenario_run: tuple[Scenario, NewmanRun]) -> None:
    _, run = scenario_run
    assert run.returncode == 0, run.output


def test_assertion_count(scenario_run: tuple[Scenario, NewmanRun]) -> None:
    _, run = scenario_run
    assert run.stats["assertions"]["total"] == ASSERTIONS_PER_RUN, run.output


def test_no_failed_assertion(scenario_run: tuple[Scenario, NewmanRun]) -> None:
    _, run = scenario_run
    assert run.stats["assertions"]["failed"] == 0, run.output


def test_no_failure(scenario_run: tuple[Scenario, NewmanRun]) -> None:
    _, run = scenario_run
    assert run.report["run"]["failures"] == [], run.output


def test_requests_sent(scenario_run: tuple[Scenario, NewmanRun]) -> None:
    _, run = scenario_run
    names = [execution["item"]["name"] for execution in run.executions]
    assert names == [TOKEN_REQUEST, "List a user's PAC accounts"], run.output


def test_request_path(scenario_run: tuple[Scenario, NewmanRun]) -> None:
    scenario, run = scenario_run
    user = scenario.user_id or EXPORTED_USER_ID.replace(" ", "%20")
    path = run.pac_execution()["request"]["url"]["path"]
    assert path == ["v2", "users", user, "pac"]


def test_response_status(scenario_run: tuple[Scenario, NewmanRun]) -> None:
    scenario, run = scenario_run
    assert run.pac_execution()["response"]["code"] == scenario.status


def test_response_body(scenario_run: tuple[Scenario, NewmanRun]) -> None:
    scenario, run = scenario_run
    raw = bytes(run.pac_execution()["response"]["stream"]["data"])
    expected = example_200_body() if scenario.body is None else scenario.body
    assert json.loads(raw) == expected


@pytest.fixture(scope="module")
def wrong_user_run(
    demo_server: ServerProcess, tmp_path_factory: pytest.TempPathFactory
) -> NewmanRun:
    """The PAC-user folder run for a user without PAC: its checks must catch the 400."""
    report_dir = tmp_path_factory.mktemp("newman-wrong-user")
    return run_newman(demo_server, report_dir, PAC_USER_FOLDER, "nopac.user@example.com")


def test_wrong_user_fails_run(wrong_user_run: NewmanRun) -> None:
    assert wrong_user_run.returncode != 0, wrong_user_run.output


def test_wrong_user_fails_assertions(wrong_user_run: NewmanRun) -> None:
    assert wrong_user_run.stats["assertions"]["failed"] == 2, wrong_user_run.output


def test_exported_item_unchanged() -> None:
    item = folder(load_collection(), AS_IS_FOLDER)["item"]
    assert item == [item_from_zoom_export()]


@pytest.mark.parametrize("name", [PAC_USER_FOLDER, NOPAC_USER_FOLDER])
def test_copy_points_at_variable(name: str) -> None:
    [item] = folder(load_collection(), name)["item"]
    assert item["request"]["url"]["variable"][0]["value"] == "{{userId}}"


@pytest.mark.parametrize("name", [PAC_USER_FOLDER, NOPAC_USER_FOLDER])
def test_copy_changes_only_user_id(name: str) -> None:
    collection = load_collection()
    [item] = copy.deepcopy(folder(collection, name)["item"])
    item["request"]["url"]["variable"][0]["value"] = EXPORTED_USER_ID
    assert item == folder(collection, AS_IS_FOLDER)["item"][0]


def test_collection_bearer_auth() -> None:
    auth = load_collection()["auth"]
    assert auth == {
        "type": "bearer",
        "bearer": [{"key": "token", "value": "{{accessToken}}", "type": "string"}],
    }


def test_example_conference_id_string() -> None:
    assert example_200_body()["pac_accounts"][0]["conference_id"] == "111111"
