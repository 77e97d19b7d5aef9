"""Concurrent reads of one user's PAC accounts while the control plane flips the user's PAC setting.

Each read must see one whole state: PAC on (the full 200 body) or PAC off (the 400/2024 body),
whatever the control plane and other clients are doing at that moment.
"""

from __future__ import annotations

import secrets
import threading
from collections import Counter
from collections.abc import Callable
from typing import Any

import httpx

from tests.helpers import FIXTURES_DIR, SEED_BODY, USER_PAC_DISABLED, bearer
from tests.server import ServerProcess

ServerFactory = Callable[..., ServerProcess]

ADMIN_TOKEN = secrets.token_urlsafe(24)
ADMIN = {"Authorization": f"Bearer {ADMIN_TOKEN}"}
PAC_USER = "pac.user@example.com"
READERS = 50
READS_PER_READER = 20
MINTERS = 3
# Apps whose tokens the minting clients request: (client id, client secret, account id).
MINTING_APPS = [
    ("demo-client", "demo-secret", "demo-account"),
    ("control-admin", "control-admin-secret-Q7v", "control-account"),
]
TIMEOUT = httpx.Timeout(60.0)


def test_reads_see_whole_states(start_server: ServerFactory) -> None:
    server = start_server(
        "--demo",
        "--no-rate-limits",
        "--fixture",
        str(FIXTURES_DIR / "control_plane.yaml"),
        env={"ZOOMPAC_ADMIN_TOKEN": ADMIN_TOKEN},
    )
    token = server.token()
    answers: list[tuple[int, Any]] = []
    toggle_statuses: list[int] = []
    mint_statuses: list[int] = []
    failures: list[BaseException] = []
    lock = threading.Lock()
    readers_done = threading.Event()
    start = threading.Barrier(READERS + 1 + MINTERS)

    def read() -> None:
        with httpx.Client(base_url=server.base_url, timeout=TIMEOUT) as client:
            start.wait()
            for _ in range(READS_PER_READER):
                response = client.get(f"/v2/users/{PAC_USER}/pac", headers=bearer(token))
                with lock:
                    answers.append((response.status_code, response.json()))

    def toggle() -> None:
        enabled = True
        with httpx.Client(base_url=server.base_url, headers=ADMIN, timeout=TIMEOUT) as client:
            start.wait()
            while not readers_done.is_set():
                enabled = not enabled
                response = client.patch(f"/zoompac/users/{PAC_USER}", json={"pac_enabled": enabled})
                toggle_statuses.append(response.status_code)

    def mint(index: int) -> None:
        client_id, client_secret, account_id = MINTING_APPS[index % len(MINTING_APPS)]
        with httpx.Client(base_url=server.base_url, timeout=TIMEOUT) as client:
            start.wait()
            while not readers_done.is_set():
                response = client.post(
                    "/oauth/token",
                    auth=(client_id, client_secret),
                    data={"grant_type": "account_credentials", "account_id": account_id},
                )
                with lock:
                    mint_statuses.append(response.status_code)

    def guarded(target: Callable[..., None], *args: int) -> Callable[[], None]:
        def run() -> None:
            try:
                target(*args)
            except BaseException as exc:
                with lock:
                    failures.append(exc)
                start.abort()
                raise

        return run

    readers = [threading.Thread(target=guarded(read)) for _ in range(READERS)]
    others = [threading.Thread(target=guarded(toggle))]
    others += [threading.Thread(target=guarded(mint, index)) for index in range(MINTERS)]
    for thread in readers + others:
        thread.start()
    for thread in readers:
        thread.join()
    readers_done.set()
    for thread in others:
        thread.join()

    statuses = Counter(status for status, _ in answers)
    pac_on = answers.count((200, SEED_BODY))
    pac_off = answers.count((400, USER_PAC_DISABLED))
    other_answers = [
        answer for answer in answers if answer not in ((200, SEED_BODY), (400, USER_PAC_DISABLED))
    ]
    assert failures == []
    assert len(answers) == READERS * READS_PER_READER
    assert statuses[500] == 0
    assert set(statuses) <= {200, 400}
    assert other_answers == []
    assert pac_on > 0
    assert pac_off > 0
    assert len(toggle_statuses) >= 2
    assert set(toggle_statuses) == {200}
    assert len(mint_statuses) >= MINTERS
    assert set(mint_statuses) == {200}
