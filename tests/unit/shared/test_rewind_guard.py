"""After a broker loss the guard runs its ``on_loss`` hook before it places the new marker."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from shared.bus.broker_epoch import RewindGuard


class FakeEpoch:
    def __init__(self, steps: list[str]) -> None:
        self.steps = steps
        self.marker: Any = object()

    async def check(self) -> bool:
        return False

    def lost(self) -> None:
        self.steps.append("lost")

    async def place(self, since: datetime | None) -> None:
        self.steps.append(f"place:{since.isoformat() if since else None}")


class FakeConsumer:
    def assignment(self) -> set[Any]:
        return set()


async def test_the_loss_hook_runs_before_the_new_marker_is_placed() -> None:
    steps: list[str] = []

    async def on_loss() -> None:
        steps.append("on_loss")

    guard = RewindGuard(FakeEpoch(steps), "g", check_interval_s=0, on_loss=on_loss)  # type: ignore[arg-type]
    since = datetime(2026, 3, 2, tzinfo=UTC)
    assert await guard.may_commit(FakeConsumer(), since=since) is False  # type: ignore[arg-type]
    assert steps == ["lost", "on_loss", f"place:{since.isoformat()}"]
    assert guard.losses == 1
