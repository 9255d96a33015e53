"""The pools' queues serve waiters first come, first served; nothing handed over is lost."""

from __future__ import annotations

import asyncio

import pytest
from sqlalchemy.util.concurrency import greenlet_spawn
from sqlalchemy.util.queue import Empty

from shared.runtime.pool import FairQueue, _FairHolderQueue


class Holder(str):
    """A stand-in for asyncpg's connection holder."""

    def is_connected(self) -> bool:
        return True


CONN, A, B = Holder("conn"), Holder("a"), Holder("b")


async def _settle() -> None:
    for _ in range(5):
        await asyncio.sleep(0)


async def test_a_connection_handed_back_goes_to_the_oldest_waiter_not_to_a_newcomer() -> None:
    queue: _FairHolderQueue = _FairHolderQueue(maxsize=1)
    queue.put_nowait(CONN)
    assert await queue.get() == "conn"
    served: list[str] = []

    async def take(name: str) -> None:
        served.append(f"{name}:{await queue.get()}")
        queue.put_nowait(CONN)

    first = asyncio.create_task(take("first"))
    second = asyncio.create_task(take("second"))
    await _settle()
    queue.put_nowait(CONN)
    # A request arriving now, before the woken waiter runs, must line up behind both waiters.
    newcomer = asyncio.create_task(take("newcomer"))
    await asyncio.gather(first, second, newcomer)
    assert served == ["first:conn", "second:conn", "newcomer:conn"]
    assert await queue.get() == "conn"


async def test_an_idle_connection_is_taken_at_once_when_nobody_waits() -> None:
    queue: _FairHolderQueue = _FairHolderQueue(maxsize=2)
    queue.put_nowait(A)
    queue.put_nowait(B)
    assert {await queue.get(), await queue.get()} == {"a", "b"}


async def test_a_cancelled_waiter_passes_on_what_it_was_handed() -> None:
    queue: _FairHolderQueue = _FairHolderQueue(maxsize=1)
    cancelled = asyncio.create_task(queue.get())
    behind = asyncio.create_task(queue.get())
    await _settle()
    queue.put_nowait(CONN)  # handed to ``cancelled``, which is cancelled before it runs
    cancelled.cancel()
    assert await behind == "conn"
    assert cancelled.cancelled()


async def test_the_orm_pool_queue_is_fair_and_times_out_as_sqlalchemy_expects() -> None:
    queue: FairQueue[str] = FairQueue(maxsize=1)
    queue.put_nowait("conn")
    assert await greenlet_spawn(queue.get, True, 1.0) == "conn"
    order: list[str] = []

    async def take(name: str) -> None:
        order.append(f"{name}:{await greenlet_spawn(queue.get, True, 5.0)}")
        queue.put_nowait("conn")

    waiter = asyncio.create_task(take("waiter"))
    await _settle()
    queue.put_nowait("conn")
    with pytest.raises(Empty):  # a newcomer asking before the waiter runs finds nothing idle
        queue.get(block=False)
    newcomer = asyncio.create_task(take("newcomer"))
    await asyncio.gather(waiter, newcomer)
    assert order == ["waiter:conn", "newcomer:conn"]

    assert await greenlet_spawn(queue.get, True, 1.0) == "conn"
    with pytest.raises(Empty):
        await greenlet_spawn(queue.get, True, 0.05)
    with pytest.raises(Empty):
        queue.get(block=False)
    queue.put_nowait("conn")  # the timed-out waiter left the line: the connection stays idle
    assert queue.qsize() == 1
