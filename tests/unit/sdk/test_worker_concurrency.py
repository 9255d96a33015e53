"""The store worker answers a poll's subjects side by side, each subject's records in order."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from aiokafka import ConsumerRecord

from sdk import Identifiers, Outcome, Store, TaskWorker, WorkerConfig


class Nothing(Store):
    async def erase(self, identifiers: Identifiers) -> Outcome:
        return Outcome.done(0)


def record(key: bytes, offset: int) -> ConsumerRecord[bytes, bytes]:
    return ConsumerRecord("privops.dsar.tasks", 0, offset, 0, 0, key, b"", None, 0, 0, [])  # type: ignore[arg-type]


class Handled:
    """Stands for ``TaskWorker.handle``: notes the order and how many ran at once."""

    def __init__(self) -> None:
        self.order: list[tuple[bytes | None, int]] = []
        self.running = 0
        self.most = 0

    async def __call__(self, record: ConsumerRecord[bytes, bytes]) -> str:
        self.running += 1
        self.most = max(self.most, self.running)
        await asyncio.sleep(0.01)
        self.order.append((record.key, record.offset))
        self.running -= 1
        return "answered"


def worker(concurrency: int, handled: Handled, monkeypatch: pytest.MonkeyPatch) -> TaskWorker:
    config = WorkerConfig(system="crm", bootstrap_servers="127.0.0.1:9", jwt_secret="x" * 32, concurrency=concurrency)
    built = TaskWorker(Nothing(), config)
    monkeypatch.setattr(built, "handle", handled)
    return built


async def test_subjects_side_by_side_up_to_the_limit_each_in_order(monkeypatch: pytest.MonkeyPatch) -> None:
    handled = Handled()
    records = [record(f"acme:s{i % 6}".encode(), i) for i in range(18)]  # six subjects, three records each
    await worker(4, handled, monkeypatch).handle_many(records)
    assert handled.most == 4
    assert sorted(handled.order, key=lambda kv: kv[1]) == [(r.key, r.offset) for r in records]
    for key in {r.key for r in records}:
        offsets = [offset for k, offset in handled.order if k == key]
        assert offsets == sorted(offsets)


async def test_one_at_a_time_when_the_limit_is_one(monkeypatch: pytest.MonkeyPatch) -> None:
    handled = Handled()
    records = [record(f"acme:s{i}".encode(), i) for i in range(5)]
    await worker(1, handled, monkeypatch).handle_many(records)
    assert handled.most == 1
    assert [offset for _, offset in handled.order] == list(range(5))


def test_a_limit_below_one_is_refused() -> None:
    with pytest.raises(ValueError, match="concurrency"):
        WorkerConfig(system="crm", bootstrap_servers="127.0.0.1:9", jwt_secret="x" * 32, concurrency=0)


def test_the_limit_is_read_from_the_environment() -> None:
    env: dict[str, Any] = {
        "PRIVOPS_KAFKA_BOOTSTRAP_SERVERS": "127.0.0.1:9",
        "PRIVOPS_DSAR_URL": "http://127.0.0.1:1",
        "PRIVOPS_JWT_SECRET": "x" * 32,
        "PRIVOPS_CONCURRENCY": "3",
    }
    assert WorkerConfig.from_env("crm", env).concurrency == 3
