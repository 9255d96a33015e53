"""What the data-size scenarios share: SQL on the stack's databases, topic offsets, progress curves.

(A module starting with ``_`` is not a scenario.) Seeding by SQL and reading counters straight from
the database need the stack this run started: these scenarios set ``NEEDS_LOCAL_SERVICES``.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field

import asyncpg
from aiokafka import AIOKafkaConsumer, TopicPartition

from bench.context import BenchContext


@contextlib.asynccontextmanager
async def database(ctx: BenchContext, name: str) -> AsyncIterator[asyncpg.Connection]:
    """A plain asyncpg connection to one service's database of the local stack."""
    assert ctx.stack is not None, "needs the local stack"
    conn = await asyncpg.connect(ctx.stack.pg.url(name, "postgresql"), command_timeout=None)
    try:
        yield conn
    finally:
        await conn.close()


async def scalar(ctx: BenchContext, db: str, sql: str, *args: object) -> int:
    """One integer from ``sql`` (a count) on database ``db``."""
    async with database(ctx, db) as conn:
        return int(await conn.fetchval(sql, *args) or 0)


@dataclass
class Curve:
    """Samples ``(seconds since start, value)`` of a counter, for a progress plot."""

    started: float
    points: list[tuple[float, float]] = field(default_factory=list)

    def add(self, value: float, at: float | None = None) -> None:
        """Record ``value`` now (or at the ``perf_counter`` instant ``at``)."""
        self.points.append(((at if at is not None else time.perf_counter()) - self.started, float(value)))

    def thinned(self, keep: int = 200) -> list[tuple[float, float]]:
        """At most about ``keep`` points, the last one always kept."""
        if len(self.points) <= keep:
            return list(self.points)
        step = max(1, len(self.points) // keep)
        return [*self.points[::step], self.points[-1]]


async def wait_until(
    check: Callable[[], Awaitable[bool]], *, timeout_s: float, interval_s: float = 0.25
) -> tuple[bool, float]:
    """Poll ``check`` until it is true or ``timeout_s`` passed; return (done, the ``perf_counter`` when it was seen)."""
    deadline = time.perf_counter() + timeout_s
    while True:
        if await check():
            return True, time.perf_counter()
        if time.perf_counter() >= deadline:
            return False, time.perf_counter()
        await asyncio.sleep(interval_s)


def size_label(rows: int) -> str:
    """``10k``, ``100k``, ``1M``, ``10M``."""
    if rows >= 1_000_000 and rows % 1_000_000 == 0:
        return f"{rows // 1_000_000}M"
    if rows >= 1000 and rows % 1000 == 0:
        return f"{rows // 1000}k"
    return str(rows)


class TopicTally:
    """Counts the records of a topic that match ``wanted``, from the topic's end when it started (no group).

    The records are read, not inferred from end offsets: the broker of the local stack (Tansu)
    answers ListOffsets with figures that can trail the records really there, and offsets may also
    hold control markers. ``wanted(value)`` gets each record's value and returns how many items it
    carries (0 to skip it), e.g. 1 per event, or the number of subjects in a sweep command.

    ``follow=False``: nothing is read until ``catch_up``. Reading every record while a scenario runs
    costs the machine it measures (the bench's fetches and parsing, the broker serving them): a
    scenario that knows otherwise when its records are there counts them after its clock stopped.
    """

    def __init__(self, bootstrap: str, topic: str, wanted: Callable[[bytes], int], *, follow: bool = True) -> None:
        self.topic = topic
        self.wanted = wanted
        self.records = 0
        self.items = 0
        self._bootstrap = bootstrap
        self._task: asyncio.Task[None] | None = None
        self._ready = asyncio.Event()
        self._reading = asyncio.Event()
        if follow:
            self._reading.set()
        self._consumer: AIOKafkaConsumer | None = None
        self._started_at: dict[TopicPartition, int] = {}

    async def __aenter__(self) -> TopicTally:
        self._task = asyncio.create_task(self._read())
        ready = asyncio.create_task(self._ready.wait())
        await asyncio.wait({ready, self._task}, timeout=30, return_when=asyncio.FIRST_COMPLETED)
        ready.cancel()
        if self._task.done():
            self._task.result()  # raises what went wrong
        if not self._ready.is_set():
            raise RuntimeError(f"could not start reading {self.topic}")
        return self

    async def __aexit__(self, *exc: object) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    def check(self) -> None:
        """Raise if the reader stopped with an error."""
        if self._task is not None and self._task.done() and not self._task.cancelled():
            self._task.result()

    async def catch_up(self, timeout_s: float) -> bool:
        """Read (and count) every record up to the topic's end as it is now; False if that took over ``timeout_s``."""
        assert self._consumer is not None, "not started"
        consumer = self._consumer
        ends = await consumer.end_offsets(list(self._started_at))
        self._reading.set()

        async def read_to_the_end() -> bool:
            for tp, end in ends.items():
                if await consumer.position(tp) < end:
                    return False
            return True

        done, _ = await wait_until(read_to_the_end, timeout_s=timeout_s, interval_s=0.1)
        self.check()
        return done

    async def _read(self) -> None:
        consumer = AIOKafkaConsumer(bootstrap_servers=self._bootstrap, enable_auto_commit=False)
        await consumer.start()
        try:
            await consumer.topics()
            partitions = consumer.partitions_for_topic(self.topic) or set()
            if not partitions:
                raise RuntimeError(f"topic {self.topic} does not exist")
            assigned = [TopicPartition(self.topic, p) for p in sorted(partitions)]
            consumer.assign(assigned)
            await consumer.seek_to_end(*assigned)
            for tp in assigned:
                self._started_at[tp] = await consumer.position(tp)
            self._consumer = consumer
            self._ready.set()
            await self._reading.wait()
            while True:
                batch = await consumer.getmany(timeout_ms=200, max_records=5000)
                for records in batch.values():
                    for record in records:
                        counted = self.wanted(record.value or b"")
                        if counted:
                            self.records += 1
                            self.items += counted
        finally:
            self._consumer = None
            await consumer.stop()
