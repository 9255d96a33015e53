"""What every visitor of a tenant sees alike is kept ``shared_cache_s``; a copy is handed out each time."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from services.portal.service.backends import BackendError, Backends
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


async def test_visitors_arriving_together_wait_for_one_load() -> None:
    calls: list[int] = []
    release = asyncio.Event()

    async def load() -> int:
        calls.append(1)
        await release.wait()
        return 7

    backends = Backends(settings(shared_cache_s=60))
    waiting = [asyncio.create_task(backends.shared("k", load)) for _ in range(10)]
    await asyncio.sleep(0)
    release.set()
    assert await asyncio.gather(*waiting) == [7] * 10 and len(calls) == 1
    await backends.http.aclose()


async def test_once_due_the_kept_answer_is_shown_while_one_load_renews_it() -> None:
    clock = [1000.0]
    answers = iter([1, 2])
    release = asyncio.Event()

    async def load() -> int:
        value = next(answers)
        if value == 2:
            await release.wait()
        return value

    backends = Backends(settings(shared_cache_s=10))
    backends.monotonic = lambda: clock[0]
    assert await backends.shared("k", load) == 1
    clock[0] += 12  # due: the kept answer is still shown, and one renewal starts
    assert [await backends.shared("k", load) for _ in range(5)] == [1] * 5
    release.set()
    await asyncio.sleep(0.01)
    assert await backends.shared("k", load) == 2
    clock[0] += 25  # past twice its time: too old to show, the visitor waits for a fresh load
    answers = iter([3])
    assert await backends.shared("k", load) == 3
    await backends.http.aclose()


async def test_a_failed_load_reaches_its_visitor_and_the_next_one_asks_again() -> None:
    calls: list[int] = []

    async def load() -> int:
        calls.append(1)
        if len(calls) == 1:
            raise BackendError(503, "down")
        return 5

    backends = Backends(settings(shared_cache_s=60))
    with pytest.raises(BackendError):
        await backends.shared("k", load)
    assert await backends.shared("k", load) == 5 and len(calls) == 2
    await backends.http.aclose()
