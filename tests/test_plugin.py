"""The pytest plugin, exercised by the example test suite through pytester."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from tests.server import ServerProcess

EXAMPLE = Path(__file__).parent.parent / "examples" / "testing"
EXAMPLE_TESTS = 5
CONTROL_PLANE_TESTS = 4


@pytest.fixture
def example_suite(pytester: pytest.Pytester) -> pytest.Pytester:
    for name in ("pac_report.py", "test_pac_report.py"):
        shutil.copy(EXAMPLE / name, pytester.path / name)
    return pytester


@pytest.mark.parametrize("target", ["server", "inprocess"])
def test_example_suite_passes(example_suite: pytest.Pytester, target: str) -> None:
    result = example_suite.runpytest_subprocess(
        "--zoompac-target", target, "-p", "no:cacheprovider"
    )

    result.assert_outcomes(passed=EXAMPLE_TESTS)


def test_zoom_target_skips_control_plane_tests(
    example_suite: pytest.Pytester, demo_server: ServerProcess, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A separate zoompac process stands in for real Zoom: the plugin must start no server and
    # send every request to the URLs from the environment.
    monkeypatch.setenv("ZOOM_ACCOUNT_ID", "demo-account")
    monkeypatch.setenv("ZOOM_CLIENT_ID", "demo-client")
    monkeypatch.setenv("ZOOM_CLIENT_SECRET", "demo-secret")
    monkeypatch.setenv("ZOOM_BASE_URL", demo_server.api_url)
    monkeypatch.setenv("ZOOM_TOKEN_URL", demo_server.token_url)

    result = example_suite.runpytest_subprocess(
        "--zoompac-target", "zoom", "-p", "no:cacheprovider"
    )

    result.assert_outcomes(passed=EXAMPLE_TESTS - CONTROL_PLANE_TESTS, skipped=CONTROL_PLANE_TESTS)


def test_zoom_target_without_credentials_fails(
    example_suite: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in ("ZOOM_ACCOUNT_ID", "ZOOM_CLIENT_ID", "ZOOM_CLIENT_SECRET"):
        monkeypatch.delenv(name, raising=False)

    result = example_suite.runpytest_subprocess(
        "--zoompac-target", "zoom", "-p", "no:cacheprovider", "-k", "lists_conference_ids"
    )

    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines(["*--zoompac-target zoom needs ZOOM_ACCOUNT_ID*"])


def test_state_is_reset_between_tests(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        """
        def test_first_turns_pac_off(zoompac):
            zoompac.update_user("pac.user@example.com", pac_enabled=False)

        def test_second_sees_pac_on(zoom_http, zoom_token):
            response = zoom_http.get(
                "/users/pac.user@example.com/pac",
                headers={"Authorization": f"Bearer {zoom_token}"},
            )
            assert response.status_code == 200
        """
    )

    result = pytester.runpytest_subprocess("-p", "no:cacheprovider")

    result.assert_outcomes(passed=2)


def test_server_and_inprocess_share_state(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        """
        import httpx

        def test_shared(zoompac_server, zoom_api, zoom_http, zoom_token):
            assert zoom_api.target == "inprocess"
            zoompac_server.control.update_user("pac.user@example.com", pac_enabled=False)
            response = zoom_http.get(
                "/users/pac.user@example.com/pac",
                headers={"Authorization": f"Bearer {zoom_token}"},
            )
            assert response.json()["code"] == 2024
            over_http = httpx.get(
                zoom_api.api_url + "/users/pac.user@example.com/pac",
                headers={"Authorization": f"Bearer {zoom_token}"},
            )
            assert over_http.json()["code"] == 2024
        """
    )

    result = pytester.runpytest_subprocess(
        "--zoompac-target", "inprocess", "-p", "no:cacheprovider"
    )

    result.assert_outcomes(passed=1)
