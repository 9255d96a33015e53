"""What every visitor of a tenant sees alike is kept ``shared_cache_s``; a copy is handed out each time."""

from __future__ import annotations

from typing import Any

from services.portal.service.backends import Backends
from tests.integration.portal.fakes import settings


async def test_a_shared_answer_is_kept_for_its_time_and_handed_out_as_a_copy() -> None:
    calls: list[int] = []

    async def load() -> dict[str, Any]:
        calls.append(1)
        return {"name": "Demo SAS", "purposes": ["newsletter"]}

    backends = Backends(settings(shared_cache_s=60))
    first = await backends.shared("brand:demo", load)
    first["purposes"].append("changed by a page")
    second = await backends.shared("brand:demo", load)
    assert len(calls) == 1 and second == {"name": "Demo SAS", "purposes": ["newsletter"]}
    await backends.shared("brand:other", load)
    assert len(calls) == 2  # another tenant's is its own
    await backends.http.aclose()


async def test_with_no_time_every_page_asks_again() -> None:
    calls: list[int] = []

    async def load() -> int:
        calls.append(1)
        return len(calls)

    backends = Backends(settings(shared_cache_s=0))
    assert [await backends.shared("k", load), await backends.shared("k", load)] == [1, 2]
    await backends.http.aclose()
