"""A store whose tenant's contract ended (its client deleted) still starts: its last answers go out by the broker."""

from __future__ import annotations

from collections.abc import Iterable

import pytest

from sdk import Identifiers, Outcome, Store, SystemRegistration, TaskWorker, WorkerConfig
from sdk.tokens import TokenRefused


class Nothing(Store):
    async def erase(self, identifiers: Identifiers) -> Outcome:
        return Outcome.done(0)


class Refused:
    async def token(self, tenant: str, scopes: Iterable[str]) -> str:
        raise TokenRefused("http://identity/oauth/token answered 401: invalid_client")


class Broken:
    async def token(self, tenant: str, scopes: Iterable[str]) -> str:
        raise RuntimeError("a bug, not a refusal")


def worker(tokens: object) -> TaskWorker:
    config = WorkerConfig(
        system="crm", bootstrap_servers="127.0.0.1:9", dsar_url="http://127.0.0.1:9", token="t", tenants=("ended",)
    )
    built = TaskWorker(Nothing(), config, SystemRegistration(name="CRM", owner="sales"))
    built.tokens = tokens  # type: ignore[assignment]
    return built


async def test_a_refused_registration_does_not_stop_the_store() -> None:
    await worker(Refused()).register(attempts=1)


async def test_any_other_failure_still_stops_it() -> None:
    with pytest.raises(RuntimeError):
        await worker(Broken()).register(attempts=1)
