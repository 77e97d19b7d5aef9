"""Generated ids: usable as command-line arguments."""

from __future__ import annotations

from zoompac.domain.secrets import new_identifier, new_user_id, seed_random


def test_identifiers_never_start_with_dash() -> None:
    # About one id in 64 would start with "-" if the generator did not redraw it.
    seed_random(7)
    try:
        identifiers = [new_identifier() for _ in range(5000)] + [new_user_id() for _ in range(5000)]
    finally:
        seed_random(None)

    assert [i for i in identifiers if i.startswith("-")] == []
    assert {len(i) for i in identifiers} == {22}
