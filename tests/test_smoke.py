from __future__ import annotations

import httpx

from tests.server import ServerProcess


def test_seed_request_returns_seed_body(demo_server: ServerProcess, demo_token: str) -> None:
    response = httpx.get(
        f"{demo_server.api_url}/users/pac.user@example.com/pac",
        headers={"Authorization": f"Bearer {demo_token}"},
    )
    assert response.status_code == 200
    assert response.json() == {
        "pac_accounts": [
            {
                "dedicated_dial_in_number": [{"number": "123343434", "country": "USA"}],
                "global_dial_in_numbers": [{"number": "434343434", "country": "USA"}],
                "conference_id": "111111",
                "participant_password": "ghdf",
                "listen_only_password": "hkgk",
            }
        ]
    }
